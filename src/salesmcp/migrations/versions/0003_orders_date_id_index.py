"""Orders by date carry their id: a date range's count and first id come from the index alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_order_date_id", "orders", ["order_date", "id"])
    op.drop_index("ix_orders_order_date", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_order_date", "orders", ["order_date"])
    op.drop_index("ix_orders_order_date_id", table_name="orders")
