"""The unified schema: customers, products, orders, order_items, payments, shipments, generation_runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)
CUSTID = sa.String(32).with_variant(mysql.VARCHAR(32, collation="utf8mb4_bin"), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("custid", CUSTID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("first_name", sa.String(100)),
        sa.Column("last_name", sa.String(100)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(50)),
        sa.Column("city", sa.String(100)),
        sa.Column("country", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime, nullable=False, server_default=NOW),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_customers_status")),
        sa.UniqueConstraint("custid", name="uq_customers_custid"),
        sa.UniqueConstraint("email", name="uq_customers_email"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_customers_city", "customers", ["city"])
    if op.get_bind().dialect.name in ("sqlite", "postgresql"):  # MySQL/MariaDB match cities by their collation
        op.create_index("ix_customers_lower_city", "customers", [sa.text("lower(city)")])

    op.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(100)),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("stock", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=NOW),
        sa.UniqueConstraint("sku", name="uq_products_sku"),
    )

    op.create_table(
        "orders",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="PLACED"),
        sa.Column("subtotal", MONEY, nullable=False),
        sa.Column("tax", MONEY, nullable=False, server_default="0"),
        sa.Column("shipping_fee", MONEY, nullable=False, server_default="0"),
        sa.Column("total", MONEY, nullable=False),
        sa.CheckConstraint(
            "status IN ('PLACED', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED')", name=op.f("ck_orders_status")
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_orders_customer_id_customers"),
    )
    op.create_index("ix_orders_order_date", "orders", ["order_date"])
    # Covers revenue per customer over a period: the status and total come from the index itself.
    op.create_index(
        "ix_orders_customer_id_order_date_status_total", "orders", ["customer_id", "order_date", "status", "total"]
    )

    child_tables: tuple[tuple[str, list[sa.schema.SchemaItem]], ...] = (
        (
            "order_items",
            [
                sa.Column("product_id", sa.Integer, nullable=False),
                sa.Column("quantity", sa.Integer, nullable=False),
                sa.Column("unit_price", MONEY, nullable=False),
                sa.Column("line_total", MONEY, nullable=False),
                sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_order_items_product_id_products"),
            ],
        ),
        (
            "payments",
            [
                sa.Column("method", sa.String(32), nullable=False),
                sa.Column("amount", MONEY, nullable=False),
                sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
                sa.Column("paid_at", sa.DateTime),
                sa.Column("txn_ref", sa.String(64)),
            ],
        ),
        (
            "shipments",
            [
                sa.Column("carrier", sa.String(64)),
                sa.Column("tracking_no", sa.String(64)),
                sa.Column("shipped_at", sa.DateTime),
                sa.Column("delivered_at", sa.DateTime),
                sa.Column("status", sa.String(16), nullable=False),
            ],
        ),
    )
    for name, columns in child_tables:
        op.create_table(
            name,
            sa.Column("id", BIG_ID, primary_key=True),
            sa.Column("order_id", BIG_ID, nullable=False),
            *columns,
            sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=f"fk_{name}_order_id_orders"),
        )
        op.create_index(f"ix_{name}_order_id", name, ["order_id"])
    op.create_index("ix_order_items_product_id", "order_items", ["product_id"])

    op.create_table(
        "generation_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seed", sa.BigInteger),
        sa.Column("rows_requested", sa.Integer, nullable=False),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("locale", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counts", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("started_at", sa.DateTime, nullable=False, server_default=NOW),
        sa.Column("finished_at", sa.DateTime),
    )


def downgrade() -> None:
    for table in ("generation_runs", "order_items", "payments", "shipments", "orders", "products", "customers"):
        op.drop_table(table)
