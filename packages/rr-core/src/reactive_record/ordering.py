"""Sort keys that order rows exactly as ``store.sort_rows`` (and SQL) do.

Ascending terms put NULLs first, descending terms put them last, as PostgreSQL does by
default and as the SQL store's compiler spells out. A key is a flat tuple, so comparing
two keys is one C-level tuple comparison except for descending terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

SortKey = tuple[Any, ...]


class Descending:
    """Wraps a value so that it sorts in reverse (for descending order terms)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and bool(self.value == other.value)

    def __lt__(self, other: Descending) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Descending({self.value!r})"


def sort_key(order: Sequence[tuple[str, bool]]) -> Callable[[Mapping[str, Any]], SortKey]:
    """A function giving each row its key for ``order`` (``(field, descending)`` pairs)."""
    terms = tuple(order)
    if all(not descending for _, descending in terms):
        names = tuple(name for name, _ in terms)

        def ascending(row: Mapping[str, Any]) -> SortKey:
            out: list[Any] = []
            for name in names:
                value = row.get(name)
                out.append(value is not None)
                out.append(value)
            return tuple(out)

        return ascending

    def mixed(row: Mapping[str, Any]) -> SortKey:
        out: list[Any] = []
        for name, descending in terms:
            value = row.get(name)
            if descending:
                out.append(value is None)
                out.append(None if value is None else Descending(value))
            else:
                out.append(value is not None)
                out.append(value)
        return tuple(out)

    return mixed
