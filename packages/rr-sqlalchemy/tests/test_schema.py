"""Tables as create_tables makes them, rr.metadata, and the ``db create`` / ``db sql`` commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from reactive_record import ReactiveRecord
from reactive_record.cli import cli

Make = Callable[..., ReactiveRecord]

MODELS: dict[str, Any] = {
    "Client": {
        "fields": {"name": {"type": "string", "length": 80, "null": False}},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "client_id"}},
    },
    "Job": {
        "fields": {
            "title": {"type": "string", "null": False},
            "body": "text",
            "status": {"type": "string", "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "done": {"type": "boolean", "default": False},
            "amount": {"type": "decimal", "precision": 10, "scale": 2, "default": "1.50"},
            "client_id": "integer",
        },
        "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
        "indexes": [["status", "priority"]],
    },
    "Note": {"fields": {"job_id": "integer", "text": "text"}},
}
MODELS["Job"]["has_many"] = {"notes": {"model": "Note", "foreign_key": "job_id"}}


@pytest.fixture
def rr(make_rr: Make, sql_db_url: str) -> ReactiveRecord:
    """An instance with its tables made."""
    return make_rr(sql_db_url, MODELS, ["sqlalchemy"])


def inspector(rr: ReactiveRecord) -> Any:
    """A SQLAlchemy inspector on the store's database."""
    return sa.inspect(rr.store.engine)  # type: ignore[attr-defined]


def test_metadata_holds_every_model_table(rr: ReactiveRecord) -> None:
    metadata = rr.metadata
    assert isinstance(metadata, sa.MetaData)
    jobs = metadata.tables["jobs"]
    assert [c.name for c in jobs.columns] == ["id", *MODELS["Job"]["fields"]]
    assert jobs.c.id.primary_key and not jobs.c.title.nullable and jobs.c.body.nullable


def test_foreign_keys_indexes_and_not_null_exist(rr: ReactiveRecord) -> None:
    found = inspector(rr)
    (fk,) = found.get_foreign_keys("jobs")
    assert fk["constrained_columns"] == ["client_id"] and fk["referred_table"] == "clients"
    job_indexes = {tuple(ix["column_names"]) for ix in found.get_indexes("jobs")}
    assert {("client_id",), ("status", "priority")} <= job_indexes
    # has_many's key is indexed on the other side, even without a belongs_to there.
    assert ("job_id",) in {tuple(ix["column_names"]) for ix in found.get_indexes("notes")}
    title = {c["name"]: c for c in found.get_columns("jobs")}["title"]
    assert title["nullable"] is False


def test_declared_defaults_are_server_defaults(rr: ReactiveRecord) -> None:
    job_model = rr.model_definition("Job")
    with rr.transaction() as tx:
        row = tx.insert(job_model, {"title": "Bare"})
    assert (row["status"], row["priority"], row["done"]) == ("pending", 2, False)
    assert str(row["amount"]) == "1.50"


def test_create_tables_twice_is_harmless(rr: ReactiveRecord) -> None:
    rr.models.Client.create({"name": "Acme"})
    rr.create_tables()
    assert rr.models.Client.count() == 1


def test_ddl_per_dialect(rr: ReactiveRecord) -> None:
    ddl = rr.store.ddl()  # type: ignore[attr-defined]
    assert ddl.count("CREATE TABLE") == 3 and "REFERENCES clients (id)" in ddl
    assert "ix_jobs_client_id" in ddl and "ix_jobs_status_priority" in ddl
    if rr.url.startswith("postgresql"):
        assert 'COLLATE "C"' in ddl and "NUMERIC(10, 2)" in ddl
    elif rr.url.startswith("mariadb"):
        assert "VARCHAR(255) COLLATE utf8mb4_nopad_bin" in ddl
        assert "ENGINE=InnoDB CHARSET=utf8mb4" in ddl and "body(255)" not in ddl
    else:
        assert "amount TEXT" in ddl and "rr_decimal" in ddl


def test_strings_use_binary_collation(rr: ReactiveRecord) -> None:
    for name in ("b", "B", "a ", "a", "é"):
        rr.models.Client.create({"name": name})
    assert rr.models.Client.order("name").pluck("name") == ["B", "a", "a ", "b", "é"]
    assert rr.models.Client.where(name="a").count() == 1


def project(tmp_path: Path, url: str) -> Path:
    """A pyproject.toml configuring ``url`` and two models."""
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f"""
[tool.reactive-record]
database = "{url}"
plugins = ["sqlalchemy"]

[tool.reactive-record.models.Client]
fields = {{ name = "string" }}

[tool.reactive-record.models.Job]
fields = {{ title = {{ type = "string", null = false }}, client_id = "integer" }}
belongs_to.client = {{ model = "Client" }}
"""
    )
    return path


def test_db_create_and_db_sql(
    tmp_path: Path, sql_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RR_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = project(tmp_path, sql_db_url)
    runner = CliRunner()
    first = runner.invoke(cli, ["--project", str(path), "db", "create"])
    assert first.exit_code == 0, first.output
    assert first.output == "created 2 table(s): clients, jobs\n"
    again = runner.invoke(cli, ["--project", str(path), "db", "create"])
    assert again.output == "every table exists already\n"
    ddl = runner.invoke(cli, ["--project", str(path), "db", "sql"])
    assert ddl.exit_code == 0 and ddl.output.count("CREATE TABLE") == 2
    assert "FOREIGN KEY(client_id) REFERENCES clients (id)" in ddl.output


def test_db_sql_needs_a_sql_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RR_DATABASE_URL", raising=False)
    path = project(tmp_path, "memory://")
    result = CliRunner().invoke(
        cli, ["--project", str(path), "--database", "memory://", "db", "sql"]
    )
    assert result.exit_code == 2 and "not a SQL database" in result.output


def test_a_foreign_key_index_a_declared_one_starts_with_is_not_doubled(
    make_rr: Make, sql_db_url: str
) -> None:
    models = {
        "Client": {"fields": {"name": "string"}},
        "Job": {
            "fields": {"client_id": "integer", "status": "string"},
            "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
            "indexes": [["client_id", "status"], ["status"], ["status", "client_id"]],
        },
    }
    rr = make_rr(sql_db_url, models, ["sqlalchemy"])
    found = {tuple(ix["column_names"]) for ix in inspector(rr).get_indexes("jobs")}
    # client_id's lookups use (client_id, status); declared indexes are all kept.
    assert found == {("client_id", "status"), ("status",), ("status", "client_id")}
