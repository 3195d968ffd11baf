"""Business rules, free of HTTP, MCP and CLI concerns."""
