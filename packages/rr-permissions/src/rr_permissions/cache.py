"""A size-bounded cache for grants and decisions.

Oldest entries are forgotten first. A hit is one dictionary lookup — the per-record
check is a few microseconds, so a least-recently-used list (one more hashing per hit)
would cost more than the recomputations it saves.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """At most ``size`` entries; ``size`` 0 caches nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[Hashable, V] = {}

    def get(self, key: Hashable) -> V | None:
        """The value cached for ``key``, or None."""
        return self._entries.get(key)

    def put(self, key: Hashable, value: V) -> None:
        """Cache ``value`` for ``key``, forgetting the oldest entries beyond the size."""
        if self.size <= 0:
            return
        entries = self._entries
        entries[key] = value
        while len(entries) > self.size:
            try:
                del entries[next(iter(entries))]
            except (KeyError, RuntimeError, StopIteration):
                break  # another thread is evicting at the same moment

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
