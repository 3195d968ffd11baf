"""salesmcp: ask an AI assistant about customers and sales over REST, MCP and a CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("salesmcp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
