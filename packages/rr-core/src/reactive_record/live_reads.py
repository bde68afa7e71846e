"""Reads the live layer makes around the read pipeline: raw rows, no plugins, no user.

Matching a changed row in memory needs the row as stored, so rows named by a change feed
are re-read here without ``rr_plan_query`` or the read phases; so are the probes that find
when a relative-time condition next changes meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .engine import Plan
from .query import QuerySpec

if TYPE_CHECKING:
    from .core import ReactiveRecord
    from .model import Model
    from .store import Row

#: Keys per statement when rows are re-read by primary key.
KEY_BATCH = 500


def raw_plan(
    rr: ReactiveRecord,
    model: Model,
    where: cond.Node,
    order: Sequence[tuple[str, bool]] = (),
    limit: int | None = None,
) -> Plan:
    """A plan the store runs as is: no plugin conditions, no user, no post-filters."""
    full = tuple(order)
    if not full or full[-1][0] != model.primary_key:
        full = (*full, (model.primary_key, False))
    spec = QuerySpec(model.name, where, full, limit)
    return Plan(spec, model, rr, None, where, full, limit, 0, rr.clock())


def rows_by_key(rr: ReactiveRecord, model: Model, keys: Iterable[Any]) -> dict[Any, Row]:
    """The committed rows of ``model`` with these primary keys (absent keys are missing)."""
    wanted = list(dict.fromkeys(keys))
    found: dict[Any, Row] = {}
    pk = model.primary_key
    for start in range(0, len(wanted), KEY_BATCH):
        chunk = tuple(wanted[start : start + KEY_BATCH])
        plan = raw_plan(rr, model, cond.Compare(pk, "in", chunk))
        for row in rr.store.fetch(plan):
            found[row[pk]] = row
    return found
