"""A generation run records the defects it made on purpose (the flaws parameter), per kind.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("generation_runs", sa.Column("flaws", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("generation_runs", "flaws")
