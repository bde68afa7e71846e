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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from reactive_record import Field
from reactive_record.model import to_utc
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
    if value.tzinfo is UTC:  # what coercion gives: drop the "+00:00"
        return value.isoformat(" ", "microseconds")[:-6]
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


# One encoder for every value: json.dumps with options would build a new one each call.
_json_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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


@dataclass(frozen=True)
class Reader:
    """How a driver's value of a column becomes the Python value.

    ``fast`` is a Python expression over ``{v}`` (the value; ``{t}`` names a temporary)
    for the driver's usual type, compiled into each statement's row builder (see ``rows``)
    with the names of :data:`READER_NAMES`; ``safe`` accepts any value (a table another
    program wrote) and is used when the fast expression meets a value it cannot convert.
    """

    fast: str
    safe: Convert


def _sqlite_datetime_in(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        return to_utc(value)
    return value  # type: ignore[no-any-return]


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


#: The names a :class:`Reader`'s fast expression may use.
READER_NAMES: dict[str, Any] = {
    "_datetime": dt.datetime.fromisoformat,
    "_date": dt.date.fromisoformat,
    "_Decimal": Decimal,
    "_UUID": uuid.UUID,
    "_json": _json_in,
    "_bool": bool,
    "_trim": _trim_decimal,
    "_to_utc": to_utc,
    "_UTC": UTC,
}

_BOOLEAN = Reader("_bool({v})", bool)
_UUID = Reader("_UUID({v})", _uuid_in)
_JSON = Reader("_json({v})", _json_in)
_SQLITE_IN = {
    # Appending the offset makes fromisoformat return aware UTC in one C call (a
    # replacement fromisoformat, such as Python 3.10's backport, may name UTC otherwise).
    "datetime": Reader(
        "({t} if ({t} := _datetime({v} + '+00:00')).tzinfo is _UTC else _to_utc({t}))",
        _sqlite_datetime_in,
    ),
    "date": Reader("_date({v})", _date_in),
    # str(): a NUMERIC column another program wrote may hold a float (0.1 must read as
    # Decimal("0.1"), not its binary expansion); str of rr's own text is the text itself.
    "decimal": Reader("_Decimal(str({v}))", _decimal_in),
    "uuid": _UUID,
    "json": _JSON,
    "boolean": _BOOLEAN,
}
_MYSQL_IN = {
    "datetime": Reader("_to_utc({v})", to_utc),
    "uuid": _UUID,
    "json": _JSON,
    "boolean": _BOOLEAN,
}
# A table made elsewhere (a reflected model) may hold timestamp without time zone.
_POSTGRESQL_DATETIME = Reader("({v} if {v}.tzinfo is _UTC else _to_utc({v}))", to_utc)


def from_db(kind: str, field: Field) -> Reader | None:
    """How the driver's values of ``field`` become Python values (None: as they are)."""
    t = field.type
    if kind == SQLITE:
        return _SQLITE_IN.get(t)
    if kind == MYSQL:
        if t == "decimal" and field.precision is None and field.scale is None:
            return Reader("_trim({v})", _trim_decimal)
        return _MYSQL_IN.get(t)
    return _POSTGRESQL_DATETIME if t == "datetime" else None


# -- SQLite's decimal collation -----------------------------------------------------------


def compare_decimals(left: str, right: str) -> int:
    """The ``rr_decimal`` collation: numeric order of decimal text (text order if not numbers)."""
    try:
        a, b = Decimal(left), Decimal(right)
    except InvalidOperation:
        return (left > right) - (left < right)
    return (a > b) - (a < b)
