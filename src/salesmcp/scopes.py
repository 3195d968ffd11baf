"""Who may do what, as words every layer shares: the scopes, the rate-limit classes, and what a capability
(a tool or a route) asks of its caller. A leaf: settings parse ``API_TOKENS`` with it, and the web and MCP
layers read the declarations each tool and route makes with :class:`Access`.

Scopes nest: ``admin`` includes ``write``, ``write`` includes ``read``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Scope = Literal["read", "write", "admin"]
LimitClass = Literal["reads", "writes", "generate"]

READ: Scope = "read"
WRITE: Scope = "write"
ADMIN: Scope = "admin"
SCOPES: tuple[Scope, ...] = (READ, WRITE, ADMIN)
_INCLUDES: dict[str, tuple[Scope, ...]] = {READ: (READ,), WRITE: (WRITE, READ), ADMIN: (ADMIN, WRITE, READ)}

READS: LimitClass = "reads"
WRITES: LimitClass = "writes"
GENERATE: LimitClass = "generate"
LIMIT_CLASSES: tuple[LimitClass, ...] = (READS, WRITES, GENERATE)
_CLASS_OF_SCOPE: dict[Scope, LimitClass] = {READ: READS, WRITE: WRITES, ADMIN: GENERATE}


@dataclass(frozen=True)
class Access:
    """What one capability asks of its caller: the scope it needs, and the rate-limit class it counts against
    (by default the one of its scope: read → reads, write → writes, admin → generate)."""

    scope: Scope
    limit: LimitClass

    @classmethod
    def of(cls, scope: Scope, limit: LimitClass | None = None) -> Access:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}")
        return cls(scope, limit or _CLASS_OF_SCOPE[scope])

    @property
    def reads_only(self) -> bool:
        return self.scope == READ


# What an undeclared tool or route would ask: nothing less than everything (it is refused anyway).
UNDECLARED = Access(ADMIN, GENERATE)


def more_costly(first: LimitClass, second: LimitClass) -> LimitClass:
    """The costlier of two rate-limit classes (a batch of MCP messages counts as its costliest)."""
    return max(first, second, key=LIMIT_CLASSES.index)


def expand(scopes: Iterable[str]) -> list[str]:
    """The scopes with the ones they include, in the order read, write, admin; unknown ones dropped."""
    held = {included for scope in scopes for included in _INCLUDES.get(scope, ())}
    return [scope for scope in SCOPES if scope in held]


@dataclass(frozen=True)
class ApiToken:
    """One entry of ``API_TOKENS`` (or ``API_TOKEN``): the token and every scope it holds, expanded."""

    token: str
    scopes: tuple[str, ...]


def parse_api_tokens(value: str) -> list[ApiToken]:
    """``API_TOKENS``: ``token:read+write,token2:admin``; a token without ``:scopes`` has every scope."""
    tokens = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        token, sep, scopes = item.partition(":")
        names = [name.strip() for name in scopes.split("+")] if sep else [ADMIN]
        unknown = [name for name in names if name not in SCOPES]
        if not token.strip() or unknown or not names:
            what = f"unknown scope {unknown[0]!r}" if unknown else "an empty token"
            raise ValueError(f"{what} in API_TOKENS: write token:scope+scope, scopes among {', '.join(SCOPES)}")
        tokens.append(ApiToken(token.strip(), tuple(expand(names))))
    return tokens
