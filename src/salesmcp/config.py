"""Settings from the environment, then a ``.env`` file in the working directory, then defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(__file__).resolve().parent / "data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every knob of salesmcp; each field is read from the environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    customers_csv: Path = Field(DATA_DIR / "customers.csv", description="customers.csv for the customer API")
    sales_csv: Path = Field(DATA_DIR / "sales.csv", description="sales.csv for the sales API")
    host: str = Field("127.0.0.1", description="interface the servers bind to")
    customer_api_port: int = Field(5001, ge=1, le=65535)
    sales_api_port: int = Field(5002, ge=1, le=65535)
    customer_api_url: str = Field("http://127.0.0.1:5001", description="customer API used by mcp_server.py")
    sales_api_url: str = Field("http://127.0.0.1:5002", description="sales API used by mcp_server.py")
    api_timeout: float = Field(10.0, gt=0, description="seconds the MCP server waits for an API")
    web_threads: int = Field(8, ge=1, le=256, description="worker threads of each HTTP server")
    log_level: str = "INFO"
    debug: bool = False

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("customer_api_url", "sales_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
