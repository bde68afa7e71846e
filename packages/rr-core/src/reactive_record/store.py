"""The Store protocol every backend implements, and MemoryStore (``memory://``)."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Container, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from . import conditions as cond
from .errors import StaleRecord, StoreError

if TYPE_CHECKING:
    from .engine import Change, Plan
    from .model import Association, Model

Row = dict[str, Any]


@dataclass(frozen=True)
class SchemaDefault:
    """A column default as the database declares it.

    ``value`` is the Python value (or a zero-argument callable for time functions and
    fresh JSON objects); ``server_generated`` marks sequences, identity, generated
    columns and expressions that cannot be evaluated exactly; ``expression`` is the
    database's own text.
    """

    value: Any = None
    server_generated: bool = False
    expression: str | None = None


@runtime_checkable
class Transaction(Protocol):
    """One database transaction: reads see its own writes; it commits or rolls back whole."""

    def read(self, model: Model, key: Any, lock: bool = False) -> Row | None:
        """The row of ``model`` with primary key ``key`` (locked where the database can)."""

    def fetch(self, plan: Plan) -> list[Row]:
        """Run a read plan inside the transaction."""

    def count(self, plan: Plan) -> int:
        """Count a read plan's rows inside the transaction."""

    def write(self, change: Change) -> Row | None:
        """Apply ``change``; return the stored row (None for destroy).

        An update of a model with ``lock_version`` checks the version the change was
        based on and raises :class:`StaleRecord` when it moved.
        """

    def insert(self, model: Model, values: Mapping[str, Any], read_back: bool = True) -> Row:
        """Insert a row outside the engine's pipeline (a plugin's own rows); return it.

        ``read_back=False`` is for rows whose values the caller gives, its key included
        (rr-activity's entries): the row is not read back, and the return value is the
        row as sent (:meth:`Model.row_as_sent`: the values coerced, every other field at
        its declared default), so a database-side default or trigger is not in it. The
        store may then also send the INSERT without waiting for its outcome: an error
        it causes (a duplicate key, a NOT NULL column) may be raised by a later
        statement of the transaction or by its commit instead, and the transaction does
        not commit either way. When the database makes the key (an integer sequence),
        the row is read back all the same; a UUID key the store makes itself is not.
        """


@runtime_checkable
class Store(Protocol):
    """A backend: executes plans and opens transactions.

    Optional members the live layer asks for (see docs/live-queries.md):
    ``exact_string_semantics`` (bool, default True: strings compare and sort by code
    point), ``freshness_token()`` (a value that changes when a commit this store did not
    make may have happened; None when it cannot tell), ``freshness_poll`` (seconds
    between background looks at that token), ``change_feed()`` (a feed of other
    processes' commits with ``start(live)`` / ``stop()``) and ``connection_lock`` (a
    re-entrant lock every statement and transaction holds, for a store with one shared
    connection; the live layer takes it before the commit order, as writers do).
    """

    url: str

    def fetch(self, plan: Plan) -> list[Row]:
        """Rows matching ``plan.where`` in ``plan.order``, after ``offset``, up to ``limit``."""

    def count(self, plan: Plan) -> int:
        """How many rows match ``plan.where`` (ignoring limit and offset)."""

    def transaction(self) -> Any:
        """A context manager yielding a :class:`Transaction`; commits on success."""

    def create_tables(self, models: Sequence[Model]) -> None:
        """Create the tables of ``models`` that do not exist yet."""

    def close(self) -> None:
        """Release connections."""


# -- ordering shared by every in-memory evaluation ----------------------------------


def sort_rows(rows: list[Row], order: Sequence[tuple[str, bool]]) -> list[Row]:
    """Sort as SQL does with NULLS FIRST ascending and NULLS LAST descending."""
    for name, descending in reversed(order):
        rows.sort(key=lambda r, n=name: (r.get(n) is not None, r.get(n)), reverse=descending)  # type: ignore[misc]
    return rows


class MemoryStore:
    """A real in-process store: the reference backend, and the one tests use first.

    Writers are serialised; a transaction works on copies of the tables it writes and
    swaps them in at commit, so readers never see uncommitted rows.
    """

    #: Strings compare and sort by code point, exactly as the in-memory evaluator does.
    exact_string_semantics = True

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._tables: dict[str, dict[Any, Row]] = {}
        self._models: dict[str, Model] = {}
        #: Each table's next generated id: like a database sequence, never reused and
        #: moved past an id inserted explicitly.
        self._next_ids: dict[str, int] = {}
        self._write_lock = threading.RLock()

    def create_tables(self, models: Sequence[Model]) -> None:
        for model in models:
            self._models[model.name] = model
            self._tables.setdefault(model.table, {})
            self._next_ids.setdefault(model.table, 1)

    def _table(self, tables: Mapping[str, dict[Any, Row]], model: Model) -> dict[Any, Row]:
        try:
            return tables[model.table]
        except KeyError:
            raise StoreError(f"no table {model.table!r}: run create_tables()") from None

    def fetch(self, plan: Plan) -> list[Row]:
        return _select(self, self._tables, plan)

    def count(self, plan: Plan) -> int:
        return _count(self, self._tables, plan)

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        with self._write_lock:
            tx = MemoryTransaction(self)
            yield tx
            self._tables.update(tx.tables)

    def close(self) -> None:
        self._tables.clear()

    def freshness_token(self) -> int:
        """Live results stay provably fresh: no other process can write this store."""
        return 0

    def related(self, tables: Mapping[str, dict[Any, Row]]) -> cond.Related:
        """The association resolver that ``evaluate`` uses for ``any``."""

        def related(model: Model, association: Association, row: Mapping[str, Any]) -> Any:
            target = self._models[association.model]
            rows = self._table(tables, target).values()
            if association.kind == "belongs_to":
                fk = row.get(association.foreign_key)
                return target, [r for r in rows if fk is not None and r[target.primary_key] == fk]
            if association.through:
                middle_model, middles = related(model, model.associations[association.through], row)
                fk = association.foreign_key
                if fk in middle_model.fields:
                    linked = {m.get(fk) for m in middles} - {None}
                    return target, [r for r in rows if r[target.primary_key] in linked]
                linked = {m[middle_model.primary_key] for m in middles}
                return target, [r for r in rows if r.get(fk) in linked]
            key = row.get(model.primary_key)
            if association.polymorphic_type is not None:
                # As includes read them: the key as text, beside the model's name.
                kind, name = association.polymorphic_type
                fk, text = association.foreign_key, str(key)
                return target, [r for r in rows if r.get(kind) == name and r.get(fk) == text]
            return target, [r for r in rows if r.get(association.foreign_key) == key]

        return related


def detached(model: Model, row: Mapping[str, Any]) -> Row:
    """A copy of ``row`` that shares nothing mutable with it (JSON values copied deeply).

    What a database gives: neither the caller's dict nor a stored row can change the other.
    """
    out = dict(row)
    for name, field in model.fields.items():
        if field.type == "json" and out.get(name) is not None:
            out[name] = copy.deepcopy(out[name])
    return out


def _matching(store: MemoryStore, tables: Mapping[str, dict[Any, Row]], plan: Plan) -> list[Row]:
    """The stored rows themselves (never handed out: see ``_select``)."""
    model = plan.model
    where = plan.where
    related = store.related(tables)
    rows = store._table(tables, model).values()
    if where == cond.TRUE:
        return list(rows)
    return [r for r in rows if cond.matches(where, r, model, related)]


def _select(store: MemoryStore, tables: Mapping[str, dict[Any, Row]], plan: Plan) -> list[Row]:
    rows = sort_rows(_matching(store, tables, plan), plan.order)
    end = None if plan.limit is None else plan.offset + plan.limit
    return [detached(plan.model, r) for r in rows[plan.offset : end]]


def _count(store: MemoryStore, tables: Mapping[str, dict[Any, Row]], plan: Plan) -> int:
    return len(_matching(store, tables, plan))


class MemoryTransaction:
    """A MemoryStore transaction: copies a table on first write, swapped in at commit."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.tables: dict[str, dict[Any, Row]] = {}

    def _view(self) -> dict[str, dict[Any, Row]]:
        merged = dict(self.store._tables)
        merged.update(self.tables)
        return merged

    def _writable(self, model: Model) -> dict[Any, Row]:
        if model.table not in self.tables:
            self.tables[model.table] = dict(self.store._table(self.store._tables, model))
        return self.tables[model.table]

    def read(self, model: Model, key: Any, lock: bool = False) -> Row | None:
        row = self.store._table(self._view(), model).get(key)
        return detached(model, row) if row is not None else None

    def fetch(self, plan: Plan) -> list[Row]:
        return _select(self.store, self._view(), plan)

    def count(self, plan: Plan) -> int:
        return _count(self.store, self._view(), plan)

    def write(self, change: Change) -> Row | None:
        model = change.model
        table = self._writable(model)
        if change.operation == "destroy":
            if change.key in table:
                self._check_unreferenced(model, change.key)
            table.pop(change.key, None)
            return None
        if change.operation == "create":
            return self.insert(model, change.after)
        current = table.get(change.key)
        if current is None:
            raise StoreError(f"{model.name} {change.key!r} vanished during the update")
        row = dict(current)
        values = detached(model, change.after)
        lock = model.lock_field
        if lock is not None:
            expected = values.pop(lock, current.get(lock))
            if expected != current.get(lock):
                raise StaleRecord(model.name, change.key, expected, current.get(lock))
            row[lock] = (current.get(lock) or 0) + 1
        for name, value in values.items():
            if value is None and not model.fields[name].null:
                raise StoreError(f"{model.name}.{name} may not be NULL (NOT NULL constraint)")
        self._check_references(
            model, {**row, **values}, {n for n in values if values[n] != row.get(n)}
        )
        row.update(values)
        key = row[model.primary_key]
        if key != change.key:
            # The primary key itself changed: re-key the row, as unique as an INSERT's.
            if key in table:
                raise StoreError(f"{model.name} {key!r} already exists (primary key)")
            self._check_unreferenced(model, change.key)
            del table[change.key]
        table[key] = row
        return detached(model, row)

    def _check_references(
        self, model: Model, row: Mapping[str, Any], written: Container[str]
    ) -> None:
        """As SQL's FOREIGN KEY: each ``belongs_to`` key written names an existing row."""
        view = None
        for association in model.associations.values():
            fk = association.foreign_key
            if association.kind != "belongs_to" or fk not in written or row.get(fk) is None:
                continue
            target = self.store._models.get(association.model)
            if target is None:  # no table: SQL would have no constraint either
                continue
            if view is None:
                view = self._view()
            itself = target.name == model.name and row[fk] == row.get(model.primary_key)
            if not itself and row[fk] not in self.store._table(view, target):
                raise StoreError(
                    f"{model.name}.{fk} = {row[fk]!r}: no {target.name} has that key "
                    "(FOREIGN KEY constraint)"
                )

    def _check_unreferenced(self, model: Model, key: Any) -> None:
        """As SQL's FOREIGN KEY: a row another row points at is neither destroyed nor re-keyed."""
        view = self._view()
        for child in self.store._models.values():
            for association in child.associations.values():
                fk = association.foreign_key
                if association.kind != "belongs_to" or association.model != model.name:
                    continue
                for child_key, row in self.store._table(view, child).items():
                    if row.get(fk) == key and not (child.name == model.name and child_key == key):
                        raise StoreError(
                            f"{model.name} {key!r} is still referenced by {child.name} "
                            f"{child_key!r} ({fk}; FOREIGN KEY constraint)"
                        )

    def insert(self, model: Model, values: Mapping[str, Any], read_back: bool = True) -> Row:
        # Rows here are always as stored: read_back changes nothing.
        table = self._writable(model)
        # As SQL: coerced values, and a column default where the value is absent (not
        # where it is NULL). Coercion copies JSON values: nothing is shared with ``values``.
        row = model.row_as_sent(model.coerce_values(values))
        pk = model.primary_key
        if row.get(pk) is None:
            kind = model.fields[pk].type
            if kind == "uuid":
                row[pk] = uuid.uuid4()
            elif kind != "integer":  # as SQL: only integer keys are generated
                raise StoreError(f"{model.name}.{pk} may not be NULL (NOT NULL constraint)")
            else:
                row[pk] = self.store._next_ids[model.table]
                while row[pk] in table:
                    row[pk] += 1
        elif row[pk] in table:
            raise StoreError(f"{model.name} {row[pk]!r} already exists (primary key)")
        if isinstance(row[pk], int):
            next_ids = self.store._next_ids
            next_ids[model.table] = max(next_ids[model.table], row[pk] + 1)
        if model.lock_field is not None and row.get(model.lock_field) is None:
            row[model.lock_field] = 0
        for name, field in model.fields.items():
            if row[name] is None and not field.null and name != pk:
                raise StoreError(f"{model.name}.{name} may not be NULL (NOT NULL constraint)")
        self._check_references(model, row, row)
        table[row[pk]] = row
        return detached(model, row)
