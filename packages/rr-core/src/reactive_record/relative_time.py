"""When a relative-time condition (``{"ago": "1d"}``) next changes which rows it matches.

``created_at > now - 1d`` is bound to a moment when a query runs. A row's membership
changes only when that moment passes the row's value, so the next instant worth a
re-read is the smallest ``value + 1d`` still in the future, over every row that could
match (probed in the store, then lowered by each changed row). A ``date`` field changes
meaning at the next midnight (UTC) of ``now - 1d``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .live_reads import raw_plan

if TYPE_CHECKING:
    from .core import ReactiveRecord
    from .model import Model

#: The smallest step of a datetime: a boundary equal to now is re-checked just after it.
TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class AgoTerm:
    """A field compared with ``now - delta``."""

    field: str
    delta: dt.timedelta
    date: bool


def ago_terms(node: cond.Node, model: Model) -> tuple[AgoTerm, ...]:
    """Every relative-time comparison on ``model``'s own fields in ``node``."""
    found: dict[AgoTerm, None] = {}

    def walk(item: cond.Node) -> None:
        if isinstance(item, cond.Compare):
            values = item.value if isinstance(item.value, tuple) else (item.value,)
            for value in values:
                if isinstance(value, cond.Ago):
                    is_date = model.fields[item.field].type == "date"
                    found[AgoTerm(item.field, value.delta, is_date)] = None
        elif isinstance(item, (cond.And, cond.Or)):
            for part in item.items:
                walk(part)
        elif isinstance(item, cond.Not):
            walk(item.item)

    walk(node)
    return tuple(found)


def next_boundary(
    rr: ReactiveRecord, model: Model, terms: tuple[AgoTerm, ...], now: dt.datetime
) -> dt.datetime | None:
    """The next instant after ``now`` at which any term may match different rows."""
    best: dt.datetime | None = None
    for term in terms:
        if term.date:
            moment = _next_midnight(now - term.delta) + term.delta
        else:
            threshold = now - term.delta
            where = cond.Compare(term.field, "gte", threshold)
            plan = raw_plan(rr, model, where, ((term.field, False),), limit=1)
            rows = rr.store.fetch(plan)
            if not rows or rows[0].get(term.field) is None:
                continue
            moment = rows[0][term.field] + term.delta
        best = _earliest(best, max(moment, now + TICK))
    return best


def row_boundary(
    terms: tuple[AgoTerm, ...], row: Mapping[str, Any] | None, now: dt.datetime
) -> dt.datetime | None:
    """The instant at which ``row`` may enter or leave because of a datetime term."""
    if row is None:
        return None
    best: dt.datetime | None = None
    for term in terms:
        value = row.get(term.field)
        if term.date or not isinstance(value, dt.datetime):
            continue
        moment = value + term.delta
        if moment >= now:
            best = _earliest(best, max(moment, now + TICK))
    return best


def _earliest(current: dt.datetime | None, candidate: dt.datetime) -> dt.datetime:
    return candidate if current is None or candidate < current else current


def _next_midnight(moment: dt.datetime) -> dt.datetime:
    day = moment.astimezone(dt.timezone.utc).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
