"""The main server's ASGI app and what wraps every request: auth and scopes, rate limits, CORS, the access
log, Prometheus telemetry and the OpenAPI document's hooks."""
