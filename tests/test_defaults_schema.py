"""Every form of database default, end to end: reflected by rr-sqlalchemy through the core's
``rr_schema_defaults`` hook, applied by rr-defaults, read off ``Job.new()``.

Table-driven over SQLite, PostgreSQL and MariaDB: each column's default must arrive as the
exact Python value and type expected; time functions are evaluated on the instance's
(injected) clock in the column's type; server-generated columns stay empty until insert;
an opaque expression is reported, not evaluated, and nothing crashes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("rr_sqlalchemy")
pytest.importorskip("rr_defaults")

import rr_defaults
import sqlalchemy as sa
from reactive_record import ReactiveRecord, SchemaDefault

NOW = dt.datetime(2024, 5, 1, 12, 30, 45, 987654, tzinfo=dt.timezone.utc)
SECONDS = NOW.replace(microsecond=0)
SERVER = "server-generated"
NONE = "no default"
UUID4 = "a fresh uuid4"


@dataclass(frozen=True)
class Form:
    """A default form: its column DDL per database (None where it has no such form)."""

    name: str
    ddl: dict[str, str]
    expected: Any

    def on(self, dialect: str) -> Any:
        """The value expected on ``dialect``."""
        if isinstance(self.expected, dict) and set(self.expected) <= {
            "sqlite",
            "postgresql",
            "mariadb",
        }:
            return self.expected[dialect]
        return self.expected


def _all(ddl: str) -> dict[str, str]:
    return {"sqlite": ddl, "postgresql": ddl, "mariadb": ddl}


FORMS = [
    Form(
        "cast_string",
        {
            **_all("VARCHAR(20) DEFAULT 'pending'"),
            "postgresql": "VARCHAR(20) DEFAULT 'pending'::character varying",
        },
        "pending",
    ),
    Form("doubled_quotes", _all("VARCHAR(20) DEFAULT 'it''s ''ok'''"), "it's 'ok'"),
    Form("integer", {**_all("INTEGER DEFAULT 7"), "mariadb": "INT DEFAULT 7"}, 7),
    Form(
        "quoted_negative",
        {**_all("INTEGER DEFAULT '-1'"), "postgresql": "INTEGER DEFAULT '-1'::integer"},
        -1,
    ),
    Form(
        "decimal",
        {**_all("NUMERIC(8, 3) DEFAULT 2.5"), "mariadb": "DECIMAL(8, 3) DEFAULT 2.5"},
        Decimal("2.500"),
    ),
    Form(
        "negative_decimal",
        {**_all("NUMERIC(8, 2) DEFAULT -0.75"), "mariadb": "DECIMAL(8, 2) DEFAULT -0.75"},
        Decimal("-0.75"),
    ),
    Form("bool_word", _all("BOOLEAN DEFAULT TRUE"), True),
    Form("bool_lower", _all("BOOLEAN DEFAULT false"), False),
    Form(
        "bool_digit",
        {
            "sqlite": "BOOLEAN DEFAULT 1",
            "postgresql": "BOOLEAN DEFAULT '1'",
            "mariadb": "TINYINT(1) DEFAULT 1",
        },
        True,
    ),
    Form(
        "json",
        {
            "sqlite": "JSON DEFAULT '{\"a\": [1]}'",
            "postgresql": "JSONB DEFAULT '{\"a\": [1]}'::jsonb",
            "mariadb": "JSON DEFAULT '{\"a\": [1]}'",
        },
        {"a": [1]},
    ),
    Form("array", {"postgresql": "TEXT[] DEFAULT '{x,y}'::text[]"}, ["x", "y"]),
    Form(
        "enum",
        {
            "sqlite": "VARCHAR(8) DEFAULT 'low' CHECK (enum IN ('low', 'high'))",
            "postgresql": "level DEFAULT 'low'::level",
            "mariadb": "ENUM('low', 'high') DEFAULT 'low'",
        },
        "low",
    ),
    Form("domain", {"postgresql": "percent"}, 50),
    Form("null", _all("VARCHAR(5) DEFAULT NULL"), NONE),
    Form("null_text", _all("VARCHAR(5) DEFAULT 'NULL'"), NONE),
    Form(
        "current_timestamp",
        {
            "sqlite": "DATETIME DEFAULT CURRENT_TIMESTAMP",
            "postgresql": "TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP",
            "mariadb": "TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP",
        },
        {"sqlite": SECONDS, "postgresql": NOW, "mariadb": SECONDS},
    ),
    Form(
        "now",
        {
            "sqlite": "DATETIME DEFAULT (datetime('now'))",
            "postgresql": "TIMESTAMP DEFAULT now()",
            "mariadb": "DATETIME(6) DEFAULT now(6)",
        },
        {"sqlite": SECONDS, "postgresql": NOW, "mariadb": NOW},
    ),
    Form(
        "localtimestamp",
        {
            "postgresql": "TIMESTAMP(0) DEFAULT LOCALTIMESTAMP",
            "mariadb": "DATETIME DEFAULT LOCALTIMESTAMP",
        },
        SECONDS,
    ),
    Form(
        "current_date",
        {
            "sqlite": "DATE DEFAULT CURRENT_DATE",
            "postgresql": "DATE DEFAULT CURRENT_DATE",
            "mariadb": "DATE DEFAULT curdate()",
        },
        NOW.date(),
    ),
    Form(
        "uuid",
        {"postgresql": "UUID DEFAULT gen_random_uuid()", "mariadb": "UUID DEFAULT uuid()"},
        UUID4,
    ),
    Form(
        "uuid_text",
        {
            "sqlite": "CHAR(32) DEFAULT (lower(hex(randomblob(16))))",
            "mariadb": "CHAR(36) DEFAULT uuid()",
        },
        SERVER,
    ),
    Form("identity", {"postgresql": "INTEGER GENERATED BY DEFAULT AS IDENTITY"}, SERVER),
    Form(
        "generated",
        {
            "sqlite": 'INTEGER GENERATED ALWAYS AS ("integer" * 2) VIRTUAL',
            "postgresql": 'INTEGER GENERATED ALWAYS AS ("integer" * 2) STORED',
            "mariadb": "INT GENERATED ALWAYS AS (`integer` * 2) VIRTUAL",
        },
        SERVER,
    ),
    Form(
        "opaque",
        {
            "sqlite": "DATE DEFAULT (date('now', '+30 days'))",
            "postgresql": "DATE DEFAULT (CURRENT_DATE + '30 days'::interval)",
            "mariadb": "DATE DEFAULT (curdate() + interval 30 day)",
        },
        SERVER,
    ),
]
PRIMARY_KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "BIGSERIAL PRIMARY KEY",
    "mariadb": "BIGINT AUTO_INCREMENT PRIMARY KEY",
}
TYPES = [
    "CREATE TYPE level AS ENUM ('low', 'high')",
    "CREATE DOMAIN percent AS integer DEFAULT 50 CHECK (VALUE BETWEEN 0 AND 100)",
]


@pytest.fixture
def instance(sql_db_url: str) -> Iterator[tuple[str, ReactiveRecord]]:
    """An instance whose Job is reflected from a table with every form its database has."""
    dialect = sa.make_url(sql_db_url).get_backend_name()
    quote = "`" if dialect == "mariadb" else '"'
    columns = [f"id {PRIMARY_KEY[dialect]}"]
    columns += [f"{quote}{f.name}{quote} {f.ddl[dialect]}" for f in FORMS if dialect in f.ddl]
    engine = sa.create_engine(sql_db_url)
    with engine.begin() as conn:
        for statement in TYPES if dialect == "postgresql" else []:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"CREATE TABLE jobs ({', '.join(columns)})")
    engine.dispose()
    rr = ReactiveRecord(
        database=sql_db_url,
        models={"Job": {"table": "jobs", "features": {"defaults": True}}},
        plugins=["sqlalchemy", "defaults"],
        clock=lambda: NOW,
    )
    yield dialect, rr
    rr.close()


def test_every_default_form_arrives_on_new_as_its_exact_value(
    instance: tuple[str, ReactiveRecord],
) -> None:
    dialect, rr = instance
    job = rr.models.Job.new()
    sources = {entry.field: entry.source for entry in rr_defaults.describe(rr.models.Job)}
    problems = []
    for form in FORMS:
        if dialect not in form.ddl:
            continue
        expected, got = form.on(dialect), job[form.name]
        if expected == SERVER:
            if got is not None or sources.get(form.name) != "server-generated":
                problems.append(
                    f"{form.name}: {got!r} from {sources.get(form.name)}, not server-generated"
                )
        elif expected == NONE:
            if got is not None or form.name in sources:
                problems.append(f"{form.name}: {got!r}, expected no default")
        elif expected == UUID4:
            if not isinstance(got, uuid.UUID) or got == rr.models.Job.new()[form.name]:
                problems.append(f"{form.name}: {got!r} is not a fresh UUID")
        elif got != expected or type(got) is not type(expected):
            problems.append(f"{form.name}: {got!r} ({type(got).__name__}), expected {expected!r}")
        elif isinstance(expected, Decimal) and str(got) != str(expected):
            problems.append(f"{form.name}: {got!r} is not exactly {expected!r}")
    assert problems == []
    assert job.id is None


def test_json_and_arrays_are_fresh_objects_for_each_record(
    instance: tuple[str, ReactiveRecord],
) -> None:
    _, rr = instance
    first = rr.models.Job.new()
    first["json"]["a"].append(2)
    assert rr.models.Job.new()["json"] == {"a": [1]}


def test_the_opaque_expression_is_reported_with_its_text(
    instance: tuple[str, ReactiveRecord],
) -> None:
    _, rr = instance
    [opaque] = [e for e in rr_defaults.describe(rr.models.Job) if e.field == "opaque"]
    assert opaque.source == "server-generated"
    assert opaque.expression is not None and "30" in opaque.expression
    assert "opaque" in rr_defaults.server_generated(rr.models.Job)
    assert rr.models.Job.new().opaque is None
    assert "opaque" not in rr_defaults.populate_form({}, rr.models.Job)


def test_hook_rr_schema_defaults(instance: tuple[str, ReactiveRecord]) -> None:
    _, rr = instance
    declared = rr.plugin_manager.hook.rr_schema_defaults(rr=rr, model=rr.model_definition("Job"))
    assert declared["cast_string"] == SchemaDefault(
        "pending", False, declared["cast_string"].expression
    )
    assert declared["id"].server_generated and declared["opaque"].server_generated
    assert "null" not in declared
    memory = ReactiveRecord(
        database="memory://",
        models={"Job": {"fields": {"title": "string"}}},
        plugins=["sqlalchemy", "defaults"],
    )
    with memory:
        job = memory.model_definition("Job")
        assert memory.plugin_manager.hook.rr_schema_defaults(rr=memory, model=job) is None
