"""Settings from the environment, then a ``.env`` file in the working directory, then defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from salesmcp.errors import InvalidInput
from salesmcp.scopes import ADMIN, ApiToken, expand, parse_api_tokens

DATA_DIR = Path(__file__).resolve().parent / "data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
ANALYTICS_ENGINES = ("duckdb", "database")
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_ORIGIN = re.compile(r"https?://[^/\s,*]+/?")


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
    log_format: str = Field("text", description="text (readable lines) or json (one object per line, with request_id)")
    debug: bool = Field(False, description="debug mode: LOG_LEVEL=DEBUG unless LOG_LEVEL is set")

    # The database (seed 001 / 002): DATABASE_URL wins, then MYSQL_HOST and friends, then DB_PATH.
    database_url: str | None = Field(None, description="SQLAlchemy URL: sqlite:///…, mysql://…, postgresql://…")
    db_path: Path = Field(Path("data") / "customers.db", description="SQLite file when no other database is set")
    mysql_host: str | None = None
    mysql_port: int = Field(3306, ge=1, le=65535)
    mysql_user: str = "root"
    mysql_password: str = ""
    mysql_database: str = "mcp_dummy"
    seed_demo_data: bool = Field(True, description="fill a new, empty database with the demo data")
    analytics_engine: str = Field(
        "duckdb", description="duckdb: the metrics read a columnar copy kept in step; database: the database itself"
    )
    analytics_dir: Path | None = Field(None, description="folder of the columnar copies (default: the temp folder)")
    analytics_memory: str = Field("1GB", description="the most memory the columnar engine may use (DuckDB units)")

    # The read-only SQL tool (run_sql, describe_schema, POST /sql, GET /schema, salesmcp sql).
    sql_tool: bool = Field(True, description="serve the read-only SQL tool; false removes its tools and routes")
    sql_timeout: float = Field(10.0, gt=0, le=3600, description="seconds one SQL statement may run")
    sql_max_rows: int = Field(1000, ge=1, le=100_000, description="the most rows one SQL answer may ask for")
    read_database_url: str | None = Field(
        None, description="a login that can only read, used by the SQL tool alone (default: DATABASE_URL's)"
    )

    # The main server (REST + MCP over Streamable HTTP): PORT (seed 001, Cloud Run) or API_PORT (seed 002).
    port: int | None = Field(None, ge=1, le=65535)
    api_port: int | None = Field(None, ge=1, le=65535)
    allowed_hosts: str = Field("", description="extra Host header values accepted by /mcp, comma-separated")
    api_token: str | None = Field(None, description="bearer token the main server requires (except / and /health)")
    allow_unauthenticated: bool = Field(False, description="serve on a non-loopback address without a token source")
    api_tokens: Annotated[list[ApiToken], NoDecode] = Field(
        default_factory=list, description="several tokens with scopes: token:read+write,token2:admin"
    )
    oauth_issuer: str | None = Field(None, description="issuer (iss) of the OAuth access tokens (JWTs) accepted")
    oauth_audience: str | None = Field(None, description="audience (aud) those JWTs must carry")
    oauth_jwks_url: str | None = Field(None, description="JWKS URL of the issuer's signing keys")
    public_url: str | None = Field(None, description="this server's public base URL (OAuth resource metadata)")
    read_only: bool = Field(False, description="serve no writes: write tools hidden, write routes 403")
    web_concurrency: int = Field(1, ge=1, le=64, description="worker processes of the main server (salesmcp serve)")
    metrics_enabled: bool = Field(True, description="serve /metrics and count requests and tool calls for it")
    metrics_public: bool = Field(
        False, description="serve /metrics without a token even when tokens are configured (else it needs 'read')"
    )

    # Cross-origin access and rate limits of the main server.
    cors_origins: str = Field("", description="origins allowed cross-origin access, comma-separated; empty: none")
    rate_limit_enabled: bool = Field(True, description="false switches the rate limits off")
    rate_limit_reads: str = Field("20000/minute", description="reads per caller (limits syntax: N/second|minute|hour)")
    rate_limit_writes: str = Field("5000/minute", description="customer changes per caller")
    rate_limit_generate: str = Field("300/minute", description="POST /generate, POST /reset, generate_data, reset_db")
    redis_url: str | None = Field(None, description="redis://… to share the rate limits between replicas")
    rate_limit_prefix: str = Field("salesmcp", min_length=1, description="prefix of the rate-limit keys in Redis")

    # The generator (seed 002).
    data_seed: int = Field(42, ge=0, le=2**63 - 1, description="seed of a generation when none is given")
    default_batch_size: int = Field(10_000, ge=1, le=100_000, description="orders written per transaction")
    generate_max_rows: int = Field(10_000_000, ge=1, description="the most orders one generation may ask for")
    generate_wait: float = Field(60.0, ge=0, description="seconds generate_data (MCP) follows a job before answering")

    @field_validator("analytics_engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        engine = value.strip().lower()
        if engine not in ANALYTICS_ENGINES:
            raise ValueError(f"must be one of {', '.join(ANALYTICS_ENGINES)}")
        return engine

    @field_validator("read_database_url")
    @classmethod
    def _read_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from sqlalchemy.engine import make_url  # imported here: the CSV servers never load SQLAlchemy
        from sqlalchemy.exc import ArgumentError

        url = normalise_database_url(value.strip())
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError:
            raise ValueError("must be a database URL like postgresql://reader@host/db") from None
        if backend not in ("sqlite", "mysql", "postgresql"):
            raise ValueError(f"must be a sqlite, mysql or postgresql URL, not {backend}")
        return url

    @field_validator("analytics_memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.fullmatch(value.strip()):
            raise ValueError("must be an amount of memory like 512MB or 2GB")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        log_format = value.strip().lower()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
        return log_format

    @field_validator("rate_limit_reads", "rate_limit_writes", "rate_limit_generate")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse  # imported here: only the main server uses it

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"must read like '600/minute' or '10/second' ({exc})") from None
        return value.strip()

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in (item.strip() for item in value.split(",")):
            if origin and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com (scheme, host, port)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "redis+unix://")):
            raise ValueError("must start with redis://, rediss:// or redis+unix://")
        return value or None

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _api_tokens(cls, value: object) -> object:
        return parse_api_tokens(value) if isinstance(value, str) else value

    @property
    def tokens(self) -> list[ApiToken]:
        """Every API token this server accepts, with its scopes (API_TOKEN's hold them all)."""
        every = [ApiToken(self.api_token, tuple(expand([ADMIN])))] if self.api_token else []
        return every + self.api_tokens

    @field_validator("oauth_issuer", "oauth_audience", "oauth_jwks_url", "public_url")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _debug_logs_everything(self) -> Settings:
        if self.debug and "log_level" not in self.model_fields_set:
            self.log_level = "DEBUG"
        return self

    @model_validator(mode="after")
    def _oauth_complete(self) -> Settings:
        given = {"OAUTH_ISSUER": self.oauth_issuer, "OAUTH_AUDIENCE": self.oauth_audience,
                 "OAUTH_JWKS_URL": self.oauth_jwks_url}  # fmt: skip
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, value in given.items() if not value)
            raise ValueError(f"OAuth needs OAUTH_ISSUER, OAUTH_AUDIENCE and OAUTH_JWKS_URL together; missing {missing}")
        return self

    @field_validator("customer_api_url", "sales_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def server_port(self) -> int:
        """The main server's port: PORT, else API_PORT, else 8080."""
        return self.port or self.api_port or 8080

    @property
    def resolved_read_database_url(self) -> str:
        """Where the SQL tool reads: READ_DATABASE_URL, else the database itself."""
        return self.read_database_url or self.resolved_database_url

    @property
    def resolved_analytics_dir(self) -> Path:
        """Where the metrics layer keeps its columnar copies: ANALYTICS_DIR, else the system's temp folder."""
        import tempfile

        return (self.analytics_dir or Path(tempfile.gettempdir()) / "salesmcp-analytics").expanduser()

    @property
    def resolved_database_url(self) -> str:
        """The database to use, as a SQLAlchemy URL with our drivers (PyMySQL, psycopg 3)."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        if self.mysql_host:
            from sqlalchemy.engine import URL  # imported here: the CSV servers never load SQLAlchemy

            return URL.create(
                "mysql+pymysql",
                username=self.mysql_user,
                password=self.mysql_password or None,
                host=self.mysql_host,
                port=self.mysql_port,
                database=self.mysql_database,
                query={"charset": "utf8mb4"},
            ).render_as_string(hide_password=False)
        return f"sqlite:///{self.db_path.expanduser().resolve().as_posix()}"

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS as a list, without trailing slashes (a browser's Origin has none)."""
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    @property
    def has_token_source(self) -> bool:
        """Whether anything can authenticate a caller: API_TOKEN, API_TOKENS or the OAuth settings."""
        return bool(self.api_token or self.api_tokens or self.oauth_jwks_url)

    def check_exposure(self, token_supported: bool) -> None:
        """Refuse to serve a non-loopback address to anyone unless a token source is set or that is asked for."""
        if self.is_loopback or self.allow_unauthenticated or (token_supported and self.has_token_source):
            return
        how = "set API_TOKEN, API_TOKENS or the OAUTH_* settings, or " if token_supported else ""
        raise InvalidInput(
            "HOST",
            f"{self.host} is reachable from other machines and nothing would authenticate them; "
            f"{how}set ALLOW_UNAUTHENTICATED=true to serve without authentication",
        )


_DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql", "postgres": "postgresql+psycopg",
            "postgresql": "postgresql+psycopg"}  # fmt: skip


def normalise_database_url(url: str) -> str:
    """``mysql://`` and ``postgres://`` URLs get the drivers we ship; anything else is kept as given."""
    scheme, sep, rest = url.partition("://")
    return f"{_DRIVERS.get(scheme.lower(), scheme)}{sep}{rest}"
