"""The metrics layer: a catalogue of governed metrics and dimensions (``catalogue``), compiled to SQL per
dialect (``sql``) and asked by ``query_metrics`` and ``dimension_values`` (``query``); charts (``charts``)."""

from salesmcp.services.analytics.catalogue import DIMENSIONS, METRICS, catalogue
from salesmcp.services.analytics.query import DEFAULT_LIMIT, MAX_LIMIT, dimension_values, query_metrics

__all__ = ["DEFAULT_LIMIT", "DIMENSIONS", "MAX_LIMIT", "METRICS", "catalogue", "dimension_values", "query_metrics"]
