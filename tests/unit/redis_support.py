"""The local Redis (127.0.0.1:6379, or SALESMCP_TEST_REDIS_URL) for the rate-limit tests."""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("SALESMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_url_or_skip() -> str:
    """The Redis URL when Redis answers; else skip (or fail with SALESMCP_REQUIRE_DATABASES=1)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL} ({exc})"
        if os.environ.get("SALESMCP_REQUIRE_DATABASES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL
