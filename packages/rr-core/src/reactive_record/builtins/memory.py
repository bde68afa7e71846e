"""``memory://``: the MemoryStore, opened through the same hook as every other store."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..store import MemoryStore


@hookimpl
def rr_open_store(url: str) -> MemoryStore | None:
    """Open a MemoryStore for ``memory://`` URLs."""
    if url == "memory://" or url.startswith("memory://"):
        return MemoryStore(url)
    return None
