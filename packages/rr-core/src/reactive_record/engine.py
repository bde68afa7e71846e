"""The read and write pipelines: every read and write goes through here and its hooks."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .actors import SYSTEM, current_user
from .errors import (
    InvalidQuery,
    ReactiveRecordError,
    RecordNotFound,
    UnknownField,
    ValidationError,
)
from .plugins import phase_caller
from .query import ModelHandle, Query, QuerySpec
from .records import Record, RecordBatch

if TYPE_CHECKING:
    from .core import ReactiveRecord
    from .live import LiveRecord
    from .model import Model, Scope
    from .store import Row, Store, Transaction

log = logging.getLogger("reactive_record")


@dataclass
class Plan:
    """What a read will run: the spec plus what ``rr_plan_query`` added.

    The store reads ``where``, ``order``, ``limit`` and ``offset``; plugins call
    :meth:`add_condition` and :meth:`add_post_filter`.
    """

    spec: QuerySpec
    model: Model
    rr: ReactiveRecord
    user: Any
    condition: cond.Node
    order: tuple[tuple[str, bool], ...]
    limit: int | None
    offset: int
    now: dt.datetime
    conditions: list[cond.Node] = field(default_factory=list)
    post_filters: list[Callable[[Record], bool]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """The action the read serves (``read`` unless a plugin's option says otherwise)."""
        return str(self.spec.option("action", "read"))

    @property
    def unscoped(self) -> bool:
        """Whether the query asked to bypass read scoping."""
        return bool(self.spec.option("unscoped", False))

    @property
    def where(self) -> cond.Node:
        """The full condition: the query's own ANDed with every plugin's."""
        if not self.conditions:
            return self.condition
        return cond.conjoin(self.condition, *self.conditions)

    def add_condition(self, condition: Any) -> None:
        """AND a condition (data in the condition language, or a parsed node)."""
        node = cond.parse(condition, self.model, self.rr.model_definition)
        self.conditions.append(
            cond.bind(node, self.model, self.rr.model_definition, user=self.user, now=self.now)
        )

    def add_post_filter(self, keep: Callable[[Record], bool]) -> None:
        """Keep only records for which ``keep(record)`` is True (applied after fetching)."""
        self.post_filters.append(keep)


@dataclass
class Change:
    """One write: model, operation, key, the row before, the values after, the user."""

    model: Model
    operation: str
    key: Any
    before: Record | None
    after: dict[str, Any]
    user: Any
    rr: ReactiveRecord
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def row(self) -> dict[str, Any]:
        """The row as it will be (or was) written: ``before`` overlaid with ``after``."""
        merged = _values_of(self.before)
        if self.operation != "destroy":
            merged.update(self.after)
        return merged

    @property
    def changed_fields(self) -> tuple[str, ...]:
        """Fields whose value the change alters (all written fields for a create)."""
        before: Mapping[str, Any] = self.before or {}
        if self.operation == "destroy":
            return tuple(before)
        return tuple(
            name
            for name, value in self.after.items()
            if name not in before or before[name] != value
        )


@dataclass
class _TxState:
    tx: _HandedOut
    changes: list[Change] = field(default_factory=list)
    written: int = 0
    broken: BaseException | None = None


class _HandedOut:
    """The store's transaction as the engine hands it out (to ``rr.transaction()`` and hooks).

    Rows plugins write with ``insert`` (rr-activity's entries) are kept as create changes
    so live queries see them; ``rr_after_commit`` still gets only the engine's own writes.
    """

    read: Callable[..., Row | None]
    fetch: Callable[[Plan], list[Row]]
    count: Callable[[Plan], int]
    write: Callable[[Change], Row | None]

    def __init__(self, tx: Transaction, rr: ReactiveRecord) -> None:
        self.store_tx = tx
        self.rr = rr
        self.inserted: list[Change] = []
        # The store's own methods, not wrappers: each write calls read and write.
        self.read = tx.read
        self.fetch = tx.fetch
        self.count = tx.count
        self.write = tx.write

    def insert(self, model: Model, values: Mapping[str, Any], read_back: bool = True) -> Row:
        """As :meth:`Transaction.insert`, and the row reaches live queries at commit."""
        row = self.store_tx.insert(model, values, read_back)
        key = row[model.primary_key]
        self.inserted.append(Change(model, "create", key, None, dict(row), None, self.rr))
        return row


class Engine:
    """Runs reads and writes for one :class:`ReactiveRecord`, calling its hooks in phases."""

    def __init__(self, rr: ReactiveRecord, store: Store) -> None:
        from .live import LiveQueries

        self.rr = rr
        self.store = store
        #: Set by ``rr.close()``: every read and write then refuses.
        self.closed = False
        self.hook = rr.plugin_manager.hook
        self._tx: contextvars.ContextVar[_TxState | None] = contextvars.ContextVar(
            f"reactive_record_tx_{id(self)}", default=None
        )
        self._methods: dict[str, dict[str, Callable[..., Any]]] = {}
        self._read_phases = [
            phase
            for phase in (
                self.hook.rr_fill_records,
                self.hook.rr_filter_records,
                self.hook.rr_decorate_records,
            )
            if phase.get_hookimpls()
        ]
        # Only the filter phase drops records, so only it (with the fill phase it may
        # rely on) can make a count differ from the store's COUNT.
        self._count_phases = (
            [p for p in self._read_phases if p is not self.hook.rr_decorate_records]
            if self.hook.rr_filter_records.get_hookimpls()
            else []
        )
        self._plans_queries = bool(self.hook.rr_plan_query.get_hookimpls())
        # The write phases, in order, as phase_caller gives them: None where no plugin
        # implements one, a lone plain implementation called directly (plugins are all
        # registered before the engine exists, as for the read phases).
        self._rewrite = phase_caller(self.hook.rr_rewrite_change)
        self._fill = phase_caller(self.hook.rr_fill_change)
        self._validate = phase_caller(self.hook.rr_validate_change)
        self._authorize = phase_caller(self.hook.rr_authorize_change)
        self._on_write = phase_caller(self.hook.rr_on_write)
        self._after_commit = phase_caller(self.hook.rr_after_commit)
        self.live = LiveQueries(self)

    # -- models and builders -----------------------------------------------------------

    def model_named(self, name: str) -> Model:
        """The model called ``name`` (for association lookups)."""
        return self.rr.model_definition(name)

    def handle(self, model: Model) -> ModelHandle[Any]:
        """The :class:`ModelHandle` of ``model``."""
        return ModelHandle(self, model, QuerySpec(model.name))

    def query_method(self, model: Model, name: str) -> Callable[..., Any] | None:
        """A builder method a plugin added through ``rr_query_methods``."""
        methods = self._methods.get(model.name)
        if methods is None:
            methods = {}
            for result in self.hook.rr_query_methods(model=model):
                methods.update(result or {})
            self._methods[model.name] = methods
        return methods.get(name)

    def apply_scope(
        self, query: Query[Any], scope: Scope, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> Query[Any]:
        """``Job.by_client(7)``: the scope's condition with its parameters bound."""
        model = query.model
        if len(args) > len(scope.params):
            raise InvalidQuery(
                f"{model.name}.{scope.name}() takes {len(scope.params)} parameter(s) "
                f"({', '.join(scope.params) or 'none'}), got {len(args)}",
                model=model.name,
            )
        params = dict(zip(scope.params, args, strict=False))
        for name, value in kwargs.items():
            if name not in scope.params:
                raise InvalidQuery(
                    f"{model.name}.{scope.name}() has no parameter {name!r}", model=model.name
                )
            params[name] = value
        missing = [p for p in scope.params if p not in params]
        if missing:
            raise InvalidQuery(
                f"{model.name}.{scope.name}() needs parameter(s) {', '.join(missing)}",
                model=model.name,
            )
        node = cond.parse(scope.where, model, self.model_named)
        node = cond.bind(node, model, self.model_named, params=params, params_only=True)
        result: Query[Any] = Query(
            self, model, replace(query.spec, where=cond.conjoin(query.spec.where, node))
        )
        if scope.order:
            result = result.order(*scope.order)
        if scope.limit is not None:
            result = result.limit(scope.limit)
        if "scopes" in model.ttl and result.spec.option("ttl") is None:
            result = result.with_options(ttl=model.ttl["scopes"])  # the model's scope TTL
        return result

    # -- reads ---------------------------------------------------------------------------

    def user_of(self, spec: QuerySpec) -> Any:
        """The user a read acts for: bound on the query, else the ``acting_as`` user."""
        user = spec.option("user")
        return user if user is not None else current_user(self.rr)

    def plan(self, spec: QuerySpec, now: dt.datetime | None = None) -> Plan:
        """Bind the spec and let plugins enhance it (``rr_plan_query``)."""
        model = self.model_named(spec.model)
        user = self.user_of(spec)
        moment = now or self.rr.clock()
        bound = cond.bind(spec.where, model, self.model_named, user=user, now=moment)
        order = spec.order
        if not order or order[-1][0] != model.primary_key:
            order = (*order, (model.primary_key, False))
        plan = Plan(spec, model, self.rr, user, bound, order, spec.limit, spec.offset, moment)
        if self._plans_queries:
            self.hook.rr_plan_query(plan=plan)
        return plan

    def _source(self) -> Store | Transaction:
        state = self._tx.get()
        if state is not None:
            return state.tx
        self._check_open()
        return self.store

    def _check_open(self) -> None:
        if self.closed:
            # Rather than let a disposed pool quietly open connections nothing closes.
            raise ReactiveRecordError("this ReactiveRecord is closed")

    def fetch_plan(self, plan: Plan) -> list[Record]:
        """Run a plan against the store (or the open transaction), post-filters included."""
        source = self._source()
        name = plan.model.name
        adopt = Record._adopt
        if not plan.post_filters:
            return [adopt(name, row) for row in source.fetch(plan)]
        return self._fetch_filtered(source, plan)

    def _fetch_filtered(self, source: Store | Transaction, plan: Plan) -> list[Record]:
        # Python-only rules cannot go into SQL: read pages until the limit is filled exactly.
        name = plan.model.name
        page = max(100, 2 * (plan.limit or 0))
        skip, wanted = plan.offset, plan.limit
        out: list[Record] = []
        position = 0
        while True:
            rows = source.fetch(replace(plan, limit=page, offset=position))
            for row in rows:
                record = Record._adopt(name, row)
                if not all(keep(record) for keep in plan.post_filters):
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append(record)
                if wanted is not None and len(out) >= wanted:
                    return out
            if len(rows) < page:
                return out
            position += page

    def read(self, query: Query[Any]) -> tuple[Record, ...]:
        """The read pipeline: plan, fetch, the three read phases, includes, computed."""
        cached = self.live.cached(query)
        if cached is not None:
            return cached
        plan = self.plan(query.spec)
        return self.finish(plan, self.fetch_plan(plan))

    def finish(self, plan: Plan, records: list[Record]) -> tuple[Record, ...]:
        """Run the read phases over fetched records, then attach includes and computed."""
        if self._read_phases:
            batch = RecordBatch(records)
            for phase in self._read_phases:
                phase(plan=plan, records=batch)
            records = batch
        if plan.spec.includes and records:
            records = self._attach_includes(plan, records)
        computed = self.computed_for(plan)
        if computed:
            records = [self._compute(plan.model, record, computed) for record in records]
        return tuple(records)

    def count(self, query: Query[Any]) -> int:
        """Count matching records (limit and offset applied, post-filters honoured)."""
        plan = self.plan(query.spec)
        if plan.post_filters or self._count_phases:
            # What the read phases keep counts; includes and computed values are not read.
            batch = RecordBatch(self.fetch_plan(plan))
            for phase in self._count_phases:
                phase(plan=plan, records=batch)
            return len(batch)
        total = self._source().count(plan)
        total = max(0, total - plan.offset)
        return total if plan.limit is None else min(total, plan.limit)

    def find(self, within: Query[Any], key: Any) -> LiveRecord[Any]:
        """The record of ``within`` with primary key ``key``, or RecordNotFound at once."""
        model = within.model
        coerced = model.field(model.primary_key).coerce(key, model.name)
        found = self.live.record(within.where({model.primary_key: coerced}))
        if found.data is None:
            raise RecordNotFound(model.name, key)
        return found

    def find_by(self, query: Query[Any]) -> LiveRecord[Any]:
        """The first record of ``query`` as a live record (``.data`` None when absent)."""
        return self.live.record(query)

    def computed_for(self, plan: Plan) -> tuple[tuple[str, Callable[[Record], Any]], ...]:
        """Computed properties of a read: the model's configured ones, then the query's."""
        configured = self.rr.computed_functions(plan.model)
        extra = plan.spec.option("computed") or ()
        return tuple(configured) + tuple(extra)

    def _compute(
        self, model: Model, record: Record, computed: Sequence[tuple[str, Callable[[Record], Any]]]
    ) -> Record:
        values: dict[str, Any] = {}
        for name, function in computed:
            try:
                values[name] = function(record)
            except Exception as exc:
                key = record.get(model.primary_key)
                raise ReactiveRecordError(
                    f"computed property {model.name}.{name} failed for {model.name} {key!r}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return record.with_extra(**values)

    def _attach_includes(self, plan: Plan, records: list[Record]) -> list[Record]:
        groups: dict[str, list[str]] = {}
        for path in plan.spec.includes:
            head, _, rest = path.partition(".")
            groups.setdefault(head, [])
            if rest:
                groups[head].append(rest)
        for name, nested in groups.items():
            records = self._attach_one(plan, records, name, tuple(nested))
        return records

    def _attach_one(
        self, plan: Plan, records: list[Record], name: str, nested: tuple[str, ...]
    ) -> list[Record]:
        model = plan.model
        association = model.association(name)
        target = self.model_named(association.model)
        if association.through:
            return self._attach_through(plan, records, name, nested)
        if association.kind == "belongs_to":
            wanted = {r[association.foreign_key] for r in records} - {None}
            related = self._related(
                plan, target, {target.primary_key: sorted(wanted, key=repr)}, nested
            )
            by_key = {r[target.primary_key]: r for r in related}
            return [r.with_extra(**{name: by_key.get(r[association.foreign_key])}) for r in records]
        keys = [r[model.primary_key] for r in records]
        where: dict[str, Any] = {association.foreign_key: keys}
        if association.polymorphic_type is not None:
            type_field, type_value = association.polymorphic_type
            where[type_field] = type_value
            where[association.foreign_key] = [str(k) for k in keys]
        # ``include_limits`` caps each parent's records (newest five logs of each job);
        # with one parent the cap goes into the read itself.
        limit = dict(plan.spec.option("include_limits") or ()).get(name)
        related = self._related(
            plan, target, where, nested, association.order, limit if len(keys) == 1 else None
        )
        children: dict[Any, list[Record]] = {}
        for child in related:
            children.setdefault(child[association.foreign_key], []).append(child)
        if association.polymorphic_type is not None:
            return [
                r.with_extra(**{name: tuple(children.get(str(r[model.primary_key]), ())[:limit])})
                for r in records
            ]
        return [
            r.with_extra(**{name: tuple(children.get(r[model.primary_key], ())[:limit])})
            for r in records
        ]

    def _attach_through(
        self, plan: Plan, records: list[Record], name: str, nested: tuple[str, ...]
    ) -> list[Record]:
        model = plan.model
        association = model.associations[name]
        hop = model.associations[association.through or ""]
        middle_model = self.model_named(hop.model)
        target = self.model_named(association.model)
        keys = [r[model.primary_key] for r in records]
        middles = self._related(plan, middle_model, {hop.foreign_key: keys}, ())
        fk = association.foreign_key
        if fk in middle_model.fields:
            target_keys = sorted({m[fk] for m in middles} - {None}, key=repr)
            targets = {
                t[target.primary_key]: t
                for t in self._related(plan, target, {target.primary_key: target_keys}, nested)
            }
            links = [(m[hop.foreign_key], targets.get(m[fk])) for m in middles]
        else:
            middle_keys = [m[middle_model.primary_key] for m in middles]
            parent_of = {m[middle_model.primary_key]: m[hop.foreign_key] for m in middles}
            found = self._related(plan, target, {fk: middle_keys}, nested)
            links = [(parent_of[t[fk]], t) for t in found]
        grouped: dict[Any, dict[Any, Record]] = {}
        for parent, child in links:
            if child is not None:
                grouped.setdefault(parent, {})[child[target.primary_key]] = child
        return [
            r.with_extra(**{name: tuple(grouped.get(r[model.primary_key], {}).values())})
            for r in records
        ]

    def _related(
        self,
        plan: Plan,
        target: Model,
        where: Mapping[str, Any],
        nested: tuple[str, ...],
        order: tuple[tuple[str, bool], ...] = (),
        limit: int | None = None,
    ) -> tuple[Record, ...]:
        # Scoped like the parent read: same user, same options, so permissions apply; but
        # related records are read, whatever action the parent was listed for.
        options = tuple(
            (k, v) for k, v in plan.spec.options if k not in ("computed", "ttl", "action")
        )
        node = cond.parse(dict(where), target, self.model_named)
        spec = QuerySpec(target.name, node, order, limit, 0, nested, options)
        child_plan = self.plan(spec, plan.now)
        return self.finish(child_plan, self.fetch_plan(child_plan))

    # -- writes --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One database transaction; nested use joins the outer one.

        A nested block left by an exception after it wrote rows breaks the outer one (no
        savepoints): catching that exception cannot keep half of it, the outer
        transaction can only roll back (decision 0003).
        """
        state = self._tx.get()
        self._check_open()
        if state is not None:
            written = state.written
            try:
                yield state.tx
            except BaseException as exc:
                if state.written != written and state.broken is None:
                    state.broken = exc
                raise
            return
        with self.live.committing() as commit, self.store.transaction() as store_tx:
            state = _TxState(_HandedOut(store_tx, self.rr))
            token = self._tx.set(state)
            try:
                yield state.tx
                if state.broken is not None:
                    raise _broken(state.broken) from state.broken
            finally:
                self._tx.reset(token)
            # Commits reach live queries in the order they commit (see dispatcher.py).
            commit.ready([*state.changes, *state.tx.inserted])
        self._committed(state.changes)

    @property
    def in_transaction(self) -> bool:
        """Whether this context is inside ``rr.transaction()``."""
        return self._tx.get() is not None

    @contextmanager
    def committed_reads(self) -> Iterator[None]:
        """Reads inside see committed data only: live results never see an open transaction."""
        token = self._tx.set(None)
        try:
            yield
        finally:
            self._tx.reset(token)

    def _committed(self, changes: list[Change]) -> None:
        if not changes or self._after_commit is None:
            return
        try:
            self._after_commit(rr=self.rr, changes=tuple(changes))
        except Exception as exc:
            log.exception("rr_after_commit failed; the commit stands")
            self.rr.signal("callback-error").send(self.rr, error=exc, changes=tuple(changes))

    def new(self, handle: ModelHandle[Any], values: Mapping[str, Any]) -> Record:
        """An unsaved record: the values coerced, then every default filled."""
        model = handle.model
        after = self._coerce(model, values, None)
        change = Change(model, "create", None, None, after, self._user(None), self.rr)
        change.meta["unsaved"] = True
        # The query new() was called on: its options say what the caller asked for
        # (`Job.with_defaults().new()`).
        change.meta["query"] = handle.spec
        if self._fill is not None:
            self._fill(change=change)
        row = dict.fromkeys(model.fields)
        row.update(change.after)
        return Record._adopt(model.name, row)  # a fresh dict: no copy needed

    def write(
        self,
        handle: ModelHandle[Any],
        operation: str,
        key: Any,
        values: Mapping[str, Any],
        user: Any,
    ) -> Record | None:
        """One create, update or destroy through every write phase, in a transaction."""
        model = handle.model
        acting = self._user(user)
        _check_values(model, operation, values)
        if key is not None:
            key = model.fields[model.primary_key].coerce(key, model.name)
        if self._tx.get() is None:
            # Its own transaction: a failure rolls back all it wrote, no outer one to break.
            with self.transaction() as tx:
                return self._write_one(tx, model, operation, key, values, acting)
        with self._write_scope() as tx:
            return self._write_one(tx, model, operation, key, values, acting)

    def write_many(
        self, query: Query[Any], operation: str, values: Mapping[str, Any], user: Any
    ) -> int:
        """``update_all`` / ``destroy_all``: the pipeline once per matching row, one transaction."""
        model = query.model
        acting = self._user(user)
        _check_values(model, f"{operation}_all", values)
        action = "update" if operation == "update" else "destroy"
        # Locked as read (SELECT ... FOR UPDATE): as SQL's UPDATE ... WHERE, a row another
        # transaction changed meanwhile is matched as it now is, and a deleted one skipped.
        spec = query.spec.with_option("action", action).with_option("lock", True)
        if spec.option("user") is None and acting is not None:
            spec = spec.with_option("user", acting)
        with self._write_scope() as tx:
            plan = self.plan(spec)
            keys = [record[model.primary_key] for record in self.fetch_plan(plan)]
            for key in keys:
                # A self-referencing dependent cascade may already have destroyed this row.
                if operation == "destroy" and tx.read(model, key) is None:
                    continue
                self._write_one(tx, model, operation, key, values, acting)
        return len(keys)

    @contextmanager
    def _write_scope(self) -> Iterator[Transaction]:
        """The transaction of one write call: a failure after it wrote rows breaks an outer one.

        A write that fails writes nothing, even when the caller catches its exception inside
        ``rr.transaction()``: the outer transaction can then only roll back.
        """
        with self.transaction() as tx:  # a nested one marks the outer broken on failure
            state = self._tx.get()
            if state is not None and state.broken is not None:
                raise _broken(state.broken) from state.broken
            yield tx

    def _user(self, user: Any) -> Any:
        """The writer: ``user=``, else the ``acting_as`` user, else SYSTEM where allowed.

        With ``system_writes = true`` a write that names no user is a system write, so
        every plugin sees the same actor (rr-activity attributes it to ``system``).
        """
        if user is None:
            user = current_user(self.rr)
        if user is None and self.rr.settings.get("system_writes", False):
            return SYSTEM
        return user

    def _coerce(self, model: Model, values: Mapping[str, Any], key: Any) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name not in model.fields:
                raise UnknownField(model.name, name, list(model.fields))
            try:
                out[name] = model.fields[name].coerce(value, model.name)
            except InvalidQuery as exc:
                errors[name] = [str(exc).split(": ", 1)[-1]]
        if errors:
            raise ValidationError(model.name, errors, key)
        return out

    def _write_one(
        self,
        tx: Transaction,
        model: Model,
        operation: str,
        key: Any,
        values: Mapping[str, Any],
        user: Any,
    ) -> Record | None:
        after = self._coerce(model, values, key)
        before: Record | None = None
        if operation != "create":
            row = tx.read(model, key, lock=True)
            if row is None:
                raise RecordNotFound(model.name, key)
            before = Record._adopt(model.name, row)  # the read's own dict: no copy needed
        elif model.primary_key in after and after[model.primary_key] is None:
            del after[model.primary_key]
        change = Change(model, operation, key, before, after, user, self.rr)
        if self._rewrite is not None:
            self._rewrite(change=change)
        if change.operation == "destroy":
            self._destroy_dependents(tx, change)
        for phase in (self._fill, self._validate, self._authorize):
            if phase is not None:
                phase(change=change)
        stored = tx.write(change)
        state = self._tx.get()
        if state is not None:
            state.written += 1
        if stored is not None:
            change.after = stored
            change.key = stored[model.primary_key]
        if self._on_write is not None:
            self._on_write(change=change, tx=tx)
        if state is not None:
            state.changes.append(change)
        return Record(model.name, stored) if stored is not None else None

    def _destroy_dependents(self, tx: Transaction, change: Change) -> None:
        model = change.model
        for association in model.associations.values():
            if association.kind != "has_many" or association.dependent != "destroy":
                continue
            if association.through:
                continue
            target = self.model_named(association.model)
            node = cond.parse({association.foreign_key: change.key}, target, self.model_named)
            spec = QuerySpec(target.name, node).with_option("unscoped", True)
            plan = self.plan(spec)
            for row in tx.fetch(plan):
                self._write_one(tx, target, "destroy", row[target.primary_key], {}, change.user)


def _values_of(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a record's values (a Record's own dict is copied at C speed)."""
    if record is None:
        return {}
    if type(record) is Record:
        return dict(record._values)
    return dict(record)


def _broken(cause: BaseException) -> ReactiveRecordError:
    return ReactiveRecordError(
        "the transaction was rolled back: a write or nested block inside it failed after "
        "writing rows "
        f"({type(cause).__name__}: {cause}); nothing of the transaction was kept"
    )


def _check_values(model: Model, call: str, values: object) -> None:
    """A write's values must be a mapping (before anything is read or written)."""
    if type(values) is not dict and not isinstance(values, Mapping):
        raise InvalidQuery(f"{model.name}.{call}() takes a mapping of values, not {values!r}")
