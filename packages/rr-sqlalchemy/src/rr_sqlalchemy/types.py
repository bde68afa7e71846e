"""Column types per dialect, and the value conversions between Python and each driver.

The store talks to the DB-API cursor directly (see ``store``), so conversions are plain
functions chosen once per column: ``to_db`` for parameters, ``from_db`` for results, and
None where the driver already gives the right Python value. What each dialect stores:

- datetimes: UTC. ``timestamptz`` on PostgreSQL (the session runs in UTC), naive
  ``DATETIME(6)`` on MariaDB, ``YYYY-MM-DD HH:MM:SS.ffffff`` text on SQLite (fixed width,
  so text order is time order). Read back as aware UTC.
- decimals: ``NUMERIC`` / ``DECIMAL``; on SQLite exact text in a ``TEXT`` column with the
  ``rr_decimal`` collation, which compares and orders numerically (registered on every
  connection), so ``<``, ``BETWEEN``, ``ORDER BY`` and indexes work.
- UUIDs: native on PostgreSQL, ``CHAR(36)`` text elsewhere. JSON: ``JSONB`` / ``JSON`` / text.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import repeat
from typing import Any

import sqlalchemy as sa
from reactive_record import Field
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

Convert = Callable[[Any], Any]

SQLITE, POSTGRESQL, MYSQL = "sqlite", "postgresql", "mysql"

#: The SQLite collation that compares decimal text numerically.
DECIMAL_COLLATION = "rr_decimal"
#: MariaDB/MySQL: the scale of a ``decimal`` field that declares none.
DEFAULT_MYSQL_SCALE = 30

UTC = dt.timezone.utc


# -- column types -------------------------------------------------------------------------


def column_type(kind: str, field: Field, collation: str | None) -> TypeEngine[Any]:
    """The SQLAlchemy type of ``field`` on dialect ``kind``; strings get ``collation``."""
    t = field.type
    if t == "string":
        length = field.length or (255 if kind == MYSQL else None)
        return sa.String(length, collation=collation)
    if t == "text":
        return (
            mysql.LONGTEXT(collation=collation) if kind == MYSQL else sa.Text(collation=collation)
        )
    if t == "integer":
        # SQLite's INTEGER is 64-bit, and only INTEGER PRIMARY KEY is the rowid alias.
        return sa.Integer() if kind == SQLITE else sa.BigInteger()
    if t == "float":
        return sa.Double()
    if t == "decimal":
        if kind == SQLITE:
            return sa.Text(collation=DECIMAL_COLLATION)
        if kind == MYSQL and field.precision is None:
            return sa.Numeric(65, field.scale if field.scale is not None else DEFAULT_MYSQL_SCALE)
        return sa.Numeric(field.precision, field.scale)
    if t == "boolean":
        return sa.Boolean(create_constraint=False)
    if t == "date":
        return sa.Date()
    if t == "datetime":
        if kind == POSTGRESQL:
            return sa.DateTime(timezone=True)
        return mysql.DATETIME(fsp=6) if kind == MYSQL else sa.DateTime()
    if t == "json":
        return postgresql.JSONB() if kind == POSTGRESQL else sa.JSON()
    if t == "uuid":
        return sa.Uuid() if kind == POSTGRESQL else sa.CHAR(36)
    raise ValueError(f"unknown field type {t!r}")


def server_default(kind: str, field: Field) -> Any:
    """The DDL default of a field's declared ``default`` (a quoted literal or SQL text)."""
    value = field.coerce(field.default)
    if value is None:
        return None
    if field.type == "boolean":
        if kind == POSTGRESQL:
            return sa.text("true" if value else "false")
        return sa.text("1" if value else "0")
    if field.type in ("integer", "float") or (field.type == "decimal" and kind != SQLITE):
        return sa.text(str(value))
    stored = to_db(kind, field.type)
    text = stored(value) if stored is not None else value
    return text if isinstance(text, str) else str(text)


# -- parameters ---------------------------------------------------------------------------


def _sqlite_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _aware_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _decimal_text(value: Any) -> str:
    return format(value if isinstance(value, Decimal) else Decimal(str(value)), "f")


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _date_text(value: dt.date) -> str:
    return value.isoformat()


_TO_DB: dict[str, dict[str, Convert]] = {
    SQLITE: {
        "datetime": _sqlite_datetime,
        "date": _date_text,
        "decimal": _decimal_text,
        "uuid": str,
        "json": _json_text,
    },
    POSTGRESQL: {"datetime": _aware_utc, "json": _json_text},
    MYSQL: {"datetime": _naive_utc, "uuid": str, "json": _json_text},
}


def to_db(kind: str, field_type: str) -> Convert | None:
    """How a Python value of ``field_type`` is passed to the driver (None: as it is)."""
    return _TO_DB[kind].get(field_type)


# -- results ------------------------------------------------------------------------------
#
# Results are converted a column at a time: ``map`` over a column runs in C, and a column
# without NULLs (the common case) needs no per-value test.

#: A column's values in, the converted values out (None: the column is right as it is).
ColumnConvert = Callable[[Sequence[Any]], Iterable[Any] | None]

#: A column at least this long is checked for repeated values, converted once each.
INTERN_FROM = 256


def _sqlite_datetime_in(value: Any) -> dt.datetime:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=UTC)
    return _aware_utc(value) if isinstance(value, dt.datetime) else value


def _sqlite_datetimes(column: Sequence[Any]) -> Iterable[Any]:
    # Appending the offset makes fromisoformat return aware UTC in one C call.
    return map(dt.datetime.fromisoformat, map(str.__add__, column, repeat("+00:00")))


def _date_in(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _decimal_in(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _uuid_in(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _json_in(value: Any) -> Any:
    # A JSON column has NUMERIC affinity on SQLite: a bare number comes back as one.
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _trim_decimal(value: Any) -> Decimal:
    """DECIMAL(65, 30) pads with zeros; give back the shortest exact form (no exponent)."""
    text = format(_decimal_in(value), "f")
    if "." in text:
        # Text, not Decimal.normalize(): that rounds to the context's 28 digits.
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def _each(
    one: Convert,
    fast: Callable[[Sequence[Any]], Iterable[Any]] | None = None,
    intern: bool = False,
) -> ColumnConvert:
    """A column converter: ``one`` for each non-NULL value, ``fast(column)`` when none is NULL.

    ``fast`` assumes the driver's usual type; a value of another type (a table written by
    another program) falls back to ``one``, which accepts it. With ``intern`` (immutable
    values that repeat, such as dates) each distinct value is converted once and shared.
    """

    def convert(column: Sequence[Any]) -> Iterable[Any]:
        if intern and len(column) >= INTERN_FROM:
            distinct = set(column)
            if len(distinct) * 4 <= len(column):
                memo = {v: None if v is None else one(v) for v in distinct}
                return map(memo.__getitem__, column)
        if None not in column:
            try:
                return list(fast(column) if fast is not None else map(one, column))
            except (TypeError, ValueError):
                pass
        return [None if value is None else one(value) for value in column]

    return convert


def _aware_column(column: Sequence[Any]) -> Iterable[Any] | None:
    """Datetimes made aware UTC; a column that already is (timestamptz) is left as it is."""
    for value in column:
        if value is not None:
            if value.tzinfo is not None:
                return None
            break
    else:
        return None
    return [None if v is None else _aware_utc(v) for v in column]


_SQLITE_IN: dict[str, ColumnConvert] = {
    "datetime": _each(_sqlite_datetime_in, _sqlite_datetimes),
    "date": _each(_date_in, partial(map, dt.date.fromisoformat), intern=True),
    "decimal": _each(_decimal_in, partial(map, Decimal), intern=True),
    "uuid": _each(_uuid_in),
    "json": _each(_json_in),
    "boolean": _each(bool),
}
_MYSQL_IN: dict[str, ColumnConvert] = {
    "datetime": _each(_aware_utc),
    "uuid": _each(_uuid_in),
    "json": _each(_json_in),
    "boolean": _each(bool),
}


def from_db(kind: str, field: Field) -> ColumnConvert | None:
    """How a column of the driver's values of ``field`` becomes Python values (None: as is)."""
    t = field.type
    if kind == SQLITE:
        return _SQLITE_IN.get(t)
    if kind == MYSQL:
        if t == "decimal" and field.precision is None and field.scale is None:
            return _each(_trim_decimal, intern=True)
        return _MYSQL_IN.get(t)
    if t == "datetime":
        # A table made elsewhere (a reflected model) may hold timestamp without time zone.
        return _aware_column
    return None


# -- SQLite's decimal collation -----------------------------------------------------------


def compare_decimals(left: str, right: str) -> int:
    """The ``rr_decimal`` collation: numeric order of decimal text (text order if not numbers)."""
    try:
        a, b = Decimal(left), Decimal(right)
    except InvalidOperation:
        return (left > right) - (left < right)
    return (a > b) - (a < b)
