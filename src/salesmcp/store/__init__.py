"""Data access: CSV files in memory, the seed 000 APIs over HTTP, and (later) SQL databases."""

from salesmcp.store.base import CustomerReader, RevenueSource, SalesReader, city_key

__all__ = ["CustomerReader", "RevenueSource", "SalesReader", "city_key"]
