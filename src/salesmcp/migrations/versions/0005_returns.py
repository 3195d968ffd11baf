"""Returns and refunds: goods sent back after delivery and the money given back for them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("order_item_id", BIG_ID, nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("refund", MONEY, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("returned_at", sa.DateTime, nullable=False),
        sa.Column("refunded_at", sa.DateTime),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_returns_quantity")),
        sa.CheckConstraint("refund >= 0", name=op.f("ck_returns_refund")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_returns_order_id_orders"),
        sa.ForeignKeyConstraint(["order_item_id"], ["order_items.id"], name="fk_returns_order_item_id_order_items"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_returns_product_id_products"),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id"])
    op.create_index("ix_returns_order_item_id", "returns", ["order_item_id"], unique=True)
    op.create_index("ix_returns_product_id", "returns", ["product_id"])


def downgrade() -> None:
    op.drop_table("returns")
