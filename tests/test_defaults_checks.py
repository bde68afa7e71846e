"""The drift check, ``reactive-record defaults show``, refresh after a migration, and forms
leaving server-generated fields out, against real databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("rr_sqlalchemy")
pytest.importorskip("rr_defaults")

import rr_defaults
import sqlalchemy as sa
from click.testing import CliRunner
from reactive_record import ReactiveRecord
from reactive_record.cli import cli

TABLES = {
    "sqlite": "CREATE TABLE jobs (id INTEGER PRIMARY KEY, title VARCHAR(50),"
    " status VARCHAR(20) DEFAULT 'pending', priority INTEGER DEFAULT 3, notes TEXT)",
    "postgresql": "CREATE TABLE jobs (id SERIAL PRIMARY KEY, title VARCHAR(50),"
    " status VARCHAR(20) DEFAULT 'pending', priority INTEGER DEFAULT 3, notes TEXT)",
    "mariadb": "CREATE TABLE jobs (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(50),"
    " status VARCHAR(20) DEFAULT 'pending', priority INT DEFAULT 3, notes TEXT)",
}
FIELDS = {"title": "string", "status": "string", "priority": "integer", "notes": "text"}


@pytest.fixture
def url(sql_db_url: str) -> Iterator[str]:
    """A database holding an existing ``jobs`` table with defaults."""
    engine = sa.create_engine(sql_db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(TABLES[sa.make_url(sql_db_url).get_backend_name()])
    engine.dispose()
    yield sql_db_url


def _instance(url: str, section: dict[str, object], **job: object) -> ReactiveRecord:
    model = {"table": "jobs", "fields": FIELDS, "features": {"defaults": True}, "defaults": section}
    model.update(job)
    return ReactiveRecord(database=url, models={"Job": model}, plugins=["sqlalchemy", "defaults"])


def test_values_that_disagree_with_the_database_are_reported(url: str) -> None:
    section = {"values": {"priority": 2, "status": "pending"}, "overrides": {"notes": "x"}}
    with _instance(url, section) as rr:
        assert rr.checks() == ["Job.priority: config 2, database 3"]


def test_overrides_and_computed_are_never_drift(url: str) -> None:
    with _instance(url, {"overrides": {"priority": 5, "status": "draft"}}) as rr:
        assert rr.checks() == []
        assert rr.models.Job.new().priority == 5


def test_field_defaults_are_checked_too(url: str) -> None:
    fields = {**FIELDS, "status": {"type": "string", "default": "open"}}
    with _instance(url, {}, fields=fields) as rr:
        assert rr.checks() == [
            "Job.status: config 'open' (fields.status.default), database 'pending'"
        ]


def test_a_server_generated_column_with_a_configured_value_is_drift(url: str) -> None:
    fields = {"id": {"type": "integer", "primary_key": True}, **FIELDS}
    with _instance(url, {"values": {"id": 1}}, fields=fields) as rr:
        [problem] = rr.checks()
        assert problem.startswith("Job.id: config 1, database generates it (")


def test_a_model_without_the_feature_is_not_checked(url: str) -> None:
    with _instance(url, {"values": {"priority": 2}}, features={}) as rr:
        assert rr.checks() == []


def _project(tmp_path: Path, url: str, section: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f'[tool.reactive-record]\ndatabase = "{url}"\nplugins = ["sqlalchemy", "defaults"]\n\n'
        "[tool.reactive-record.models.Job]\n"
        'table = "jobs"\n'
        'fields = { title = "string", status = "string", priority = "integer", notes = "text" }\n'
        "features = { defaults = true }\n\n"
        f"[tool.reactive-record.models.Job.defaults]\n{section}\n"
    )
    return path


def test_check_command_names_the_drift_and_exits_1(url: str, tmp_path: Path) -> None:
    path = _project(tmp_path, url, "values = { priority = 2 }")
    result = CliRunner().invoke(cli, ["--project", str(path), "check"])
    assert result.exit_code == 1
    assert "- Job.priority: config 2, database 3" in result.output
    path = _project(tmp_path, url, "values = { priority = 3 }")
    result = CliRunner().invoke(cli, ["--project", str(path), "check"])
    assert result.exit_code == 0, result.output


def test_defaults_show_prints_each_default_and_its_source(url: str, tmp_path: Path) -> None:
    path = _project(tmp_path, url, 'overrides = { notes = "call first" }')
    result = CliRunner().invoke(cli, ["--project", str(path), "defaults", "show", "Job"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[2:]}
    assert lines["id"][:5] == ["(the", "database", "fills", "it)", "server-generated"]
    assert lines["status"][:2] == ["pending", "schema"]
    assert lines["priority"][:2] == ["3", "schema"]
    assert lines["notes"][:3] == ["call", "first", "override"]
    result = CliRunner().invoke(cli, ["--project", str(path), "defaults", "show", "Nope"])
    assert result.exit_code == 2 and "Nope" in result.output


def test_refresh_reads_the_database_again_after_a_migration(url: str) -> None:
    with _instance(url, {}) as rr:
        assert rr.models.Job.new().priority == 3
        engine = sa.create_engine(url)
        dialect = sa.make_url(url).get_backend_name()
        alter = {
            "postgresql": "ALTER TABLE jobs ALTER COLUMN priority SET DEFAULT 4",
            "mariadb": "ALTER TABLE jobs ALTER COLUMN priority SET DEFAULT 4",
        }
        if dialect == "sqlite":
            pytest.skip("SQLite cannot change a column default in place")
        with engine.begin() as conn:
            conn.exec_driver_sql(alter[dialect])
        engine.dispose()
        assert rr.models.Job.new().priority == 3  # cached until refreshed
        rr_defaults.refresh(rr.models.Job)
        assert rr.models.Job.new().priority == 4
        rr_defaults.refresh(rr)
        assert rr_defaults.defaults_for(rr.models.Job)["priority"] == 4


def test_forms_leave_server_generated_fields_out(url: str) -> None:
    with _instance(url, {}) as rr:
        assert rr_defaults.server_generated(rr.models.Job) == frozenset({"id"})
        form = rr_defaults.populate_form({"title": "Fix"}, rr.models.Job)
        assert form == {"title": "Fix", "status": "pending", "priority": "3"}


def test_sqlalchemy_column_defaults_on_the_store_table_are_honoured(url: str) -> None:
    codes = iter(range(1, 100))
    with _instance(url, {}) as rr:
        table = rr.metadata.tables["jobs"]
        table.c.notes.default = sa.ColumnDefault(lambda: f"note {next(codes)}")
        table.c.status.default = sa.ColumnDefault("draft")
        rr_defaults.refresh(rr)
        assert (rr.models.Job.new().notes, rr.models.Job.new().notes) == ("note 1", "note 2")
        assert rr.models.Job.create({"title": "x"}).status == "draft"


TYPED: dict[str, object] = {
    "due": {"type": "date", "default": "2024-02-29"},
    "price": {"type": "decimal", "default": "9.99"},  # no precision: DECIMAL(65, 30) on MariaDB
    "rate": {"type": "decimal", "precision": 6, "scale": 2, "default": "0.10"},
    "ref": {"type": "uuid", "default": "0e37df36-f698-11e6-8dd4-cb9ced3df976"},
    "starts": {"type": "datetime", "default": "2024-01-01T10:00:00+00:00"},
}


def test_typed_defaults_agree_with_the_schema_create_tables_wrote(sql_db_url: str) -> None:
    # TOML writes dates, decimals and UUIDs as text, and a store may keep them as text
    # (SQLite's decimals, CHAR(36)): both sides are compared as the field's type.
    models = {"Thing": {"fields": TYPED, "features": {"defaults": True}}}
    with ReactiveRecord(sql_db_url, models, plugins=["sqlalchemy", "defaults"]) as rr:
        rr.create_tables()
        assert rr.checks() == []
        made, stored = dict(rr.models.Thing.new()), dict(rr.models.Thing.create({}))
        assert {k: (made[k], type(made[k])) for k in TYPED} == {
            k: (stored[k], type(stored[k])) for k in TYPED
        }
    # The same table, its defaults now only in the schema.
    plain = {name: spec["type"] for name, spec in TYPED.items()}  # type: ignore[index]
    reading = {"Thing": {"fields": plain, "features": {"defaults": True}}}
    with ReactiveRecord(sql_db_url, reading, plugins=["sqlalchemy", "defaults"]) as rr:
        fresh = dict(rr.models.Thing.new())
        assert {k: (fresh[k], type(fresh[k])) for k in TYPED} == {
            k: (stored[k], type(stored[k])) for k in TYPED
        }
