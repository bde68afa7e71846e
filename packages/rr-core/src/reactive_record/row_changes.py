"""A committed change as live results see it: one row of one model, before and after.

Writes made in this process know the row before the change (read inside the
transaction); changes reported by a change feed do not, and say so with ``UNKNOWN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .engine import Change


class _Unknown:
    """The old row of a change reported by another process: not known here."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True)
class RowChange:
    """Row ``key`` of ``model`` went from ``before`` to ``after`` (None: absent)."""

    model: str
    key: Any
    before: Mapping[str, Any] | _Unknown | None
    after: Mapping[str, Any] | None

    @property
    def known_rows(self) -> tuple[Mapping[str, Any] | None, ...]:
        """The rows this change is known to touch (for the index)."""
        if isinstance(self.before, _Unknown):
            return (self.after,)
        return (self.before, self.after)


def from_change(change: Change) -> RowChange:
    """The row change an engine :class:`Change` made."""
    before = dict(change.before) if change.before is not None else None
    after = None if change.operation == "destroy" else change.row
    return RowChange(change.model.name, change.key, before, after)
