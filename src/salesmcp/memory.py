"""Returning freed memory to the operating system after large, short-lived allocations."""

from __future__ import annotations

import ctypes
import sys
from functools import cache


@cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return None


def release_free_memory() -> None:
    """glibc keeps freed heap pages (per thread) for reuse; after loading a CSV file or streaming a
    large answer that is tens of MB of resident memory nobody uses. A no-op outside glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
