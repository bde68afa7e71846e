"""Immutable queries: QuerySpec (data with a fingerprint) and Query (the builder)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import conditions as cond
from .actors import current_user, user_identity
from .errors import InvalidQuery, PluginNotInstalled, RecordNotFound, hidden_field
from .records import Record

if TYPE_CHECKING:
    from .core import ReactiveRecord
    from .engine import Engine
    from .live import LiveRecord, LiveValue, Snapshot
    from .model import Model

R = TypeVar("R", bound=Record)

#: Builder methods of the first-party plugins, so a missing plugin is named, not guessed.
PLUGIN_METHODS = {
    "with_permissions": "rr-permissions",
    "with_activity_logs": "rr-activity",
    "with_defaults": "rr-defaults",
}

#: Options that change what a query means (and so its fingerprint); the rest only
#: change how a result is presented or kept (computed values, TTL).
PRESENTATION_OPTIONS = frozenset({"computed", "ttl"})


@dataclass(frozen=True)
class QuerySpec:
    """Immutable data describing one read; equal specs have equal fingerprints."""

    model: str
    where: cond.Node = cond.TRUE
    order: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    offset: int = 0
    includes: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        """The value of option ``name`` (the acting user, an action, a TTL...)."""
        for key, value in self.options:
            if key == name:
                return value
        return default

    def with_option(self, name: str, value: Any) -> QuerySpec:
        """A copy with option ``name`` set to ``value``."""
        kept = tuple((k, v) for k, v in self.options if k != name)
        return replace(self, options=tuple(sorted((*kept, (name, value)), key=_first)))

    def to_data(self) -> dict[str, Any]:
        """The JSON query payload of DESIGN.md §6."""
        data: dict[str, Any] = {"model": self.model, "where": cond.to_data(self.where)}
        data["order"] = [("-" if desc else "") + name for name, desc in self.order]
        if self.limit is not None:
            data["limit"] = self.limit
        data["offset"] = self.offset
        data["includes"] = list(self.includes)
        return data

    @property
    def fingerprint(self) -> str:
        """A canonical hash of what the query means, the acting user included."""
        data = self.to_data()
        data["where"] = cond.to_data(cond.canonical(self.where))
        data["options"] = {
            key: user_identity(value) if key == "user" else repr(value)
            for key, value in self.options
            if key not in PRESENTATION_OPTIONS
        }
        return hashlib.sha256(cond.canonical_json(data).encode()).hexdigest()[:32]


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def parse_order(model: Model, terms: Sequence[str]) -> tuple[tuple[str, bool], ...]:
    """``["-priority", "title"]`` as ``(("priority", True), ("title", False))``, fields checked."""
    out: list[tuple[str, bool]] = []
    for term in terms:
        if not isinstance(term, str) or not term.lstrip("-+"):
            raise InvalidQuery(f"{model.name}: order terms are field names, not {term!r}")
        descending = term.startswith("-")
        name = term.lstrip("-+")
        if model.field(name).type == "json":
            raise InvalidQuery(f"{model.name}.{name} is json: JSON values have no order")
        out.append((name, descending))
    return tuple(out)


class Query(Generic[R]):
    """A lazy, immutable query: every builder method returns a new Query."""

    __slots__ = ("_engine", "_model", "spec")

    def __init__(self, engine: Engine, model: Model, spec: QuerySpec) -> None:
        # The acting user is bound when a query is built (DESIGN.md §7): it is part of
        # the fingerprint, so two users never share a cached or live result.
        if spec.option("user") is None:
            user = current_user(engine.rr)
            if user is not None:
                spec = spec.with_option("user", user)
        self._engine = engine
        self._model = model
        self.spec = spec

    # -- building ---------------------------------------------------------------------

    def _with(self, **changes: Any) -> Query[R]:
        return Query(self._engine, self._model, replace(self.spec, **changes))

    @property
    def model(self) -> Model:
        """The model this query reads."""
        return self._model

    @property
    def rr(self) -> ReactiveRecord:
        """The instance this query belongs to (so ``rr.models.Job`` is enough to name both)."""
        return self._engine.rr

    def where(self, condition: Mapping[str, Any] | None = None, /, **fields: Any) -> Query[R]:
        """AND a condition (``{"or": [...]}`` data, or ``field=value`` keywords)."""
        if condition is not None and not isinstance(condition, Mapping):
            # dict() of a string would raise a bare ValueError: name the mistake instead.
            cond.parse(condition, self._model, self._engine.model_named)
        data: dict[str, Any] = dict(condition or {})
        data.update(fields)
        node = cond.parse(data, self._model, self._engine.model_named)
        return self._with(where=cond.conjoin(self.spec.where, node))

    def order(self, *terms: str) -> Query[R]:
        """Order by fields (``"-priority"`` descending); the primary key always ends it."""
        return self._with(order=self.spec.order + parse_order(self._model, terms))

    def limit(self, count: int | None) -> Query[R]:
        """At most ``count`` records."""
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            raise InvalidQuery(f"limit takes a non-negative integer, not {count!r}")
        return self._with(limit=count)

    def offset(self, count: int) -> Query[R]:
        """Skip the first ``count`` records."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidQuery(f"offset takes a non-negative integer, not {count!r}")
        return self._with(offset=count)

    def includes(self, *associations: str) -> Query[R]:
        """Attach associated records as attributes (one query per association)."""
        for name in associations:
            self._model.association(name.split(".", 1)[0])
        return self._with(includes=self.spec.includes + tuple(associations))

    def with_ttl(self, ttl: str) -> Query[R]:
        """Keep the result cached for ``ttl`` ("none", "30s", "5m", "forever"...)."""
        from .durations import parse_ttl

        try:
            parse_ttl(ttl)
        except ValueError as exc:
            raise InvalidQuery(str(exc)) from None
        return self.with_options(ttl=ttl)

    def with_computed(self, computed: Mapping[str, Callable[[Record], Any]]) -> Query[R]:
        """Attach computed values to each record (``{"label": lambda job: ...}``)."""
        merged = dict(self.spec.option("computed") or {})
        merged.update(computed)
        return self.with_options(computed=tuple(merged.items()))

    def unscoped(self) -> Query[R]:
        """An explicit system read that bypasses read scoping (permissions)."""
        return self.with_options(unscoped=True)

    def as_user(self, user: Any) -> Query[R]:
        """Bind the acting user of this read (otherwise ``acting_as`` at build time)."""
        return self.with_options(user=user)

    def with_options(self, **options: Any) -> Query[R]:
        """A copy with options set: plugins' builder methods are made of this."""
        spec = self.spec
        for name, value in options.items():
            spec = spec.with_option(name, value)
        # A handle stays a handle, so `Job.with_permissions(alice).find(42)` works.
        return type(self)(self._engine, self._model, spec)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        scope = self._model.scopes.get(name)
        if scope is not None:
            return lambda *args, **kwargs: self._engine.apply_scope(self, scope, args, kwargs)
        method = self._engine.query_method(self._model, name)
        if method is not None:
            return lambda *args, **kwargs: method(self, *args, **kwargs)
        if name in PLUGIN_METHODS:
            raise PluginNotInstalled(f"{self._model.name}.{name}()", PLUGIN_METHODS[name])
        raise AttributeError(f"{self._model.name} has no scope or query method {name!r}")

    # -- running ----------------------------------------------------------------------

    def all(self) -> tuple[R, ...]:
        """Run the query: every matching record, in order."""
        return self._engine.read(self)  # type: ignore[return-value]

    @property
    def data(self) -> tuple[R, ...]:
        """The current result (an alias of :meth:`all` for collections)."""
        return self.all()

    def __iter__(self) -> Iterator[R]:
        return iter(self.all())

    def first(self) -> R | None:
        """The first record, or None."""
        found = self._at_most(1).all()
        return found[0] if found else None

    def one(self) -> R:
        """The only record: raises RecordNotFound for none and InvalidQuery for several."""
        found = self._at_most(2).all()
        if not found:
            raise RecordNotFound(self._model.name, condition=cond.to_data(self.spec.where))
        if len(found) > 1:
            raise InvalidQuery(f"{self._model.name}: one() found more than one record")
        return found[0]

    def find(self, key: Any) -> LiveRecord[R]:
        """The record with primary key ``key`` within this query (its includes and options
        kept: ``Job.with_activity_logs(limit=5).find(42)``); RecordNotFound at once if absent.
        """
        return self._engine.find(self, key)

    def find_by(
        self, condition: Mapping[str, Any] | None = None, /, **fields: Any
    ) -> LiveRecord[R]:
        """The first record matching the condition; ``.data`` is None when there is none."""
        return self._engine.find_by(self.where(condition, **fields))

    def count(self) -> int:
        """How many records match (limit and offset applied)."""
        return self._engine.count(self)

    def exists(self) -> bool:
        """Whether any record matches (limit and offset applied)."""
        return self.first() is not None

    def _at_most(self, count: int) -> Query[R]:
        """This query reading at most ``count`` rows, a tighter limit of its own kept."""
        limit = self.spec.limit
        return self.limit(count if limit is None else min(count, limit))

    def pluck(self, *names: str) -> list[Any]:
        """The values of one field (a list) or of several (a list of tuples)."""
        for name in names:
            self._model.field(name)
        if not names:
            raise InvalidQuery("pluck() needs at least one field name")
        rows = self.all()
        for row in rows[:1]:
            for name in names:
                if name not in row:  # a plugin hid the field from this reader
                    raise hidden_field(self._model.name, name)
        if len(names) == 1:
            return [row[names[0]] for row in rows]
        return [tuple(row[n] for n in names) for row in rows]

    async def fetch(self) -> tuple[R, ...]:
        """Run the query without blocking the event loop."""
        import asyncio

        return await asyncio.to_thread(self.all)

    # -- writing many -----------------------------------------------------------------

    def update_all(self, values: Mapping[str, Any], *, user: Any = None) -> int:
        """Update every matching record through the write pipeline, in one transaction."""
        return self._engine.write_many(self, "update", values, user)

    def destroy_all(self, *, user: Any = None) -> int:
        """Destroy every matching record through the write pipeline, in one transaction."""
        return self._engine.write_many(self, "destroy", {}, user)

    # -- live -------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Snapshot], None]) -> Callable[[], None]:
        """Make the query live: ``callback(snapshot)`` now and after every change."""
        return self._engine.live.subscribe(self, callback)

    def watch(self) -> Any:
        """``async for snapshot in query.watch()``: the current result, then each change."""
        return self._engine.live.watch(self)

    def aggregate(self, function: str, field: str | None = None) -> LiveValue:
        """A live aggregate: ``aggregate("count")`` or ``aggregate("sum", "amount")``."""
        return self._engine.live.aggregate(self, function, field)

    def __repr__(self) -> str:
        return f"<Query {cond.canonical_json(self.spec.to_data())}>"


class ModelHandle(Query[R]):
    """``rr.models.Job``: the query of every Job, plus the single-record writes."""

    __slots__ = ()

    def new(self, values: Mapping[str, Any] | None = None, /, **fields: Any) -> R:
        """An unsaved record with every default filled in (nothing is written)."""
        data = dict(values or {})
        data.update(fields)
        return self._engine.new(self, data)  # type: ignore[return-value]

    def create(self, values: Mapping[str, Any], *, user: Any = None) -> R:
        """Insert a record through the write pipeline; returns the stored row."""
        return self._engine.write(self, "create", None, values, user)  # type: ignore[return-value]

    def update(self, key: Any, values: Mapping[str, Any], *, user: Any = None) -> R:
        """Update the record with primary key ``key``; returns the stored row."""
        return self._engine.write(self, "update", key, values, user)  # type: ignore[return-value]

    def destroy(self, key: Any, *, user: Any = None) -> None:
        """Destroy the record with primary key ``key`` (and its ``dependent`` children)."""
        self._engine.write(self, "destroy", key, {}, user)

    def __repr__(self) -> str:
        return f"<ModelHandle {self._model.name}>"
