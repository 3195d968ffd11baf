"""Rate limits per caller and per class of request (reads, writes, generate), on REST and on /mcp.

Counting is done by the ``limits`` library: in this process's memory by default, in Redis when
``REDIS_URL`` is set (so that replicas share one budget). A refused request gets a 429 with our
error shape and ``Retry-After``.

With Redis, a round trip per request would cost more than the rest of a small request (~0.12 ms
of CPU each), so each process counts locally while a caller's budget is far from spent and pushes
its count to Redis at least every ``SYNC_SECONDS`` or ``SYNC_BATCH`` requests (at most 5% of the
budget, which bounds what another process can serve past the limit); within the last
``NEAR_END`` of a budget (and always for budgets under ``EXACT_BELOW``) every request goes to Redis.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesmcp.config import Settings
from salesmcp.errors import error_body, error_response
from salesmcp.scopes import GENERATE, READS, WRITES, Access, LimitClass, more_costly
from salesmcp.validation import MAX_REQUEST_BYTES
from salesmcp.web import json_rpc
from salesmcp.web.openapi import DocumentHook, operations
from salesmcp.web.routes import RouteTable

log = logging.getLogger(__name__)

SYNC_SECONDS = 0.25  # with Redis: a process's local count reaches Redis at least this often…
SYNC_BATCH = 64  # …and at least every this many requests of one caller and class
NEAR_END = 0.10  # the last tenth of a budget is counted in Redis request by request
EXACT_BELOW = 200  # budgets smaller than this are always counted in Redis request by request
KNOWN_CALLERS_KEPT = 10_000  # callers whose Redis count this process remembers

# An MCP body is read whole to class it, up to the size the endpoint accepts; a larger one (refused
# there anyway) counts as the costliest class, so that padding cannot slip a call past its budget.
MCP_PEEK_BYTES = MAX_REQUEST_BYTES


def request_class_of_json_rpc(found: list[dict[str, Any]], access_of: Callable[[str], Access]) -> LimitClass:
    """The class of an MCP request's messages: the costliest of its ``tools/call``s' declared classes, else
    ``reads``. An undeclared or unknown tool counts as ``generate``, as auth asks ``admin`` of it (it is
    refused anyway)."""
    found_class: LimitClass = READS
    for name in json_rpc.tool_calls(found):
        found_class = more_costly(found_class, access_of(name).limit)
    return found_class


def document_limits(settings: Settings, routes: RouteTable) -> DocumentHook:
    """An OpenAPI document hook: when rate limits are on, every limited operation may answer 429."""

    def describe(document: dict[str, Any]) -> None:
        if not settings.rate_limit_enabled:
            return
        retry = {"Retry-After": "seconds until this caller may send a request of this class again"}
        for method, path, operation in operations(document):
            if routes.access_of_operation(method, path) is not None:
                description = "Too many requests of this class from this caller (RATE_LIMIT_READS/WRITES/GENERATE)"
                operation.setdefault("responses", {})["429"] = error_response(description, retry)

    return describe


def caller_key(scope: Scope) -> str:
    """Who is calling: the token's subject once auth has put it in ``scope["state"]["caller"]``,
    else a hash of the bearer token (never the token itself), else the client address."""
    state = scope.get("state") or {}
    caller = state.get("caller") if isinstance(state, dict) else None
    subject = getattr(caller, "subject", caller) if caller is not None else None
    if isinstance(subject, str) and subject:
        return "sub:" + subject
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value:
            return "tok:" + hashlib.sha256(value).hexdigest()[:32]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


def open_storage(settings: Settings) -> Storage:
    """Redis when ``REDIS_URL`` is set (keys under ``RATE_LIMIT_PREFIX``), else this process's memory."""
    if settings.redis_url:
        return storage_from_string(  # type: ignore[return-value]  # an "async+" URL gives an async storage
            f"async+{settings.redis_url}", implementation="redispy", key_prefix=settings.rate_limit_prefix
        )
    return storage_from_string("async+memory://")  # type: ignore[return-value]  # as above


@dataclass
class _Known:
    """What this process last heard from Redis about one caller's budget, and what it has served since."""

    remaining: int
    synced_at: float
    pending: int = 0


class RateLimit:
    """ASGI middleware: count each request against its caller's budget for its class; 429 when spent."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        routes: RouteTable,
        tool_access: Callable[[str], Access],
        mcp_path: str = "/mcp",
    ) -> None:
        self.app = app
        self.mcp_path = mcp_path
        self.routes = routes
        self.tool_access = tool_access
        self.items: dict[str, RateLimitItem] = {
            READS: parse(settings.rate_limit_reads),
            WRITES: parse(settings.rate_limit_writes),
            GENERATE: parse(settings.rate_limit_generate),
        }
        self.limiter = SlidingWindowCounterRateLimiter(open_storage(settings))
        self.shared = bool(settings.redis_url)  # counts in Redis: batch them while far from the limit
        self.known: dict[tuple[str, str], _Known] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        kind: LimitClass
        if scope["path"] == self.mcp_path and method == "POST":
            body, receive = await _peek_body(receive)
            if body is None:
                kind = GENERATE
            elif b"tools/call" not in body:  # most MCP traffic (initialize, tools/list, …) is classed unparsed
                kind = READS
            else:
                kind = request_class_of_json_rpc(json_rpc.messages(scope, body), self.tool_access)
        else:
            access = self.routes.find(method, scope["path"]).access
            if access is None:  # open to anyone (probes, the description, the API documents): never limited
                await self.app(scope, receive, send)
                return
            kind = access.limit
        refused_for = await self._spend(kind, caller_key(scope))
        if refused_for is None:
            await self.app(scope, receive, send)
            return
        item = self.items[kind]
        message = f"too many {kind} requests: the limit is {item} per caller; retry in {refused_for} s"
        headers = {"Retry-After": str(refused_for)}
        response = JSONResponse(error_body("rate_limited", message), status_code=429, headers=headers)
        await response(scope, receive, send)

    async def _spend(self, kind: str, caller: str) -> int | None:
        """Count one request; None when allowed, else the seconds until it would be."""
        item = self.items[kind]
        if self.shared and self._spend_locally(item, kind, caller):
            return None
        try:
            return await self._spend_in_store(item, kind, caller)
        except Exception:  # the store is down: serving beats refusing everyone
            log.warning("rate limit store unavailable; request allowed", exc_info=True)
            return None

    def _spend_locally(self, item: RateLimitItem, kind: str, caller: str) -> bool:
        """Whether this request may be served on this process's own count (Redis far from the limit)."""
        known = self.known.get((kind, caller))
        if known is None or item.amount < EXACT_BELOW:
            return False
        batch = min(SYNC_BATCH, item.amount // 20)  # another process may overshoot by one batch: ≤ 5%
        fresh = time.monotonic() - known.synced_at < SYNC_SECONDS and known.pending < batch
        if fresh and known.remaining - known.pending > item.amount * NEAR_END:
            known.pending += 1
            return True
        return False

    async def _spend_in_store(self, item: RateLimitItem, kind: str, caller: str) -> int | None:
        """Count this request, and any served locally since the last time, in the store."""
        known = self.known.pop((kind, caller), None)
        if known is not None and known.pending:  # already served: they count whatever the answer
            await self.limiter.hit(item, kind, caller, cost=known.pending)
        allowed = await self.limiter.hit(item, kind, caller)
        if allowed and not self.shared:
            return None
        stats = await self.limiter.get_window_stats(item, kind, caller)
        if allowed:
            if len(self.known) >= KNOWN_CALLERS_KEPT:
                self.known.pop(next(iter(self.known)))  # the one heard from longest ago
            self.known[(kind, caller)] = _Known(stats.remaining, time.monotonic())
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))


async def _peek_body(receive: Receive) -> tuple[bytes | None, Callable[[], Awaitable[Message]]]:
    """Read a request body (None past MCP_PEEK_BYTES) and a ``receive`` that replays what was read."""
    messages: list[Message] = []
    size = 0
    while size < MCP_PEEK_BYTES:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    complete = size < MCP_PEEK_BYTES or not messages[-1].get("more_body", False)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request") if complete else None

    async def replay() -> Any:
        if messages:
            return messages.pop(0)
        return await receive()

    return body, replay
