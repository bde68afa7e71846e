"""The condition language: parse and validate data against a model, bind, evaluate in memory.

Conditions are plain data (see DESIGN.md §6). :func:`parse` turns them into a small tree
of frozen nodes, checking every field against the model and coercing every literal to the
field's type. :func:`bind` resolves scope parameters, references to the acting user and
relative times. :func:`evaluate` is the specification of meaning that SQL compilers must
agree with: SQL's three-valued logic for NULL, strings by code point, LIKE case-sensitive
and ILIKE case-insensitive (ASCII folding, as the databases' binary collations do).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .durations import parse_duration
from .errors import InvalidQuery
from .model import Association, Model

OPERATORS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "like",
    "ilike",
    "is_null",
    "between",
)
ORDERING_OPERATORS = frozenset({"lt", "lte", "gt", "gte", "between"})
STRING_OPERATORS = frozenset({"like", "ilike"})


# -- value references, resolved by bind() ----------------------------------------------


@dataclass(frozen=True)
class Param:
    """``{"param": "client_id"}``: a scope parameter."""

    name: str


@dataclass(frozen=True)
class UserRef:
    """``{"user": "client_id"}``: an attribute of the acting user."""

    attribute: str


@dataclass(frozen=True)
class Ago:
    """``{"ago": "1d"}``: that long before now."""

    text: str
    delta: dt.timedelta


REFERENCE_KEYS = frozenset({"param", "user", "ago"})


# -- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    """``field op value``; ``value`` is a tuple for in/not_in and a pair for between."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class And:
    """All of ``items`` (an empty And is TRUE)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``items`` (an empty Or is FALSE)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The negation of ``item`` (NULL stays NULL, as in SQL)."""

    item: Node


@dataclass(frozen=True)
class Exists:
    """Some record through ``association`` matches ``condition`` (SQL EXISTS)."""

    association: str
    condition: Node


Node = Compare | And | Or | Not | Exists
TRUE: Node = And(())
FALSE: Node = Or(())

ModelLookup = Callable[[str], Model]
#: ``related(model, association, row) -> (associated model, its rows linked to row)``
Related = Callable[
    [Model, Association, Mapping[str, Any]], tuple[Model, Iterable[Mapping[str, Any]]]
]


# -- parsing --------------------------------------------------------------------------


def parse(data: Any, model: Model, lookup: ModelLookup) -> Node:
    """Parse condition ``data`` for ``model``; ``lookup`` finds associated models.

    Raises :class:`UnknownField` for a field or association the model lacks and
    :class:`InvalidQuery` for an unknown operator or a value of the wrong type.
    """
    if data is None:
        return TRUE
    if isinstance(data, (And, Or, Not, Compare, Exists)):
        return data
    if not isinstance(data, Mapping):
        raise InvalidQuery(
            f"a condition on {model.name} must be a mapping, not {type(data).__name__}: {data!r}",
            model=model.name,
        )
    items: list[Node] = []
    for key, spec in data.items():
        if not isinstance(key, str):
            raise InvalidQuery(f"condition keys must be strings, not {key!r}", model=model.name)
        items.append(_parse_entry(key, spec, model, lookup))
    return items[0] if len(items) == 1 else And(tuple(items))


def _parse_entry(key: str, spec: Any, model: Model, lookup: ModelLookup) -> Node:
    if key in ("and", "or"):
        if not isinstance(spec, (list, tuple)):
            raise InvalidQuery(
                f"{key!r} takes a list of conditions, not {spec!r}", model=model.name
            )
        parts = tuple(parse(part, model, lookup) for part in spec)
        return And(parts) if key == "and" else Or(parts)
    if key == "not":
        return Not(parse(spec, model, lookup))
    if key in model.associations and key not in model.fields:
        return _parse_association(key, spec, model, lookup)
    field = model.field(key)
    if isinstance(spec, Mapping) and not (spec.keys() & REFERENCE_KEYS):
        if not spec:
            raise InvalidQuery(f"{model.name}.{key}: an empty operator mapping", model=model.name)
        parts = tuple(_compare(model, field.name, op, value) for op, value in spec.items())
        return parts[0] if len(parts) == 1 else And(parts)
    if isinstance(spec, (list, tuple)):
        return _compare(model, field.name, "in", spec)
    return _compare(model, field.name, "eq", spec)


def _parse_association(key: str, spec: Any, model: Model, lookup: ModelLookup) -> Node:
    association = model.associations[key]
    if not isinstance(spec, Mapping) or set(spec) != {"any"}:
        raise InvalidQuery(
            f"{model.name}.{key} is an association: write {{{key!r}: {{'any': {{...}}}}}}",
            model=model.name,
            field=key,
        )
    target = lookup(association.model)
    return Exists(key, parse(spec["any"], target, lookup))


def _compare(model: Model, name: str, op: str, raw: Any) -> Node:
    if op not in OPERATORS:
        raise InvalidQuery(
            f"{model.name}.{name}: unknown operator {op!r}; known: {', '.join(OPERATORS)}",
            model=model.name,
            field=name,
        )
    field = model.fields[name]
    if op == "is_null":
        if not isinstance(raw, bool):
            raise InvalidQuery(
                f"{model.name}.{name}: is_null takes true or false, not {raw!r}",
                model=model.name,
                field=name,
            )
        return Compare(name, op, raw)
    if field.type == "json" and op in ORDERING_OPERATORS:
        # JSON documents have no order (Python would raise TypeError comparing a dict).
        raise InvalidQuery(
            f"{model.name}.{name} is json: JSON values have no order, so no {op}",
            model=model.name,
            field=name,
        )
    if op in STRING_OPERATORS and field.type not in ("string", "text"):
        raise InvalidQuery(
            f"{model.name}.{name}: {op} needs a string field, and {name} is {field.type}",
            model=model.name,
            field=name,
        )
    if op in ("in", "not_in"):
        if isinstance(raw, Mapping) and "param" in raw:
            return Compare(name, op, _reference(raw, model, name))
        if not isinstance(raw, (list, tuple)):
            raise InvalidQuery(
                f"{model.name}.{name}: {op} takes a list, not {raw!r}", model=model.name, field=name
            )
        values = tuple(_value(model, name, v) for v in raw if v is not None)
        compare = Compare(name, op, values)
        if len(values) == len(raw):
            return compare
        # A None in the list means NULL, as in Rails: `IN (1) OR IS NULL`.
        if op == "in":
            return Or((compare, Compare(name, "is_null", True)))
        return And((compare, Compare(name, "is_null", False)))
    if op == "between":
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise InvalidQuery(
                f"{model.name}.{name}: between takes [low, high], not {raw!r}",
                model=model.name,
                field=name,
            )
        return Compare(name, op, (_value(model, name, raw[0]), _value(model, name, raw[1])))
    if raw is None and op in ("eq", "ne"):
        return Compare(name, "is_null", op == "eq")
    return Compare(name, op, _value(model, name, raw))


def _value(model: Model, name: str, raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return _reference(raw, model, name)
    if raw is None:
        return None
    return model.fields[name].coerce(raw, model.name)


def _reference(raw: Mapping[str, Any], model: Model, name: str) -> Param | UserRef | Ago:
    if len(raw) != 1 or not (raw.keys() & REFERENCE_KEYS):
        raise InvalidQuery(
            f"{model.name}.{name}: {dict(raw)!r} is neither a value nor one of "
            "{'param': ...}, {'user': ...}, {'ago': ...}",
            model=model.name,
            field=name,
        )
    ((kind, arg),) = raw.items()
    if not isinstance(arg, str):
        raise InvalidQuery(
            f"{model.name}.{name}: {kind} takes a name, not {arg!r}", model=model.name
        )
    if kind == "param":
        return Param(arg)
    if kind == "user":
        return UserRef(arg)
    if model.fields[name].type not in ("datetime", "date"):
        raise InvalidQuery(
            f"{model.name}.{name}: 'ago' needs a date or datetime field", model=model.name
        )
    try:
        return Ago(arg, parse_duration(arg))
    except ValueError as exc:
        raise InvalidQuery(f"{model.name}.{name}: {exc}", model=model.name, field=name) from None


# -- binding --------------------------------------------------------------------------


def user_attribute(user: Any, name: str) -> Any:
    """Read ``name`` from a user that is an object or a mapping; None when absent."""
    if user is None:
        return None
    if isinstance(user, Mapping):
        return user.get(name)
    return getattr(user, name, None)


def has_references(node: Node) -> bool:
    """Whether ``node`` holds parameters, user references or relative times."""
    if isinstance(node, Compare):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        return any(isinstance(v, (Param, UserRef, Ago)) for v in values)
    if isinstance(node, (And, Or)):
        return any(has_references(item) for item in node.items)
    if isinstance(node, Not):
        return has_references(node.item)
    return has_references(node.condition)


def has_relative_time(node: Node) -> bool:
    """Whether ``node`` compares against ``{"ago": ...}`` (its meaning moves with the clock)."""
    if isinstance(node, Compare):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        return any(isinstance(v, Ago) for v in values)
    if isinstance(node, (And, Or)):
        return any(has_relative_time(item) for item in node.items)
    if isinstance(node, Not):
        return has_relative_time(node.item)
    return has_relative_time(node.condition)


#: What ``eq`` / ``ne`` become when a parameter brings a list.
LIST_FORMS = {"eq": "in", "ne": "not_in"}


def bind(
    node: Node,
    model: Model,
    lookup: ModelLookup,
    *,
    params: Mapping[str, Any] | None = None,
    user: Any = None,
    now: dt.datetime | None = None,
    params_only: bool = False,
) -> Node:
    """Resolve :class:`Param`, :class:`UserRef` and :class:`Ago` to literal values.

    A missing parameter raises :class:`InvalidQuery`. A user attribute that is absent
    binds to NULL, which matches nothing (``= NULL`` is never true). With
    ``params_only`` user references and relative times are left for a later bind.
    """
    if not has_references(node):
        return node
    clock = now or dt.datetime.now(dt.timezone.utc)

    def resolve(current: Model, name: str, value: Any) -> Any:
        field = current.fields[name]
        if isinstance(value, Param):
            if params is None or value.name not in params:
                raise InvalidQuery(
                    f"{current.name}: the condition needs parameter {value.name!r}",
                    model=current.name,
                    field=name,
                )
            raw = params[value.name]
            if isinstance(raw, (list, tuple)):
                return tuple(field.coerce(v, current.name) for v in raw)
            return field.coerce(raw, current.name)
        if params_only:
            return value
        if isinstance(value, UserRef):
            raw = user_attribute(user, value.attribute)
            if isinstance(raw, (list, tuple, set, frozenset)):  # a user of several tenants
                return tuple(field.coerce(v, current.name) for v in raw)
            return field.coerce(raw, current.name)
        if isinstance(value, Ago):
            moment = clock - value.delta
            return moment.date() if field.type == "date" else moment
        return value

    def walk(current: Model, item: Node) -> Node:
        if isinstance(item, Compare):
            if isinstance(item.value, tuple):
                resolved: Any = tuple(resolve(current, item.field, v) for v in item.value)
            else:
                resolved = resolve(current, item.field, item.value)
                if item.op in ("in", "not_in") and not isinstance(resolved, tuple):
                    resolved = (resolved,)
                elif isinstance(resolved, tuple) and item.op in LIST_FORMS:
                    # A parameter or user attribute that is a list where one value is
                    # compared: as a list written in place, ``{"field": [...]}`` means IN.
                    return Compare(item.field, LIST_FORMS[item.op], resolved)
                elif isinstance(resolved, tuple) and item.op != "between":
                    raise InvalidQuery(
                        f"{current.name}.{item.field} {item.op} compares one value, "
                        f"not the list {list(resolved)!r}",
                        model=current.name,
                        field=item.field,
                    )
            return Compare(item.field, item.op, resolved)
        if isinstance(item, And):
            return And(tuple(walk(current, i) for i in item.items))
        if isinstance(item, Or):
            return Or(tuple(walk(current, i) for i in item.items))
        if isinstance(item, Not):
            return Not(walk(current, item.item))
        target = lookup(current.associations[item.association].model)
        return Exists(item.association, walk(target, item.condition))

    return walk(model, node)


def conjoin(*nodes: Node) -> Node:
    """AND the nodes together, dropping TRUEs and flattening nested Ands."""
    items: list[Node] = []
    for node in nodes:
        if isinstance(node, And):
            items.extend(node.items)
        else:
            items.append(node)
    if len(items) == 1:
        return items[0]
    return And(tuple(items))


# -- evaluation (the specification of meaning) ----------------------------------------


def evaluate(
    node: Node,
    row: Mapping[str, Any],
    model: Model | None = None,
    related: Related | None = None,
) -> bool | None:
    """Evaluate a bound ``node`` against ``row`` with SQL's three-valued logic.

    Returns True, False or None (SQL's UNKNOWN). ``related(model, association, row)``
    yields associated rows for :class:`Exists`; without it an Exists raises.
    """
    if isinstance(node, Compare):
        return _compare_value(node.op, row.get(node.field), node.value)
    if isinstance(node, And):
        result: bool | None = True
        for item in node.items:
            value = evaluate(item, row, model, related)
            if value is False:
                return False
            if value is None:
                result = None
        return result
    if isinstance(node, Or):
        result = False
        for item in node.items:
            value = evaluate(item, row, model, related)
            if value is True:
                return True
            if value is None:
                result = None
        return result
    if isinstance(node, Not):
        value = evaluate(node.item, row, model, related)
        return None if value is None else not value
    if model is None or related is None:
        raise InvalidQuery(f"{node.association}: evaluating 'any' needs the associated rows")
    target, rows = related(model, model.associations[node.association], row)
    return any(evaluate(node.condition, r, target, related) is True for r in rows)


def matches(
    node: Node,
    row: Mapping[str, Any],
    model: Model | None = None,
    related: Related | None = None,
) -> bool:
    """Whether ``row`` satisfies ``node`` (UNKNOWN does not)."""
    return evaluate(node, row, model, related) is True


def _compare_value(op: str, actual: Any, expected: Any) -> bool | None:
    if op == "is_null":
        return (actual is None) is expected
    if op == "in":
        if not expected:
            return False
        if actual is None:
            return None
        if actual in expected:
            return True
        return None if any(v is None for v in expected) else False
    if op == "not_in":
        if not expected:
            return True
        if actual is None or any(v is None for v in expected):
            return None
        return actual not in expected
    if actual is None:
        return None
    if op == "between":
        low, high = expected
        if low is None or high is None:
            return None
        return bool(low <= actual <= high)
    if expected is None:
        return None
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "lte":
        return bool(actual <= expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "gte":
        return bool(actual >= expected)
    if op == "like":
        return like_pattern(expected, False).fullmatch(actual) is not None
    return like_pattern(expected, True).fullmatch(_ascii_lower(actual)) is not None


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@lru_cache(maxsize=1024)
def like_pattern(pattern: str, fold: bool) -> re.Pattern[str]:
    """The regular expression for a LIKE pattern: ``%`` any run, ``_`` one, ``\\`` escapes."""
    if fold:
        pattern = _ascii_lower(pattern)
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    if escaped:
        out.append(re.escape("\\"))
    return re.compile("".join(out), re.DOTALL)


# -- canonical data form ----------------------------------------------------------------


def to_data(node: Node) -> Any:
    """The canonical data form of ``node``: JSON-able, equal nodes give equal data."""
    if isinstance(node, Compare):
        return {node.field: {node.op: _value_data(node.value)}}
    if isinstance(node, And):
        return {"and": [to_data(i) for i in node.items]}
    if isinstance(node, Or):
        return {"or": [to_data(i) for i in node.items]}
    if isinstance(node, Not):
        return {"not": to_data(node.item)}
    return {node.association: {"any": to_data(node.condition)}}


def _value_data(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_value_data(v) for v in value]
    if isinstance(value, Param):
        return {"param": value.name}
    if isinstance(value, UserRef):
        return {"user": value.attribute}
    if isinstance(value, Ago):
        return {"ago": value.text}
    return json_value(value)


def json_value(value: Any) -> Any:
    """A JSON-able form of a field value (dates, decimals and UUIDs as ISO/str)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    return value


def canonical_json(data: Any) -> str:
    """Compact JSON with sorted keys: the same data always gives the same text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=json_value)


def canonical(node: Node) -> Node:
    """``node`` in one canonical shape, for fingerprints: the same meaning built in any order.

    Nested Ands (and Ors) are flattened, their items sorted and deduplicated, and IN
    lists sorted; AND, OR and IN are commutative in SQL's logic, so meaning is kept.
    """
    if isinstance(node, Compare):
        if node.op in ("in", "not_in") and isinstance(node.value, tuple):
            unique = {canonical_json(_value_data(v)): v for v in node.value}
            return Compare(node.field, node.op, tuple(unique[k] for k in sorted(unique)))
        return node
    if isinstance(node, Not):
        return Not(canonical(node.item))
    if isinstance(node, Exists):
        return Exists(node.association, canonical(node.condition))
    kind = type(node)
    items: dict[str, Node] = {}
    for item in (canonical(i) for i in node.items):
        for part in item.items if isinstance(item, kind) else (item,):
            items[canonical_json(to_data(part))] = part
    if len(items) == 1:
        return next(iter(items.values()))
    return kind(tuple(items[k] for k in sorted(items)))


def fields_of(node: Node) -> set[str]:
    """The names of this model's fields that ``node`` reads (Exists counts its key)."""
    if isinstance(node, Compare):
        return {node.field}
    if isinstance(node, (And, Or)):
        out: set[str] = set()
        for item in node.items:
            out |= fields_of(item)
        return out
    if isinstance(node, Not):
        return fields_of(node.item)
    return {node.association}


def equalities(node: Node) -> dict[str, Sequence[Any]]:
    """Fields the node pins to literal values at its top level (for the live index)."""
    items = node.items if isinstance(node, And) else (node,)
    found: dict[str, Sequence[Any]] = {}
    for item in items:
        if isinstance(item, Compare) and not has_references(item):
            if item.op == "eq":
                found[item.field] = (item.value,)
            elif item.op == "in":
                found[item.field] = tuple(item.value)
    return found
