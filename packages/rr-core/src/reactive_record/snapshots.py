"""What subscribers receive: a live result and how it differs from the one before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .records import Record

Changed = tuple[tuple[Record, Record], ...]


@dataclass(frozen=True)
class Snapshot:
    """A live collection's result: ``data`` in order, and the diff since the last snapshot.

    ``changed`` holds ``(old, new)`` pairs; ``complete`` is False while the result is not
    known to reflect the store (the change feed is down), True otherwise.
    """

    data: tuple[Record, ...]
    added: tuple[Record, ...] = ()
    removed: tuple[Record, ...] = ()
    changed: Changed = ()
    complete: bool = True


@dataclass(frozen=True)
class RecordSnapshot:
    """A live record's state: ``data`` is the record, or None when there is none."""

    data: Record | None
    added: tuple[Record, ...] = ()
    removed: tuple[Record, ...] = ()
    changed: Changed = ()
    complete: bool = True


@dataclass(frozen=True)
class ValueSnapshot:
    """A live aggregate's value and the value before it."""

    data: Any
    previous: Any = None
    complete: bool = True


def same(old: Record | None, new: Record | None) -> bool:
    """Equal values *and* equal attached attributes (includes, computed), recursively."""
    if old is new:
        return True
    if old is None or new is None or old != new:
        return False
    return _same_extra(old.extra, new.extra)


def _same_extra(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if old.keys() != new.keys():
        return False
    for name, value in old.items():
        other = new[name]
        if isinstance(value, Record) or isinstance(other, Record):
            if not (isinstance(value, Record) and isinstance(other, Record)):
                return False
            if not same(value, other):
                return False
        elif isinstance(value, tuple) and isinstance(other, tuple):
            if len(value) != len(other):
                return False
            if not all(_same_item(a, b) for a, b in zip(value, other, strict=True)):
                return False
        elif value != other:
            return False
    return True


def _same_item(old: Any, new: Any) -> bool:
    if isinstance(old, Record) and isinstance(new, Record):
        return same(old, new)
    return bool(old == new)


def diff(
    old: Sequence[Record], new: Sequence[Record], key: str
) -> tuple[tuple[Record, ...], tuple[Record, ...], Changed]:
    """``(added, removed, changed)`` between two results, matching records by ``key``."""
    before = {record[key]: record for record in old}
    added: list[Record] = []
    changed: list[tuple[Record, Record]] = []
    for record in new:
        previous = before.pop(record[key], None)
        if previous is None:
            added.append(record)
        elif not same(previous, record):
            changed.append((previous, record))
    return tuple(added), tuple(before.values()), tuple(changed)
