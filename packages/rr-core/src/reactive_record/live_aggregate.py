"""Live aggregates: ``count`` and ``sum`` of a query, maintained without holding its rows.

When every condition can be decided from a changed row alone (and the query has no
limit or offset), a committed change adjusts the value by what its old and new rows
contributed. Otherwise the aggregate is computed from a live result of the query, which
is itself maintained incrementally or re-read. Sums are exact: integers as ``int``,
decimals as ``Decimal`` (exact arithmetic), floats correctly rounded (``math.fsum``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .errors import InvalidQuery, hidden_field
from .live_query import LiveQuery, LiveResult
from .records import Record
from .relative_time import ago_terms, next_boundary, row_boundary
from .row_changes import UNKNOWN, RowChange
from .snapshots import ValueSnapshot

if TYPE_CHECKING:
    from .engine import Engine, Plan
    from .query import QuerySpec

FUNCTIONS = ("count", "sum")
SUMMABLE = frozenset({"integer", "float", "decimal"})
#: Enough digits that adding and subtracting stored decimals never rounds.
EXACT = Context(prec=400)


class Summer:
    """Exact running sums for one field type."""

    def __init__(self, field_type: str) -> None:
        self.field_type = field_type

    def zero(self) -> Any:
        """The empty sum, in the accumulator's representation."""
        if self.field_type == "float":
            return Fraction(0)
        if self.field_type == "decimal":
            return Decimal(0)
        return 0

    def add(self, total: Any, value: Any, sign: int = 1) -> Any:
        """``total + sign * value`` without rounding (NULL adds nothing, as in SQL)."""
        if value is None:
            return total
        if self.field_type == "float":
            return total + sign * Fraction(value)
        if self.field_type == "decimal":
            with localcontext(EXACT):
                return total + sign * value
        return total + sign * value

    def value(self, total: Any) -> Any:
        """The sum as the field's type."""
        if self.field_type == "float":
            return float(total)
        if self.field_type == "decimal":
            return +total if total else Decimal(0)
        return total

    def over(self, values: Iterable[Any]) -> Any:
        """The sum of ``values``."""
        total = self.zero()
        for value in values:
            total = self.add(total, value)
        return self.value(total)


def check_function(spec: QuerySpec, function: str, field: str | None, engine: Engine) -> None:
    """Raise :class:`InvalidQuery` for an aggregate that does not exist or does not fit."""
    model = engine.model_named(spec.model)
    if function not in FUNCTIONS:
        raise InvalidQuery(
            f"{model.name}: unknown aggregate {function!r}; use one of {', '.join(FUNCTIONS)}",
            model=model.name,
        )
    if function == "count":
        if field is not None:
            raise InvalidQuery(f"{model.name}: count takes no field", model=model.name)
        return
    if field is None:
        raise InvalidQuery(f"{model.name}: sum needs a field name", model=model.name)
    kind = model.field(field).type
    if kind not in SUMMABLE:
        raise InvalidQuery(
            f"{model.name}.{field} is {kind}: sum needs an integer, float or decimal field",
            model=model.name,
            field=field,
        )
    if not spec.option("unscoped") and field in engine.rr.hidden_fields(
        engine.user_of(spec), model
    ):
        # A sum would reveal what the reader may not see (one row at a time, by filtering).
        raise hidden_field(model.name, field)


class LiveAggregate(LiveResult):
    """A maintained ``count`` or ``sum`` of one query (shared by its views)."""

    kind = "aggregate"

    def __init__(
        self,
        engine: Engine,
        spec: QuerySpec,
        function: str,
        field: str | None,
        serial: int,
        key: str,
    ) -> None:
        super().__init__(engine, replace(spec, includes=()), serial, key)
        self.function = function
        self.field = field
        self._summer = Summer(self.model.field(field).type if field else "integer")
        self._ago = ago_terms(self.spec.where, self.model)
        self._inner: LiveQuery | None = None
        self._counting = False
        self._plan: Plan | None = None
        self._count = 0
        self._total: Any = self._summer.zero()
        self._value: Any = None
        self._old: Any = None
        self._old_complete = True
        self._reread = False
        self._broken = False

    def __repr__(self) -> str:
        mode = "incremental" if self._counting else "derived"
        return f"<LiveAggregate {self.function} {self.model_name} {mode} = {self._value!r}>"

    @property
    def data(self) -> Any:
        """The current value."""
        return self._value

    # -- reading --------------------------------------------------------------------------

    def load(self, check_size: bool = False) -> None:
        """Compute the value from the store (run through ``Dispatcher.read``)."""
        engine = self.engine
        if self._inner is None and not self._counting:
            with engine.committed_reads():
                plan = engine.plan(self.spec)
            if self._can_count(plan):
                self._counting = True
            else:
                self._inner = LiveQuery(engine, self.spec, self.serial, self.key)
        if self._inner is not None:
            self._inner.load(check_size)
            self._adopt_index(self._inner)
            self._value = self._from_records(self._inner.data)
            self.next_boundary = self._inner.next_boundary
            self.complete = True
            return
        now = engine.rr.clock()
        with engine.committed_reads():
            plan = engine.plan(self.spec, now)
            records = engine.finish(plan, engine.fetch_plan(plan))
            boundary = next_boundary(engine.rr, self.model, self._ago, now) if self._ago else None
        self._plan = plan
        self._count = len(records)
        self._total = self._summer.zero()
        if self.field is not None:
            for record in records:
                self._total = self._summer.add(self._total, self._of(record))
        self._value = self._current()
        self.next_boundary = boundary
        self.complete = True
        self._broken = False

    def value_in_transaction(self) -> Any:
        """The value as the open transaction sees it (its own writes included)."""
        plan = self.engine.plan(self.spec)
        records = self.engine.finish(plan, self.engine.fetch_plan(plan))
        return self._from_records(records)

    def _can_count(self, plan: Plan) -> bool:
        probe = LiveQuery(self.engine, self.spec, self.serial, self.key)
        probe._analyse(plan)
        if probe.incremental and plan.limit is None and not probe.depends_on:
            self._adopt_index(probe)
            return True
        return False

    def _adopt_index(self, query: LiveQuery) -> None:
        self.index_field = query.index_field
        self.index_values = query.index_values
        self.depends_on = query.depends_on

    def _current(self) -> Any:
        if self.function == "count":
            return self._count
        return self._summer.value(self._total)

    def _from_records(self, records: tuple[Record, ...]) -> Any:
        if self.function == "count":
            return len(records)
        return self._summer.over(self._of(record) for record in records)

    # -- one batch of changes --------------------------------------------------------

    def begin(self, now: dt.datetime) -> None:
        """Start a batch: remember the value; re-bind relative times."""
        self._old = self._value
        self._old_complete = self.complete
        if self._inner is not None:
            self._inner.begin(now)
            return
        self._reread = self._broken
        if self._ago and not self._reread:
            if self.next_boundary is not None and now >= self.next_boundary:
                self._reread = True
            else:
                with self.engine.committed_reads():
                    self._plan = self.engine.plan(self.spec, now)

    def apply(self, change: RowChange, now: dt.datetime) -> None:
        """Add what the new row contributes and take away what the old one did."""
        if self._inner is not None:
            self._inner.apply(change, now)
            return
        if self._reread:
            return
        if change.before is UNKNOWN:
            self._reread = True
            return
        if self._ago:
            moment = row_boundary(self._ago, change.after, now)
            if moment is not None and (self.next_boundary is None or moment < self.next_boundary):
                self.next_boundary = moment
        before = change.before if isinstance(change.before, Mapping) else None
        for row, sign in ((before, -1), (change.after, 1)):
            record = self._counted(row)
            if record is not None:
                self._count += sign
                if self.field is not None:
                    self._total = self._summer.add(self._total, self._of(record), sign)

    def _of(self, record: Record) -> Any:
        """The summed field of ``record``; a plugin that hid it from the reader refuses."""
        field = self.field or ""
        if field not in record:
            raise hidden_field(self.model.name, field)
        return record[field]

    def _counted(self, row: Mapping[str, Any] | None) -> Record | None:
        assert self._plan is not None
        if row is None or not cond.matches(self._plan.where, row):
            return None
        with self.engine.committed_reads():
            kept = self.engine.finish(self._plan, [Record(self.model_name, row)])
        return kept[0] if kept else None

    def apply_dependency(self, change: RowChange) -> None:
        """A change of another model the query reads (only in derived mode)."""
        if self._inner is not None:
            self._inner.apply_dependency(change)

    def invalidate(self) -> None:
        """Recompute at the end of this batch."""
        if self._inner is not None:
            self._inner.invalidate()
        self._reread = True

    def mark_incomplete(self) -> None:
        """The value may be missing changes until it is recomputed."""
        self.complete = False
        if self._inner is not None:
            self._inner.mark_incomplete()

    def finish_batch(self, read: Callable[[Callable[[], None]], int]) -> ValueSnapshot | None:
        """End the batch; a snapshot when the value (or its completeness) changed."""
        if self._inner is not None:
            self._inner.finish_batch(read)
            self.error, self._inner.error = self._inner.error, None
            self.synced = max(self.synced, self._inner.synced)
            self._value = self._from_records(self._inner.data)
            self.next_boundary = self._inner.next_boundary
            self.complete = self._inner.complete
        elif self._reread:
            try:
                self.synced = read(self.load)
            except Exception as exc:
                self.error = exc
                self.complete = False
                self._broken = True
        else:
            self._value = self._current()
        if self._value == self._old and self.complete == self._old_complete:
            return None
        return ValueSnapshot(self._value, self._old, self.complete)
