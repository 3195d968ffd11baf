"""Generation runs as jobs: the request, its fingerprint, id bases and a heartbeat.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_runs") as batch:
        batch.add_column(sa.Column("run_key", sa.String(64)))
        batch.add_column(sa.Column("mode", sa.String(16)))
        batch.add_column(sa.Column("params", sa.JSON))
        batch.add_column(sa.Column("bases", sa.JSON))
        batch.add_column(sa.Column("deferred_indexes", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime))
        batch.add_column(sa.Column("worker", sa.String(120)))
        batch.create_unique_constraint("uq_generation_runs_run_key", ["run_key"])


def downgrade() -> None:
    with op.batch_alter_table("generation_runs") as batch:
        batch.drop_constraint("uq_generation_runs_run_key", type_="unique")
        for column in ("worker", "heartbeat_at", "deferred_indexes", "bases", "params", "mode", "run_key"):
            batch.drop_column(column)
