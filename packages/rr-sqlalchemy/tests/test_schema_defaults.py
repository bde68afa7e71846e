"""Every form of column default, reflected from real SQLite, PostgreSQL and MariaDB tables.

Each case is a column per database (None where the database has no such form) and the
exact Python value and type expected. Time defaults are checked against an injected
clock, cut to the column's fractional-second precision.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from reactive_record import SchemaDefault
from rr_sqlalchemy.reflection import inspect_table
from rr_sqlalchemy.schema_defaults import table_defaults

NOW = dt.datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=dt.timezone.utc)


def clock() -> dt.datetime:
    """The injected clock time defaults read."""
    return NOW


@dataclass(frozen=True)
class Fresh:
    """A JSON or array default: a factory returning an equal, new object each time."""

    value: Any


@dataclass(frozen=True)
class Made:
    """A default evaluated when a record is built: a factory whose result equals ``value``."""

    value: Any


SERVER = "server-generated"
NO_DEFAULT = "no default"
UUID4 = "uuid4"
SECONDS = NOW.replace(microsecond=0)


@dataclass(frozen=True)
class Case:
    """One column: its DDL per database, and what its default must read as."""

    name: str
    sqlite: str | None
    postgresql: str | None
    mariadb: str | None
    expected: Any

    def ddl(self, dialect: str) -> str | None:
        """The column's DDL on ``dialect`` (None: not a form this database has)."""
        text: str | None = getattr(self, dialect)
        return text


CASES = [
    Case(
        "string",
        "VARCHAR(20) DEFAULT 'pending'",
        "VARCHAR(20) DEFAULT 'pending'::character varying",
        "VARCHAR(20) DEFAULT 'pending'",
        "pending",
    ),
    Case(
        "doubled_quote",
        "TEXT DEFAULT 'it''s'",
        "TEXT DEFAULT 'it''s'",
        "TEXT DEFAULT 'it''s'",
        "it's",
    ),
    Case("backslash", None, "TEXT DEFAULT 'a\\b'", "TEXT DEFAULT 'a\\\\b'", "a\\b"),
    Case(
        "empty_string",
        "VARCHAR(5) DEFAULT ''",
        "VARCHAR(5) DEFAULT ''",
        "VARCHAR(5) DEFAULT ''",
        "",
    ),
    Case("integer", "INTEGER DEFAULT 2", "INTEGER DEFAULT 2", "INT DEFAULT 2", 2),
    Case("negative", "INTEGER DEFAULT -1", "INTEGER DEFAULT -1", "INT DEFAULT -1", -1),
    Case(
        "quoted_negative",
        "INTEGER DEFAULT '-3'",
        "INTEGER DEFAULT '-3'::integer",
        "INT DEFAULT '-3'",
        -3,
    ),
    Case("parenthesised", "INTEGER DEFAULT (-4)", "BIGINT DEFAULT (-4)", "BIGINT DEFAULT (-4)", -4),
    Case(
        "decimal",
        "NUMERIC(10, 2) DEFAULT 1.5",
        "NUMERIC(10, 2) DEFAULT 1.5",
        "DECIMAL(10, 2) DEFAULT 1.5",
        Decimal("1.50"),
    ),
    Case(
        "negative_decimal",
        "DECIMAL(10, 2) DEFAULT '-2.25'",
        "NUMERIC(10, 2) DEFAULT -2.25",
        "DECIMAL(10, 2) DEFAULT -2.25",
        Decimal("-2.25"),
    ),
    Case("float", "REAL DEFAULT 0.5", "DOUBLE PRECISION DEFAULT 0.5", "DOUBLE DEFAULT 0.5", 0.5),
    Case("true_word", "BOOLEAN DEFAULT TRUE", "BOOLEAN DEFAULT TRUE", "BOOLEAN DEFAULT TRUE", True),
    Case(
        "false_word",
        "BOOLEAN DEFAULT false",
        "BOOLEAN DEFAULT false",
        "BOOLEAN DEFAULT false",
        False,
    ),
    Case("true_digit", "BOOLEAN DEFAULT 1", "BOOLEAN DEFAULT '1'", "TINYINT(1) DEFAULT 1", True),
    Case(
        "false_quoted",
        "BOOLEAN DEFAULT 'f'",
        "BOOLEAN DEFAULT 'f'",
        "TINYINT(1) DEFAULT '0'",
        False,
    ),
    Case(
        "json_object",
        "JSON DEFAULT '{}'",
        "JSONB DEFAULT '{}'::jsonb",
        "JSON DEFAULT '{}'",
        Fresh({}),
    ),
    Case(
        "json_nested",
        "JSON DEFAULT '{\"a\": [1, 2]}'",
        "JSON DEFAULT '{\"a\": [1, 2]}'",
        "JSON DEFAULT '{\"a\": [1, 2]}'",
        Fresh({"a": [1, 2]}),
    ),
    Case("json_list", "JSON DEFAULT '[]'", "JSONB DEFAULT '[]'", "JSON DEFAULT '[]'", Fresh([])),
    Case("text_array", None, "TEXT[] DEFAULT '{a,\"b c\"}'", None, Fresh(["a", "b c"])),
    Case("int_array", None, "INTEGER[] DEFAULT ARRAY[1, 2]", None, Fresh([1, 2])),
    Case("empty_array", None, "TEXT[] DEFAULT '{}'::text[]", None, Fresh([])),
    Case(
        "enum",
        "VARCHAR(10) DEFAULT 'active' CHECK (enum IN ('pending', 'active'))",
        "job_state DEFAULT 'active'",
        "ENUM('pending', 'active') DEFAULT 'active'",
        "active",
    ),
    Case("domain", None, "positive_int", None, 5),
    Case(
        "null",
        "VARCHAR(10) DEFAULT NULL",
        "VARCHAR(10) DEFAULT NULL",
        "VARCHAR(10) DEFAULT NULL",
        NO_DEFAULT,
    ),
    Case("null_cast", None, "VARCHAR(10) DEFAULT NULL::character varying", None, NO_DEFAULT),
    Case(
        "null_quoted",
        "VARCHAR(10) DEFAULT 'NULL'",
        "VARCHAR(10) DEFAULT 'NULL'",
        "VARCHAR(10) DEFAULT 'NULL'",
        NO_DEFAULT,
    ),
    Case("none", "VARCHAR(10)", "VARCHAR(10)", "VARCHAR(10)", NO_DEFAULT),
    Case(
        "current_timestamp",
        "DATETIME DEFAULT CURRENT_TIMESTAMP",
        "TIMESTAMP DEFAULT CURRENT_TIMESTAMP",
        "TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP",
        {"sqlite": Made(SECONDS), "postgresql": Made(NOW), "mariadb": Made(SECONDS)},
    ),
    Case(
        "now",
        "TIMESTAMP DEFAULT (datetime('now'))",
        "TIMESTAMP WITH TIME ZONE DEFAULT now()",
        "DATETIME DEFAULT now()",
        {"sqlite": Made(SECONDS), "postgresql": Made(NOW), "mariadb": Made(SECONDS)},
    ),
    Case(
        "current_timestamp_call",
        None,
        "TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)",
        "DATETIME(6) DEFAULT current_timestamp(6)",
        {"postgresql": Made(NOW.replace(microsecond=123000)), "mariadb": Made(NOW)},
    ),
    Case(
        "localtimestamp",
        None,
        "TIMESTAMP(0) DEFAULT LOCALTIMESTAMP",
        "DATETIME DEFAULT LOCALTIMESTAMP",
        Made(SECONDS),
    ),
    Case(
        "utc_now",
        None,
        "TIMESTAMP DEFAULT timezone('utc', now())",
        "DATETIME DEFAULT utc_timestamp()",
        {"postgresql": Made(NOW), "mariadb": Made(SECONDS)},
    ),
    Case(
        "current_date",
        "DATE DEFAULT CURRENT_DATE",
        "DATE DEFAULT CURRENT_DATE",
        "DATE DEFAULT curdate()",
        Made(NOW.date()),
    ),
    Case(
        "date_literal",
        "DATE DEFAULT '2020-02-29'",
        "DATE DEFAULT '2020-02-29'::date",
        "DATE DEFAULT '2020-02-29'",
        dt.date(2020, 2, 29),
    ),
    Case(
        "datetime_literal",
        "DATETIME DEFAULT '2020-02-29 10:00:00'",
        "TIMESTAMP WITH TIME ZONE DEFAULT '2020-02-29 10:00:00+00'",
        "DATETIME DEFAULT '2020-02-29 10:00:00'",
        dt.datetime(2020, 2, 29, 10, tzinfo=dt.timezone.utc),
    ),
    Case("uuid_function", None, "UUID DEFAULT gen_random_uuid()", "UUID DEFAULT uuid()", UUID4),
    Case(
        "uuid_literal",
        None,
        "UUID DEFAULT '00000000-0000-0000-0000-000000000001'",
        "UUID DEFAULT '00000000-0000-0000-0000-000000000001'",
        uuid.UUID(int=1),
    ),
    Case(
        "uuid_as_text",
        "CHAR(32) DEFAULT (lower(hex(randomblob(16))))",
        None,
        "CHAR(36) DEFAULT uuid()",
        SERVER,
    ),
    Case("serial", None, "SERIAL", None, SERVER),
    Case("identity", None, "INTEGER GENERATED BY DEFAULT AS IDENTITY", None, SERVER),
    Case(
        "generated",
        "TEXT GENERATED ALWAYS AS ('x' || string) VIRTUAL",
        "TEXT GENERATED ALWAYS AS ('x' || string) STORED",
        "VARCHAR(30) GENERATED ALWAYS AS (concat('x', string)) VIRTUAL",
        SERVER,
    ),
    Case(
        "opaque",
        "DATE DEFAULT (date('now', '+30 days'))",
        "DATE DEFAULT (CURRENT_DATE + '30 days'::interval)",
        "DATE DEFAULT (curdate() + interval 30 day)",
        SERVER,
    ),
]

PRIMARY_KEYS = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INT AUTO_INCREMENT PRIMARY KEY",
}
PREAMBLE = {
    "postgresql": [
        "CREATE TYPE job_state AS ENUM ('pending', 'active')",
        "CREATE DOMAIN positive_int AS integer DEFAULT 5 CHECK (VALUE > 0)",
    ],
}


@pytest.fixture
def reflected(sql_db_url: str) -> Iterator[tuple[str, dict[str, SchemaDefault]]]:
    """The dialect and the reflected defaults of a table with every case's column."""
    engine = sa.create_engine(sql_db_url)
    dialect = sa.make_url(sql_db_url).get_backend_name()
    columns = [f"id {PRIMARY_KEYS[dialect]}"]
    quote = "`" if dialect == "mariadb" else '"'
    columns += [
        f"{quote}{c.name}{quote} {c.ddl(dialect)}" for c in CASES if c.ddl(dialect) is not None
    ]
    ddl = "CREATE TABLE jobs (\n  " + ",\n  ".join(columns) + "\n)"
    with engine.begin() as conn:
        for statement in [*PREAMBLE.get(dialect, []), ddl]:
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        info = inspect_table(conn, "jobs")
    yield dialect, table_defaults(info, clock)
    engine.dispose()


def _mismatch(case: Case, found: SchemaDefault | None, expected: Any) -> str | None:
    if expected == NO_DEFAULT:
        return None if found is None else f"expected no default, got {found}"
    if found is None:
        return "no default reflected"
    if expected == SERVER:
        return None if found.server_generated else f"expected server-generated, got {found}"
    if found.server_generated:
        return f"server-generated ({found.expression}), expected a value"
    if expected == UUID4:
        return None if found.value is uuid.uuid4 else f"expected uuid4, got {found.value!r}"
    if isinstance(expected, (Fresh, Made)):
        if not callable(found.value):
            return f"expected a factory, got {found.value!r}"
        first, second = found.value(), found.value()
        if first != expected.value or type(first) is not type(expected.value):
            return f"factory made {first!r}, expected {expected.value!r}"
        if isinstance(expected, Fresh) and isinstance(first, (dict, list)) and first is second:
            return "factory returned the same object twice"
        return None
    if found.value != expected or type(found.value) is not type(expected):
        return f"{found.value!r} ({type(found.value).__name__}), expected {expected!r}"
    if isinstance(expected, Decimal) and str(found.value) != str(expected):
        return f"{found.value!r} is not exactly {expected!r}"
    return None


def test_every_default_form_reads_as_its_exact_python_value(
    reflected: tuple[str, dict[str, SchemaDefault]],
) -> None:
    dialect, defaults = reflected
    problems = []
    for case in CASES:
        if case.ddl(dialect) is None:
            continue
        expected = case.expected[dialect] if isinstance(case.expected, dict) else case.expected
        problem = _mismatch(case, defaults.get(case.name), expected)
        if problem is not None:
            problems.append(f"{case.name}: {problem}")
    assert problems == []
    assert defaults["id"].server_generated


def test_the_opaque_expression_keeps_its_text(
    reflected: tuple[str, dict[str, SchemaDefault]],
) -> None:
    _, defaults = reflected
    opaque = defaults["opaque"]
    assert opaque.server_generated and opaque.value is None
    assert opaque.expression is not None and "30" in opaque.expression


def test_sqlalchemy_column_defaults_are_honoured() -> None:
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    calls: list[int] = []

    def next_code() -> str:
        calls.append(1)
        return f"J-{len(calls)}"

    table = sa.Table(
        "jobs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), default="draft", server_default="pending"),
        sa.Column("code", sa.String(20), default=next_code),
        sa.Column("tags", sa.JSON, default=[]),
        sa.Column("stamp", sa.DateTime, default=sa.func.now()),
        sa.Column("plain", sa.Integer, server_default="7"),
    )
    metadata.create_all(engine)
    with engine.connect() as conn:
        defaults = table_defaults(inspect_table(conn, "jobs"), clock, table)
    engine.dispose()
    assert defaults["status"].value == "draft"
    factory: Callable[[], Any] = defaults["code"].value
    assert (factory(), factory()) == ("J-1", "J-2")
    tags = defaults["tags"].value
    assert tags() == [] and tags() is not tags()
    assert defaults["stamp"].server_generated
    assert defaults["plain"].value == 7
