"""Conditions and plans compiled to SQL once per *shape*, then run with bound values.

A bound condition tree is split in two by :func:`flatten`: its *shape* (fields,
operators, nesting, which lists are empty or hold NULL) and its *values*, in traversal
order. The shape keys a cache of :class:`Statement` objects: SQLAlchemy Core builds and
compiles each shape once; later calls only convert the values and hand the compiled SQL
to the DB-API cursor. A list is always one parameter (an array on PostgreSQL, JSON read
by ``json_each`` on SQLite, a tuple PyMySQL renders), so its length is not part of the
shape.

Meaning follows ``reactive_record.conditions.evaluate``: SQL's NULL logic; ``in []``
false and ``not_in []`` true; a NULL inside a ``not_in`` list makes it UNKNOWN; LIKE
case-sensitive, ILIKE folding ASCII only, ``\\`` escaping on every database; NULLs first
ascending and last descending.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from reactive_record import Model
from reactive_record import conditions as cond
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import UserDefinedType

from . import patterns
from .rows import Build, row_builder
from .types import MYSQL, POSTGRESQL, SQLITE, Convert, Reader, from_db, to_db

if TYPE_CHECKING:
    from reactive_record import Plan

Key = tuple[Any, ...]


class Untyped(UserDefinedType[Any]):
    """The type of every parameter: no SQL cast is rendered, the driver's typing applies.

    Without it psycopg's dialect casts a parameter to its column's type, and a cast to
    ``VARCHAR(3)`` or ``NUMERIC(12, 4)`` would truncate or round the value compared.
    """

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        """Never rendered: parameters only."""
        return ""


UNTYPED = Untyped()

LIMIT, OFFSET = "lim", "off"

#: Result columns, and how each one's values are read (None: as the driver gives them).
Result = tuple[tuple[str, ...], tuple[Reader | None, ...]]


# -- shapes -------------------------------------------------------------------------------


def flatten(node: cond.Node, values: list[Any]) -> Key:
    """The shape of ``node``; its values are appended to ``values`` in traversal order."""
    if isinstance(node, cond.Compare):
        op = node.op
        if op == "is_null":
            return ("is_null", node.field, bool(node.value))
        if op in ("in", "not_in"):
            items = tuple(node.value)
            present = tuple(v for v in items if v is not None)
            has_null = len(present) != len(items)
            slot = bool(present) and not (op == "not_in" and has_null)
            if slot:
                values.append(present)
            return (op, node.field, bool(items), has_null, slot)
        if op == "between":
            values.extend(node.value)
        else:
            values.append(node.value)
        return (op, node.field)
    if isinstance(node, cond.And):
        return ("and", tuple(flatten(item, values) for item in node.items))
    if isinstance(node, cond.Or):
        return ("or", tuple(flatten(item, values) for item in node.items))
    if isinstance(node, cond.Not):
        return ("not", flatten(node.item, values))
    return ("any", node.association, flatten(node.condition, values))


# -- compiled statements ------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """SQL compiled once, with what turns values into driver parameters and rows into dicts.

    ``slots`` converts each value (None: as it is); ``order`` lists, for a positional
    paramstyle, which value fills each placeholder (None: named parameters ``names``);
    ``constants`` are parameters SQLAlchemy added itself. ``build`` makes a result row a
    dict (``build_safe`` too, for values of unexpected types; see ``rows``). ``in_order``:
    ``order`` is the values' own order (most statements), so nothing is reordered.
    ``kind``: ``select``, ``count``, ``insert``, ``update`` or ``delete`` (each kind runs
    on a cursor of its own; see ``store.kept_cursors``).
    """

    sql: str
    slots: tuple[Convert | None, ...]
    order: tuple[int, ...] | None
    names: tuple[str, ...]
    constants: tuple[Any, ...]
    build: Build
    build_safe: Build
    in_order: bool = False
    kind: str = "select"

    def params(self, values: Sequence[Any]) -> Any:
        """The driver parameters for ``values`` (a tuple or a dict)."""
        converted = [
            v if convert is None or v is None else convert(v)
            for convert, v in zip(self.slots, values, strict=True)
        ]
        if self.constants:
            converted.extend(self.constants)
        if self.in_order:
            return tuple(converted)
        if self.order is not None:
            return tuple([converted[i] for i in self.order])
        return dict(zip(self.names, converted, strict=True))

    def rows(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """Result rows as dicts of field name to Python value."""
        try:
            return list(map(self.build, rows))
        except (TypeError, ValueError, AttributeError):
            return list(map(self.build_safe, rows))


class Compiler:
    """Builds the statements of one store: Core expressions in, :class:`Statement` out."""

    def __init__(
        self,
        kind: str,
        dialect: sa.Dialect,
        table: Callable[[Model], sa.Table],
        lookup: Callable[[str], Model],
        arrays: Callable[[Model], frozenset[str]] = lambda model: frozenset(),
    ) -> None:
        self.kind = kind
        self.dialect = dialect
        self.table = table
        self.lookup = lookup
        #: The json fields of a model whose column is a PostgreSQL array (``text[]``).
        self.arrays = arrays

    # -- statements -----------------------------------------------------------------------

    def select(
        self,
        model: Model,
        where: Key,
        order: Sequence[tuple[str, bool]],
        limit: bool,
        offset: bool,
        lock: bool = False,
    ) -> Statement:
        """``SELECT`` every field of ``model`` for a plan's shape."""
        build = _Build(self)
        table = self.table(model)
        stmt = sa.select(*(table.c[name] for name in model.fields))
        criteria = build.where(where, model, table)
        if criteria is not None:
            stmt = stmt.where(criteria)
        stmt = stmt.order_by(*(self._order(model, table.c[name], desc) for name, desc in order))
        if limit:
            stmt = stmt.limit(build.slot(LIMIT, None))
        if offset:
            stmt = stmt.offset(build.slot(OFFSET, None))
        if lock:
            stmt = stmt.with_for_update()
        return build.finish(stmt, self._result(model))

    def count(self, model: Model, where: Key) -> Statement:
        """``SELECT count(*)`` for a plan's shape."""
        build = _Build(self)
        table = self.table(model)
        stmt = sa.select(sa.func.count()).select_from(table)
        criteria = build.where(where, model, table)
        if criteria is not None:
            stmt = stmt.where(criteria)
        return build.finish(stmt, (("count",), (None,)), kind="count")

    def insert(self, model: Model, columns: Sequence[str], returning: bool) -> Statement:
        """``INSERT`` of ``columns`` (``RETURNING`` every field where the dialect can)."""
        build = _Build(self)
        table = self.table(model)
        values = {name: build.slot(name, self.to_db(model, name)) for name in columns}
        stmt = sa.insert(table).values(values)
        if returning:
            stmt = stmt.returning(*(table.c[name] for name in model.fields))
        # No columns: every column takes its default (``DEFAULT VALUES``).
        keys: list[str] | None = None if values else []
        return build.finish(stmt, self._result(model) if returning else None, keys, "insert")

    def update(
        self, model: Model, columns: Sequence[str], lock: str | None, returning: bool
    ) -> Statement:
        """``UPDATE`` by primary key; ``lock`` is None, ``"bump"`` or ``"check"``.

        With a lock field the version goes up by one; ``"check"`` also requires the
        version the writer saw (NULL equal to NULL). Parameters: the columns' values, the
        key, then the expected version.
        """
        build = _Build(self)
        table = self.table(model)
        values: dict[str, Any] = {
            name: build.slot(name, self.to_db(model, name)) for name in columns
        }
        version = table.c[model.lock_field] if model.lock_field is not None else None
        if lock is not None and version is not None:
            values[version.key] = sa.func.coalesce(version, 0) + 1
        pk = model.primary_key
        stmt = sa.update(table).values(values)
        stmt = stmt.where(table.c[pk] == build.slot("key", self.to_db(model, pk)))
        if lock == "check" and version is not None:
            stmt = stmt.where(version.is_not_distinct_from(build.slot("expected", None)))
        if returning:
            stmt = stmt.returning(*(table.c[name] for name in model.fields))
        return build.finish(stmt, self._result(model) if returning else None, kind="update")

    def delete(self, model: Model) -> Statement:
        """``DELETE`` by primary key."""
        build = _Build(self)
        table = self.table(model)
        pk = model.primary_key
        stmt = sa.delete(table).where(table.c[pk] == build.slot("key", self.to_db(model, pk)))
        return build.finish(stmt, None, kind="delete")

    # -- pieces ---------------------------------------------------------------------------

    def _order(self, model: Model, column: Any, descending: bool) -> Any:
        # SQLite and MariaDB already put NULLs first ascending and last descending, and a
        # column that holds none (a null = false field; the primary key every order ends
        # with is one) needs no word on them: saying it would keep PostgreSQL from reading
        # the order off an index, and a page would sort every matching row.
        if self.kind != POSTGRESQL or not model.fields[column.key].null:
            return column.desc() if descending else column.asc()
        return column.desc().nulls_last() if descending else column.asc().nulls_first()

    def to_db(self, model: Model, name: str) -> Convert | None:
        """How a value of field ``name`` is passed to the driver (None: as it is)."""
        field_type = model.fields[name].type
        if field_type == "json" and name in self.arrays(model):
            return None  # a list, which psycopg sends as an array
        return to_db(self.kind, field_type)

    def _result(self, model: Model) -> Result:
        return tuple(model.fields), tuple(from_db(self.kind, f) for f in model.fields.values())


class _Build:
    """The state of compiling one statement: its bound parameters, in traversal order."""

    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self.kind = compiler.kind
        self.slots: list[Convert | None] = []
        self.names: list[str] = []
        self.aliases = 0

    def slot(self, label: str, convert: Convert | None) -> Any:
        """A new bound parameter; its value is the next one in the values list."""
        name = f"p{len(self.slots)}_{label}"
        self.slots.append(convert)
        self.names.append(name)
        return sa.bindparam(name, type_=UNTYPED)

    def finish(
        self,
        stmt: Any,
        result: Result | None,
        column_keys: list[str] | None = None,
        kind: str = "select",
    ) -> Statement:
        """Compile ``stmt`` for the dialect and record how to fill its placeholders."""
        compiled = stmt.compile(dialect=self.compiler.dialect, column_keys=column_keys)
        index = {name: i for i, name in enumerate(self.names)}
        names = list(self.names)
        constants: list[Any] = []
        for name, value in compiled.params.items():
            if name not in index:
                index[name] = len(names)
                names.append(name)
                constants.append(value)
        positions = getattr(compiled, "positiontup", None)
        order = tuple(index[name] for name in positions) if positions is not None else None
        columns, readers = result if result is not None else ((), ())
        return Statement(
            compiled.string,
            tuple(self.slots),
            order,
            tuple(names),
            tuple(constants),
            row_builder(columns, readers, safe=False),
            row_builder(columns, readers, safe=True),
            order == tuple(range(len(names))),
            kind,
        )

    # -- conditions -----------------------------------------------------------------------

    def where(self, key: Key, model: Model, table: Any) -> Any:
        """The WHERE criteria of a shape, or None when it is TRUE."""
        if key == ("and", ()):
            return None
        return self.node(key, model, table)

    def node(self, key: Key, model: Model, table: Any) -> Any:
        """The Core expression of one shape node."""
        tag = key[0]
        if tag == "and":
            parts = [self.node(k, model, table) for k in key[1]]
            return sa.and_(*parts) if parts else sa.true()
        if tag == "or":
            parts = [self.node(k, model, table) for k in key[1]]
            return sa.or_(*parts) if parts else sa.false()
        if tag == "not":
            return sa.not_(self.node(key[1], model, table))
        if tag == "any":
            return self.exists(model, table, key[1], key[2])
        return self.compare(key, model, table)

    def compare(self, key: Key, model: Model, table: Any) -> Any:
        """One ``field op value`` comparison."""
        op, name = key[0], key[1]
        column = table.c[name]
        field_type = model.fields[name].type
        convert = self.compiler.to_db(model, name)
        if op == "is_null":
            return column.is_(None) if key[2] else column.is_not(None)
        if op in ("in", "not_in"):
            return self.membership(op, column, field_type, convert, key[2:])
        if op == "between":
            return column.between(self.slot(name, convert), self.slot(name, convert))
        if op in ("like", "ilike"):
            return self.like(op, column, name)
        param = self.slot(name, convert)
        return {
            "eq": column.__eq__,
            "ne": column.__ne__,
            "lt": column.__lt__,
            "lte": column.__le__,
            "gt": column.__gt__,
            "gte": column.__ge__,
        }[op](param)

    def membership(
        self,
        op: str,
        column: Any,
        field_type: str,
        convert: Convert | None,
        flags: tuple[bool, bool, bool],
    ) -> Any:
        """``in`` / ``not_in`` with one list parameter; empty lists and NULLs as the evaluator."""
        nonempty, has_null, slot = flags
        if not nonempty:
            return sa.false() if op == "in" else sa.true()
        if not slot:
            # in [NULL]: UNKNOWN; not_in with a NULL anywhere: UNKNOWN.
            return sa.null()
        param = self.slot(column.key, self.list_converter(convert))
        if self.kind == POSTGRESQL:
            if field_type == "json":
                param = sa.cast(param, postgresql.ARRAY(postgresql.JSONB))
            found = column == sa.any_(param) if op == "in" else column != sa.all_(param)
        elif self.kind == SQLITE:
            listed: Any = sa.select(sa.column("value")).select_from(sa.func.json_each(param))
            found = column.in_(listed) if op == "in" else column.not_in(listed)
        else:
            found = column.op("IN" if op == "in" else "NOT IN", is_comparison=True)(param)
        # in [1, NULL] is TRUE when found and UNKNOWN otherwise: x OR NULL.
        return sa.or_(found, sa.null()) if has_null else found

    def list_converter(self, convert: Convert | None) -> Convert:
        """How a tuple of values becomes the one list parameter of this dialect."""
        if self.kind == SQLITE:

            def to_json(items: Any) -> str:
                values = items if convert is None else [convert(v) for v in items]
                return json.dumps(values, separators=(",", ":"), ensure_ascii=False)

            return to_json
        if self.kind == POSTGRESQL:
            if convert is None:
                return list
            return lambda items: [convert(v) for v in items]
        if convert is None:
            return tuple
        return lambda items: tuple(convert(v) for v in items)

    def like(self, op: str, column: Any, name: str) -> Any:
        """LIKE / ILIKE with the evaluator's rules on each dialect."""
        if self.kind == SQLITE:
            if op == "like":
                return column.op("GLOB", is_comparison=True)(self.slot(name, patterns.glob))
            return sa.func.lower(column).op("GLOB", is_comparison=True)(
                self.slot(name, patterns.folded_glob)
            )
        if self.kind == MYSQL and op == "ilike":
            return column.op("REGEXP", is_comparison=True)(self.slot(name, patterns.folded_regex))
        param = self.slot(name, patterns.standard_like)
        if op == "like":
            return column.op("LIKE", is_comparison=True)(param)
        return column.op("ILIKE", is_comparison=True)(param)

    def exists(self, model: Model, table: Any, association: str, inner: Key) -> Any:
        """EXISTS over an association (belongs_to, has_many, has_many through)."""
        target, alias, links = self.link(model, table, association)
        return sa.exists().where(*links, self.node(inner, target, alias))

    def link(self, model: Model, table: Any, name: str) -> tuple[Model, Any, list[Any]]:
        """The associated model, an alias of its table, and the clauses joining it to ``table``."""
        assoc = model.associations[name]
        target = self.compiler.lookup(assoc.model)
        self.aliases += 1
        alias = self.compiler.table(target).alias(f"a{self.aliases}")
        if assoc.through:
            middle, middle_alias, links = self.link(model, table, assoc.through)
            if assoc.foreign_key in middle.fields:
                links.append(alias.c[target.primary_key] == middle_alias.c[assoc.foreign_key])
            else:
                links.append(alias.c[assoc.foreign_key] == middle_alias.c[middle.primary_key])
            return target, alias, links
        if assoc.kind == "belongs_to":
            return target, alias, [alias.c[target.primary_key] == table.c[assoc.foreign_key]]
        key = table.c[model.primary_key]
        if assoc.polymorphic_type is None:
            return target, alias, [alias.c[assoc.foreign_key] == key]
        # Polymorphic (rr-activity's logs): the key is kept as text beside the model's name.
        type_field, type_value = assoc.polymorphic_type
        return (
            target,
            alias,
            [
                alias.c[assoc.foreign_key] == sa.cast(key, sa.String()),
                alias.c[type_field] == sa.literal(type_value, UNTYPED),
            ],
        )


def plan_values(plan: Plan) -> tuple[Key, list[Any]]:
    """The shape of a plan's condition and its values."""
    values: list[Any] = []
    return flatten(plan.where, values), values
