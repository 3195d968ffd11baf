"""Seed 000's two Flask servers (cust_server.py, sales_server.py), each built from Settings and a data source."""

from __future__ import annotations

from collections.abc import Sized

from flask import jsonify
from flask_openapi3 import OpenAPI

from salesmcp.api import seed_customers as customer_routes
from salesmcp.api import seed_sales as sales_routes
from salesmcp.api.common import create_base_app
from salesmcp.config import Settings
from salesmcp.store.base import CustomerReader, SalesReader
from salesmcp.store.csv_store import CsvCustomers, CsvSales


def _add_health(app: OpenAPI, name: str, rows: int) -> None:
    @app.get("/health", summary="Liveness: the server is up and its data is loaded")
    def health():
        return jsonify({"status": "ok", "service": name, "rows": rows})


def create_customer_app(settings: Settings | None = None, customers: CustomerReader | None = None) -> OpenAPI:
    """Seed 000's customer API (cust_server.py), on customers.csv unless a source is given."""
    settings = settings or Settings()
    customers = customers if customers is not None else CsvCustomers(settings.customers_csv)
    app = create_base_app("salesmcp customer API", "Seed 000 customer lookups")
    app.extensions["salesmcp.customers"] = customers
    app.register_api(customer_routes.bp)
    _add_health(app, "customers", len(customers) if isinstance(customers, Sized) else -1)
    return app


def create_sales_app(settings: Settings | None = None, sales: SalesReader | None = None) -> OpenAPI:
    """Seed 000's sales API (sales_server.py), on sales.csv unless a source is given."""
    settings = settings or Settings()
    sales = sales if sales is not None else CsvSales(settings.sales_csv)
    app = create_base_app("salesmcp sales API", "Seed 000 sales in a date range")
    app.extensions["salesmcp.sales"] = sales
    app.register_api(sales_routes.bp)
    _add_health(app, "sales", len(sales) if isinstance(sales, Sized) else -1)
    return app
