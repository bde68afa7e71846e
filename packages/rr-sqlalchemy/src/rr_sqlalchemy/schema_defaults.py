"""Column defaults as the database declares them, turned into Python values.

Each reflected default becomes a :class:`reactive_record.SchemaDefault`:

- literals (with PostgreSQL casts, doubled or backslash-escaped quotes, quoted
  negatives) become values of the column's field type: ``Decimal`` for numeric, ``bool``
  for booleans in every spelling (``true``, ``'t'``, ``1`` on a boolean or tinyint(1)
  column), fresh JSON objects and arrays for each record (a zero-argument factory);
- time functions (``CURRENT_TIMESTAMP``, ``now()``, ``CURRENT_DATE``, ``curdate()``,
  ``LOCALTIMESTAMP``, SQLite's ``datetime('now')``...) become factories that read the
  instance's clock when a record is built, giving an aware UTC datetime cut to the
  column's fractional-second precision, or a date;
- a UUID function on a UUID column becomes Python's ``uuid4``;
- sequences, identity and generated columns, and every expression that cannot be
  evaluated exactly are ``server_generated``: the database fills them at insert.

``NULL`` and ``'NULL'`` mean no default. A SQLAlchemy ``Column(default=...)`` on the
store's table (a scalar or a callable) wins over what the database declares, as it does
when SQLAlchemy inserts.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

import sqlalchemy as sa
from reactive_record import SchemaDefault

from .reflection import ColumnInfo, TableInfo, field_type, inspect_table
from .sql_text import Literal, parse_literal, parse_pg_array, strip_casts

Clock = Callable[[], dt.datetime]

_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})
_TIMESTAMP = re.compile(
    r"^(?:current_timestamp|localtimestamp|now|transaction_timestamp|statement_timestamp"
    r"|clock_timestamp|utc_timestamp|sysdate)(?:\((\d*)\))?$"
)
_UTC_TIMESTAMP = frozenset(
    {
        "timezone('utc',now())",
        "now()attimezone'utc'",
        "current_timestampattimezone'utc'",
        "datetime('now')",
        "datetime('now','utc')",
        "datetime()",
    }
)
_DATE = frozenset(
    {"current_date", "current_date()", "curdate()", "utc_date()", "date('now')", "date()"}
)
_UUID = frozenset({"gen_random_uuid()", "uuid_generate_v4()", "uuid()", "uuid_v4()", "sys_guid()"})
#: Fractional-second digits a time function yields when it does not say.
_FUNCTION_PRECISION = {"sqlite": 0, "mysql": 0, "mariadb": 0, "postgresql": 6}
#: Fractional-second digits a datetime column keeps when its type does not say.
_COLUMN_PRECISION = {"sqlite": 6, "mysql": 0, "mariadb": 0, "postgresql": 6}


class _OpaqueError(Exception):
    """The default cannot be evaluated exactly in Python."""


def declared_defaults(
    bind: sa.Connection, table_name: str, clock: Clock, table: sa.Table | None = None
) -> dict[str, SchemaDefault] | None:
    """The defaults of ``table_name``'s columns (None when there is no such table)."""
    try:
        info = inspect_table(bind, table_name)
    except sa.exc.NoSuchTableError:
        return None
    return table_defaults(info, clock, table)


def table_defaults(
    info: TableInfo, clock: Clock, table: sa.Table | None = None
) -> dict[str, SchemaDefault]:
    """Every column of ``info`` that has a default, as field name -> SchemaDefault.

    :param info: The reflected table.
    :param clock: Returns the current time; time defaults call it when a record is built.
    :param table: The store's SQLAlchemy table, whose ``Column(default=...)`` are honoured.
    """
    found: dict[str, SchemaDefault] = {}
    for column in info.columns.values():
        default = column_default(column, info.dialect, clock)
        if table is not None and column.name in table.c:
            default = _sqlalchemy_default(table.c[column.name], default)
        if default is not None:
            found[column.name] = default
    return found


def column_default(column: ColumnInfo, dialect: str, clock: Clock) -> SchemaDefault | None:
    """The SchemaDefault of one reflected column, or None when it has no default."""
    text = column.default
    if column.generated is not None:
        return SchemaDefault(server_generated=True, expression=column.generated)
    if text is None:
        return None
    escapes = dialect in ("mysql", "mariadb")
    literal = parse_literal(text, escapes)
    if literal is not None:
        if literal.kind == "null" or (literal.kind == "string" and literal.value == "NULL"):
            return None
        try:
            return SchemaDefault(value=literal_value(literal, column), expression=text)
        except _OpaqueError:
            return SchemaDefault(server_generated=True, expression=text)
    factory = _function(text, column, dialect, clock)
    if factory is None:
        return SchemaDefault(server_generated=True, expression=text)
    return SchemaDefault(value=factory, expression=text)


# -- literals -------------------------------------------------------------------------


def literal_value(literal: Literal, column: ColumnInfo) -> Any:
    """The Python value of ``literal`` in ``column``'s field type (a factory for JSON)."""
    if column.unsupported is not None:
        raise _OpaqueError
    converter = _CONVERTERS[column.type]
    try:
        return converter(literal, column)
    except (ValueError, TypeError, InvalidOperation, json.JSONDecodeError) as exc:
        raise _OpaqueError from exc


def _text(literal: Literal) -> str:
    if literal.kind not in ("string", "number"):
        raise TypeError(literal)
    return str(literal.value)


def _to_boolean(literal: Literal, column: ColumnInfo) -> bool:
    if literal.kind == "boolean":
        return bool(literal.value)
    word = _text(literal).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(word)


def _to_integer(literal: Literal, column: ColumnInfo) -> int:
    number = Decimal(_text(literal).strip())
    if number != number.to_integral_value():
        raise ValueError(number)
    return int(number)


def _to_float(literal: Literal, column: ColumnInfo) -> float:
    return float(_text(literal))


def _to_decimal(literal: Literal, column: ColumnInfo) -> Decimal:
    number = Decimal(_text(literal).strip())
    if not number.is_finite():
        raise ValueError(number)
    if column.scale is not None:
        # MariaDB's DECIMAL(65, 30) needs more digits than the default context's 28.
        with localcontext() as context:
            context.prec = max(100, len(number.as_tuple().digits) + column.scale + 1)
            number = number.quantize(Decimal(1).scaleb(-column.scale), rounding=ROUND_HALF_UP)
    return number


def _to_string(literal: Literal, column: ColumnInfo) -> str:
    return _text(literal)


def _to_date(literal: Literal, column: ColumnInfo) -> dt.date:
    if literal.kind != "string":
        raise TypeError(literal)
    return dt.date.fromisoformat(literal.value.strip())


def _to_datetime(literal: Literal, column: ColumnInfo) -> dt.datetime:
    if literal.kind != "string":
        raise TypeError(literal)
    text = literal.value.strip().replace(" ", "T", 1)
    # Python 3.10's fromisoformat wants "+00:00" where PostgreSQL prints "+00".
    text = re.sub(r"([+-]\d\d)$", r"\1:00", text.replace("Z", "+00:00"))
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _to_uuid(literal: Literal, column: ColumnInfo) -> uuid.UUID:
    return uuid.UUID(_text(literal))


def _to_json(literal: Literal, column: ColumnInfo) -> Any:
    if isinstance(column.sql_type, sa.ARRAY):
        value = _array(literal, column.sql_type)
    elif literal.kind == "string":
        value = json.loads(literal.value)
    else:
        raise TypeError(literal)
    if isinstance(value, (dict, list)):
        return functools.partial(_copy_json, value)
    return value


def _array(literal: Literal, sql_type: sa.ARRAY[Any]) -> list[Any]:
    kind, extra = field_type(sql_type.item_type)
    item = ColumnInfo("item", sql_type.item_type, kind, True, None, **extra)
    if literal.kind == "array":
        return [None if x.kind == "null" else literal_value(x, item) for x in literal.value]
    if literal.kind != "string":
        raise TypeError(literal)
    parsed = parse_pg_array(literal.value)
    if parsed is None:
        raise ValueError(literal.value)

    def convert(values: list[Any]) -> list[Any]:
        return [
            convert(v)
            if isinstance(v, list)
            else None
            if v is None
            else literal_value(Literal("string", v), item)
            for v in values
        ]

    return convert(parsed)


_CONVERTERS: dict[str, Callable[[Literal, ColumnInfo], Any]] = {
    "boolean": _to_boolean,
    "integer": _to_integer,
    "float": _to_float,
    "decimal": _to_decimal,
    "string": _to_string,
    "text": _to_string,
    "date": _to_date,
    "datetime": _to_datetime,
    "uuid": _to_uuid,
    "json": _to_json,
}


# -- functions ------------------------------------------------------------------------


def _normalise(text: str) -> str:
    text = strip_casts(text).lower()
    text = re.sub(r"::[a-z ]+", "", text)
    return re.sub(r"\s+", "", text)


def _function(
    text: str, column: ColumnInfo, dialect: str, clock: Clock
) -> Callable[[], Any] | None:
    """A factory for a time or UUID function the column's type can hold, else None."""
    name = _normalise(text)
    if name in _UUID:
        return uuid.uuid4 if column.type == "uuid" else None
    if name in _DATE:
        return _time_factory(clock, column, dialect, date_only=True, digits=0)
    match = _TIMESTAMP.match(name)
    if match is not None and match.group(1):
        digits = int(match.group(1))
    elif match is not None or name in _UTC_TIMESTAMP:
        digits = _FUNCTION_PRECISION.get(dialect, 6)
        if name.startswith("datetime("):
            digits = 0
    else:
        return None
    return _time_factory(clock, column, dialect, date_only=False, digits=digits)


def _time_factory(
    clock: Clock, column: ColumnInfo, dialect: str, *, date_only: bool, digits: int
) -> Callable[[], Any] | None:
    if column.type == "date":
        return lambda: _utc(clock()).date()
    if column.type == "datetime":
        if date_only:
            return lambda: dt.datetime.combine(_utc(clock()).date(), dt.time(), dt.timezone.utc)
        kept = column.time_precision
        if kept is None:
            kept = _COLUMN_PRECISION.get(dialect, 6)
        step = 10 ** (6 - min(digits, kept, 6))
        if step == 1:
            return lambda: _utc(clock())
        return lambda: _cut(_utc(clock()), step)
    if column.type in ("string", "text") and dialect == "sqlite":
        # SQLite's own functions write text: "2024-05-01 12:00:00" or "2024-05-01".
        pattern = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S"
        return lambda: _utc(clock()).strftime(pattern)
    return None


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is dt.timezone.utc:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data: a fresh object per record, faster than deepcopy."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _cut(moment: dt.datetime, step: int) -> dt.datetime:
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % step)


# -- SQLAlchemy Column(default=...) ---------------------------------------------------


def _sqlalchemy_default(
    column: sa.Column[Any], reflected: SchemaDefault | None
) -> SchemaDefault | None:
    default = column.default
    if default is None or not isinstance(default, sa.ColumnDefault):
        return reflected
    if default.is_scalar:
        value = default.arg
        if isinstance(value, (dict, list)):
            value = functools.partial(_copy_json, value)
        return SchemaDefault(value=value, expression=f"Column(default={default.arg!r})")
    if default.is_callable:
        function = default.arg
        # SQLAlchemy wraps zero-argument callables to accept its execution context.
        return SchemaDefault(
            value=lambda: function(None), expression=f"Column(default={function!r})"
        )
    return SchemaDefault(server_generated=True, expression=str(default.arg))
