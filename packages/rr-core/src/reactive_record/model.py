"""Model definitions: fields, associations, scopes, validations, indexes and features."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InvalidQuery, UnknownField

FIELD_TYPES = (
    "string",
    "text",
    "integer",
    "float",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "json",
    "uuid",
)


class _Unstorable(ValueError):
    """A value of the right type that no database stores; its text says why."""


#: The range of a 64-bit signed integer column (SQLite INTEGER, BIGINT elsewhere).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError
    result = int(value)
    if not INT_MIN <= result <= INT_MAX:
        raise _Unstorable("outside the 64-bit range every database stores")
    return result


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise TypeError
    result = float(value)
    if not math.isfinite(result):
        # SQLite would store NaN as NULL and MariaDB refuses it: no database keeps it as is.
        raise _Unstorable("NaN and infinity cannot be stored")
    return result


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal, float)):
        raise TypeError
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(str(value)) from exc
    if not result.is_finite():
        raise ValueError(str(value))
    return result


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    raise TypeError


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def to_utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return to_utc(value)
    if isinstance(value, str):
        return to_utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise TypeError


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError


def _to_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return uuid.UUID(value)
    raise TypeError


class _NotPlain(Exception):
    """Raised by :func:`_plain_copy` on a value only JSON text can convert (or refuse)."""


def _plain_copy(value: Any) -> Any:
    # Six times faster than the round trip through text for the usual small documents.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            out[key] = _plain_copy(item)
        return out
    if kind is list:
        return [_plain_copy(item) for item in value]
    if kind is float and math.isfinite(value):
        return value
    raise _NotPlain


def _to_json(value: Any) -> Any:
    # The value as a database gives it back: a deep copy, so a caller's later change to
    # its dict reaches no stored row. What is not plain JSON data goes through JSON text,
    # which converts it as the database would (a tuple to a list, an int key to a string)
    # or refuses it here, not in the driver (a set, a Decimal, NaN).
    try:
        return _plain_copy(value)
    except _NotPlain:
        pass
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise _Unstorable(str(exc)) from exc


COERCERS: dict[str, Callable[[Any], Any]] = {
    "string": _to_str,
    "text": _to_str,
    "integer": _to_int,
    "float": _to_float,
    "decimal": _to_decimal,
    "boolean": _to_bool,
    "date": _to_date,
    "datetime": _to_datetime,
    "json": _to_json,
    "uuid": _to_uuid,
}


@dataclass(frozen=True)
class Field:
    """One column of a model."""

    name: str
    type: str
    null: bool = True
    default: Any = None
    length: int | None = None
    primary_key: bool = False
    precision: int | None = None
    scale: int | None = None

    def coerce(self, value: Any, model: str = "?") -> Any:
        """Convert ``value`` to this field's Python type, or raise :class:`InvalidQuery`."""
        if value is None:
            return None
        try:
            return COERCERS[self.type](value)
        except (TypeError, ValueError, OverflowError) as exc:
            reason = f" ({exc})" if isinstance(exc, _Unstorable) else ""
            raise InvalidQuery(
                f"{model}.{self.name} is {self.type}: {value!r} is not a valid {self.type}{reason}",
                model=model,
                field=self.name,
            ) from exc


@dataclass(frozen=True)
class Association:
    """A ``belongs_to`` or ``has_many`` link to another model.

    ``belongs_to``: this model's ``foreign_key`` holds the other's primary key.
    ``has_many``: the other model's ``foreign_key`` holds this model's primary key.
    ``has_many`` with ``through``: hop over this model's association ``through`` first;
    then, if the middle model has ``foreign_key``, it points at the target's primary key
    (tasks.user_id -> users.id), otherwise the target's ``foreign_key`` points at the
    middle model's primary key (notes.task_id -> tasks.id).
    """

    name: str
    kind: str
    model: str
    foreign_key: str
    through: str | None = None
    dependent: str | None = None
    polymorphic_type: tuple[str, str] | None = None
    #: Order of a ``has_many``'s records within each parent, as ``(field, descending)``.
    order: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class Scope:
    """A named, optionally parameterised condition: ``Job.by_client(7)``."""

    name: str
    where: Any
    params: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    limit: int | None = None


@dataclass
class Model:
    """A model definition, built once from configuration and then read-only."""

    name: str
    table: str
    primary_key: str
    fields: dict[str, Field]
    associations: dict[str, Association] = field(default_factory=dict)
    scopes: dict[str, Scope] = field(default_factory=dict)
    validations: dict[str, dict[str, Any]] = field(default_factory=dict)
    indexes: tuple[tuple[str, ...], ...] = ()
    features: frozenset[str] = frozenset()
    options: dict[str, Any] = field(default_factory=dict)
    tenant_field: str | None = None
    max_live_rows: int = 20_000
    ttl: dict[str, str] = field(default_factory=dict)
    computed: dict[str, str] = field(default_factory=dict)
    reflect: bool = False

    def field(self, name: str) -> Field:
        """Return the field called ``name`` or raise :class:`UnknownField`."""
        try:
            return self.fields[name]
        except KeyError:
            raise UnknownField(self.name, name, list(self.fields)) from None

    def association(self, name: str) -> Association:
        """Return the association called ``name`` or raise :class:`UnknownField`."""
        try:
            return self.associations[name]
        except KeyError:
            raise UnknownField(self.name, name, list(self.associations)) from None

    @property
    def lock_field(self) -> str | None:
        """``lock_version`` when the model has it: optimistic locking is on."""
        return "lock_version" if "lock_version" in self.fields else None

    def has_feature(self, feature: str) -> bool:
        """Whether this model turned ``feature`` on."""
        return feature in self.features

    def coerce_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Coerce every value to its field's type; unknown names raise :class:`UnknownField`."""
        fields = self.fields
        out = {}
        # On every write path: the fields' own lookups, not field(), which is for messages.
        for name, value in values.items():
            spec = fields.get(name)
            if spec is None:
                raise UnknownField(self.name, name, list(fields))
            out[name] = None if value is None else spec.coerce(value, self.name)
        return out

    def row_as_sent(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The row an INSERT of ``values`` (coerced) stores when the database adds nothing:
        every field ``values`` leaves out at its declared default (None without one)."""
        row: dict[str, Any] = dict.fromkeys(self.fields)
        row.update(values)
        if len(values) < len(row):
            for name in self.fields.keys() - values.keys():
                spec = self.fields[name]
                if spec.default is not None:
                    row[name] = spec.coerce(spec.default, self.name)
        return row

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return self is other
