"""One live result kept current: matched in memory where that is exact, re-read where not.

A result is *incremental* when every condition can be decided from the changed row alone
(no ``any``, no plugin post-filter), it has no offset, and the store compares strings as
the in-memory evaluator does (or the query compares none). A changed row is then matched
with :func:`conditions.matches`, placed with the same sort key the store uses, and an
``order`` + ``limit`` window that loses a row is refilled from the store. Anything else
is re-read whenever a change may touch it. Related rows (``includes``) are re-attached
to the parents a change reaches.
"""

from __future__ import annotations

import datetime as dt
import logging
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .errors import QueryTooLarge
from .ordering import SortKey, sort_key
from .records import Record
from .relative_time import AgoTerm, ago_terms, next_boundary, row_boundary
from .row_changes import UNKNOWN, RowChange
from .snapshots import Changed, Snapshot, diff, same

if TYPE_CHECKING:
    from .engine import Engine, Plan
    from .model import Model
    from .query import QuerySpec
    from .store import Row

log = logging.getLogger("reactive_record.live")

#: Field types whose comparisons the in-memory evaluator may not share with a database.
STRING_TYPES = frozenset({"string", "text"})
#: Field types with no exact in-memory comparison or order across databases.
OPAQUE_TYPES = frozenset({"json"})


@dataclass(frozen=True)
class IncludePath:
    """One ``includes`` path: the models it reads and how to find the parents a change hits."""

    name: str
    foreign_key: str
    kind: str
    target: str
    models: frozenset[str]
    direct: bool

    def parents(self, change: RowChange, rows: Mapping[Any, Row]) -> set[Any] | None:
        """Keys of held parents whose related rows ``change`` alters (None: all of them)."""
        if not self.direct or change.model != self.target:
            return None
        if self.kind == "belongs_to":
            return {key for key, row in rows.items() if row.get(self.foreign_key) == change.key}
        if change.before is UNKNOWN:
            return None
        found = set()
        for row in (change.before, change.after):
            if isinstance(row, Mapping) and row.get(self.foreign_key) is not None:
                found.add(row[self.foreign_key])
        return found


class LiveResult:
    """What the index, the dispatcher and the cache know of any shared live result."""

    def __init__(self, engine: Engine, spec: QuerySpec, serial: int, key: str) -> None:
        self.engine = engine
        self.spec = spec
        self.serial = serial
        self.key = key
        self.model: Model = engine.model_named(spec.model)
        self.model_name = self.model.name
        self.index_field: str | None = None
        self.index_values: tuple[Any, ...] = ()
        self.depends_on: frozenset[str] = frozenset()
        #: Sequence number of the last commit this result is known to include.
        self.synced = 0
        self.complete = True
        self.next_boundary: dt.datetime | None = None
        #: The subscriptions sharing this result (kept by the live layer).
        self.views: list[Any] = []
        #: An error met while updating, for the dispatcher to report.
        self.error: BaseException | None = None


class LiveQuery(LiveResult):
    """The maintained result of one query (one per fingerprint, shared by its views)."""

    kind = "query"

    def __init__(self, engine: Engine, spec: QuerySpec, serial: int, key: str) -> None:
        super().__init__(engine, spec, serial, key)
        self.incremental = False
        self._analysed = False
        self._evaluable = False
        self._exists_models: frozenset[str] = frozenset()
        self._includes: tuple[IncludePath, ...] = ()
        self._ago: tuple[AgoTerm, ...] = ago_terms(spec.where, self.model)
        self._key_of_row: Callable[[Mapping[str, Any]], SortKey] = sort_key(())
        self._plan: Plan | None = None
        self._pks: list[Any] = []
        self._sort: list[SortKey] = []
        self._recs: list[Record | None] = []
        self._hidden = 0
        self._rows: dict[Any, Row] = {}
        self._sort_of: dict[Any, SortKey] = {}
        self._data: tuple[Record, ...] | None = ()
        self._broken = False
        # per batch
        self._old: tuple[Record, ...] = ()
        self._old_complete = True
        self._touched: dict[Any, Record | None] = {}
        self._reread = False
        self._refinish: set[Any] | None = set()

    def __repr__(self) -> str:
        mode = "incremental" if self.incremental else "re-read"
        return f"<LiveQuery {self.model_name} {self.key[:8]} {mode} rows={len(self._pks)}>"

    # -- reading ------------------------------------------------------------------------

    @property
    def data(self) -> tuple[Record, ...]:
        """The current result, in order (immutable)."""
        if self._data is None:
            if self._hidden:
                self._data = tuple(r for r in self._recs if r is not None)
            else:
                self._data = tuple(self._recs)  # type: ignore[arg-type]
        return self._data

    def load(self, check_size: bool = False) -> None:
        """Read the whole result from the store (run through ``Dispatcher.read``).

        With ``check_size`` a result over the model's ``max_live_rows`` raises
        :class:`QueryTooLarge` and leaves nothing changed.
        """
        engine = self.engine
        now = engine.rr.clock()
        with engine.committed_reads():
            plan = engine.plan(self.spec, now)
            if not self._analysed:
                self._analyse(plan)
            rows = self._fetch(plan, check_size)
            finished = self._finish_rows(plan, rows)
            boundary = next_boundary(engine.rr, self.model, self._ago, now) if self._ago else None
        pk = self.model.primary_key
        pks = [row[pk] for row in rows]
        recs = [finished.get(key) for key in pks]
        self._plan = plan
        self._pks = pks
        self._recs = recs
        self._hidden = recs.count(None) if len(finished) != len(rows) else 0
        self._rows = dict(zip(pks, rows, strict=True))
        self._data = None
        self.next_boundary = boundary
        if self.incremental:
            keys = [self._key_of_row(row) for row in rows]
            if not _ascending(keys):
                log.debug("%r: the store orders differently; re-reading instead", self)
                self.incremental = False
                keys = []
            self._sort = keys
            self._sort_of = dict(zip(pks, keys, strict=False))
        self._broken = False
        self.complete = True

    def _fetch(self, plan: Plan, check_size: bool) -> list[Row]:
        engine = self.engine
        cap = self.model.max_live_rows
        fetch = plan
        if check_size and (plan.limit is None or plan.limit > cap):
            fetch = replace(plan, limit=cap + 1)
        if plan.post_filters:
            rows = [dict(record) for record in engine.fetch_plan(fetch)]
        else:
            rows = engine.store.fetch(fetch)
        if check_size and len(rows) > cap:
            total = max(engine.store.count(plan) - plan.offset, len(rows))
            raise QueryTooLarge(self.model_name, total, cap)
        return rows

    def _finish_rows(self, plan: Plan, rows: list[Row]) -> dict[Any, Record]:
        name = self.model_name
        pk = self.model.primary_key
        records = self.engine.finish(plan, [Record._adopt(name, row) for row in rows])
        return {record[pk]: record for record in records}

    # -- what this query can do incrementally ------------------------------------------

    def _analyse(self, plan: Plan) -> None:
        model = self.model
        store = self.engine.store
        exact_strings = bool(getattr(store, "exact_string_semantics", True))
        where = plan.where
        touched = cond.fields_of(where) | {name for name, _ in plan.order}
        opaque = OPAQUE_TYPES if exact_strings else OPAQUE_TYPES | STRING_TYPES
        inexact = any(
            name in model.fields and model.fields[name].type in opaque for name in touched
        )
        exists = _exists_models(where, model, self.engine.model_named)
        self._exists_models = exists
        self._evaluable = not exists and not inexact
        self.incremental = self._evaluable and not plan.post_filters and plan.offset == 0
        self._includes = tuple(self._include_paths())
        self.depends_on = exists.union(*(path.models for path in self._includes))
        self._key_of_row = sort_key(plan.order)
        self._choose_index(where, opaque)
        self._analysed = True

    def _choose_index(self, where: cond.Node, unusable: frozenset[str]) -> None:
        best: tuple[str, tuple[Any, ...]] | None = None
        for name, values in cond.equalities(where).items():
            if self.model.fields[name].type in unusable:
                continue
            try:
                unique = tuple(dict.fromkeys(values))
            except TypeError:
                continue
            if best is None or len(unique) < len(best[1]):
                best = (name, unique)
        if best is not None:
            self.index_field, self.index_values = best

    def _include_paths(self) -> list[IncludePath]:
        lookup = self.engine.model_named
        paths = []
        for path in self.spec.includes:
            names = path.split(".")
            current = self.model
            models: set[str] = set()
            first = current.association(names[0])
            direct = len(names) == 1 and first.through is None and first.polymorphic_type is None
            for name in names:
                association = current.association(name)
                if association.through:
                    models.add(current.association(association.through).model)
                current = lookup(association.model)
                models.add(current.name)
            paths.append(
                IncludePath(
                    names[0], first.foreign_key, first.kind, first.model, frozenset(models), direct
                )
            )
        return paths

    # -- one batch of changes ----------------------------------------------------------

    def begin(self, now: dt.datetime) -> None:
        """Start a batch: remember the result to diff against; re-bind relative times."""
        self._old = self.data
        self._old_complete = self.complete
        self._touched = {}
        self._reread = self._broken
        self._refinish = set()
        if self._ago and not self._reread:
            if self.next_boundary is not None and now >= self.next_boundary:
                self._reread = True
            else:
                with self.engine.committed_reads():
                    self._plan = self.engine.plan(self.spec, now)

    def apply(self, change: RowChange, now: dt.datetime) -> None:
        """Apply a change of a row of this query's model."""
        if self._reread:
            return
        if self._ago:
            moment = row_boundary(self._ago, change.after, now)
            if moment is not None and (self.next_boundary is None or moment < self.next_boundary):
                self.next_boundary = moment
        if not self.incremental:
            if self._may_touch(change):
                self._reread = True
            return
        assert self._plan is not None
        key = change.key
        after = change.after
        new = after is not None and cond.matches(self._plan.where, after)
        held = key in self._rows
        if not held and not new:
            return
        self._touch(key)
        limit = self._plan.limit
        full = limit is not None and len(self._pks) >= limit
        last = self._sort[-1] if full else None
        if held:
            self._drop(key)
        if not new:
            if full:
                self._reread = True  # the window lost a row: refill it from the store
            return
        assert after is not None
        position = self._key_of_row(after)
        if last is not None and not (position < last or (held and position == last)):
            if held:
                self._reread = True  # it moved past the window's end: something else enters
            return
        self._insert(key, dict(after), position)
        if limit is not None and len(self._pks) > limit:
            dropped = self._pks[-1]
            self._touch(dropped)
            self._drop(dropped)

    def apply_dependency(self, change: RowChange) -> None:
        """Apply a change of a row of another model this query reads."""
        if self._reread:
            return
        if change.model in self._exists_models:
            self._reread = True
            return
        for path in self._includes:
            if change.model not in path.models:
                continue
            parents = path.parents(change, self._rows)
            if parents is None or self._refinish is None:
                self._refinish = None
            else:
                self._refinish.update(key for key in parents if key in self._rows)

    def invalidate(self) -> None:
        """Re-read at the end of this batch (a clock boundary, a reconnect, staleness)."""
        self._reread = True

    def mark_incomplete(self) -> None:
        """The result may be missing changes until it is re-read."""
        self.complete = False

    def finish_batch(self, read: Callable[[Callable[[], None]], int]) -> Snapshot | None:
        """End the batch: re-read or re-attach what is pending; the snapshot, if any changed.

        ``read(load)`` runs a re-read and returns the last commit it includes. An error
        leaves the previous result, marked incomplete, in :attr:`error`, and the next
        change re-reads.
        """
        old = self._old
        try:
            if self._reread:
                self.synced = read(self.load)
                added, removed, changed = diff(old, self.data, self.model.primary_key)
            else:
                self._refinish_rows()
                added, removed, changed = self._diff_touched()
        except Exception as exc:
            self._fail(old)
            self.error = exc
            return Snapshot(old, complete=False) if self._old_complete else None
        finally:
            self._touched = {}
        if not (added or removed or changed) and self.complete == self._old_complete:
            if self.data is not old and self.data != old:
                return Snapshot(self.data, complete=self.complete)
            return None
        return Snapshot(self.data, added, removed, changed, self.complete)

    def _fail(self, old: tuple[Record, ...]) -> None:
        # Keep what subscribers last saw, flagged incomplete, and re-read on the next change.
        self._broken = True
        self._data = old
        self.complete = False

    # -- incremental bookkeeping ---------------------------------------------------------

    def _may_touch(self, change: RowChange) -> bool:
        if not self._evaluable or change.key in self._rows or change.before is UNKNOWN:
            return True
        assert self._plan is not None
        where = self._plan.where
        return any(
            isinstance(row, Mapping) and cond.matches(where, row)
            for row in (change.before, change.after)
        )

    def _record_of(self, key: Any) -> Record | None:
        if key not in self._rows:
            return None
        return self._recs[self._position(key)]

    def _position(self, key: Any) -> int:
        if self.incremental:
            return bisect_left(self._sort, self._sort_of[key])
        return self._pks.index(key)

    def _touch(self, key: Any) -> None:
        if key not in self._touched:
            self._touched[key] = self._record_of(key)

    def _drop(self, key: Any) -> None:
        index = self._position(key)
        del self._pks[index]
        del self._sort[index]
        if self._recs.pop(index) is None:
            self._hidden -= 1
        del self._rows[key]
        del self._sort_of[key]
        self._data = None

    def _insert(self, key: Any, row: Row, position: SortKey) -> None:
        assert self._plan is not None
        record = self._finish_rows(self._plan, [row]).get(key)
        index = bisect_left(self._sort, position)
        self._pks.insert(index, key)
        self._sort.insert(index, position)
        self._recs.insert(index, record)
        if record is None:
            self._hidden += 1
        self._rows[key] = row
        self._sort_of[key] = position
        self._data = None

    def _refinish_rows(self) -> None:
        keys = self._refinish
        if keys is not None and not keys:
            return
        assert self._plan is not None
        positions = {key: index for index, key in enumerate(self._pks)}
        chosen = list(self._pks) if keys is None else [k for k in keys if k in positions]
        for key in chosen:
            if key not in self._touched:
                self._touched[key] = self._recs[positions[key]]
        with self.engine.committed_reads():
            finished = self._finish_rows(self._plan, [self._rows[k] for k in chosen])
        for key in chosen:
            index = positions[key]
            record = finished.get(key)
            self._hidden += (record is None) - (self._recs[index] is None)
            self._recs[index] = record
        self._data = None

    def _diff_touched(self) -> tuple[tuple[Record, ...], tuple[Record, ...], Changed]:
        added: list[Record] = []
        removed: list[Record] = []
        changed: list[tuple[Record, Record]] = []
        record_of = self._record_of
        if not self.incremental and self._touched:
            positions = {key: index for index, key in enumerate(self._pks)}
            recs = self._recs

            def record_of(key: Any) -> Record | None:
                index = positions.get(key)
                return None if index is None else recs[index]

        for key, old in self._touched.items():
            new = record_of(key)
            if old is None:
                if new is not None:
                    added.append(new)
            elif new is None:
                removed.append(old)
            elif not same(old, new):
                changed.append((old, new))
        return tuple(added), tuple(removed), tuple(changed)


def _ascending(keys: list[SortKey]) -> bool:
    try:
        return all(a < b for a, b in pairwise(keys))
    except TypeError:
        return False


def _exists_models(node: cond.Node, model: Model, lookup: Callable[[str], Model]) -> frozenset[str]:
    """The models an ``any`` condition reads (its targets and any ``through`` hops)."""
    found: set[str] = set()

    def walk(item: cond.Node, current: Model) -> None:
        if isinstance(item, cond.Exists):
            association = current.associations[item.association]
            if association.through:
                middle = current.associations[association.through]
                found.add(middle.model)
            target = lookup(association.model)
            found.add(target.name)
            walk(item.condition, target)
        elif isinstance(item, (cond.And, cond.Or)):
            for part in item.items:
                walk(part, current)
        elif isinstance(item, cond.Not):
            walk(item.item, current)

    walk(node, model)
    return frozenset(found)
