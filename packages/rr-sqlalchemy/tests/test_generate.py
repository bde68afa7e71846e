"""``reactive-record generate``: an existing schema round-trips into configuration that loads
and passes ``check``, and ``--format python`` types the records for mypy."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from reactive_record import ConfigError, ReactiveRecord, ValidationError
from reactive_record.cli import cli
from rr_sqlalchemy.generate import describe_database, model_name, render_python, render_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: A small existing database: foreign keys (one cascading, two to the same table),
#: CHECK constraints, an enum, defaults of every kind, and a table that cannot be a model.
SCHEMAS = {
    "postgresql": [
        "CREATE TYPE job_kind AS ENUM ('repair', 'install')",
        "CREATE TABLE clients (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE,"
        " created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(200) NOT NULL,"
        " role VARCHAR(20) NOT NULL DEFAULT 'technician'"
        " CHECK (role IN ('admin', 'manager', 'technician')),"
        " client_id INTEGER NOT NULL REFERENCES clients (id), photo BYTEA,"
        " CHECK (lower(email) = email))",
        "CREATE TABLE job_tasks (id BIGSERIAL PRIMARY KEY, title VARCHAR(200) NOT NULL,"
        " priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 5),"
        " state VARCHAR(10) NOT NULL DEFAULT 'pending'"
        " CHECK (state IN ('pending', 'active', 'done')), kind job_kind,"
        " amount NUMERIC(10, 2) DEFAULT 0.00,"
        " meta JSONB NOT NULL DEFAULT '{}'::jsonb, due DATE DEFAULT CURRENT_DATE,"
        " uid UUID NOT NULL DEFAULT gen_random_uuid(),"
        " client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,"
        " author_id INTEGER REFERENCES users (id), reviewer_id INTEGER REFERENCES users (id))",
        "CREATE INDEX ix_tasks_state ON job_tasks (state, priority)",
        "CREATE TABLE tags (job_task_id INTEGER NOT NULL, name VARCHAR(20) NOT NULL,"
        " PRIMARY KEY (job_task_id, name))",
    ],
    "sqlite": [
        "CREATE TABLE clients (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE,"
        " created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL,"
        " role VARCHAR(20) NOT NULL DEFAULT 'technician'"
        " CHECK (role IN ('admin', 'manager', 'technician')),"
        " client_id INTEGER NOT NULL REFERENCES clients (id), photo BLOB,"
        " CHECK (lower(email) = email))",
        "CREATE TABLE job_tasks (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL,"
        " priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 5),"
        " state VARCHAR(10) NOT NULL DEFAULT 'pending'"
        " CHECK (state IN ('pending', 'active', 'done')), amount NUMERIC(10, 2) DEFAULT 0.00,"
        " meta JSON NOT NULL DEFAULT '{}', due DATE DEFAULT CURRENT_DATE,"
        " uid CHAR(32) NOT NULL DEFAULT (lower(hex(randomblob(16)))),"
        " client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,"
        " author_id INTEGER REFERENCES users (id), reviewer_id INTEGER REFERENCES users (id))",
        "CREATE INDEX ix_tasks_state ON job_tasks (state, priority)",
        "CREATE TABLE tags (job_task_id INTEGER NOT NULL, name VARCHAR(20) NOT NULL,"
        " PRIMARY KEY (job_task_id, name))",
    ],
    "mariadb": [
        "CREATE TABLE clients (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL"
        " UNIQUE, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200) NOT NULL,"
        " role VARCHAR(20) NOT NULL DEFAULT 'technician'"
        " CHECK (role IN ('admin', 'manager', 'technician')),"
        " client_id INT NOT NULL, photo BLOB, FOREIGN KEY (client_id) REFERENCES clients (id),"
        " CHECK (lower(email) = email))",
        "CREATE TABLE job_tasks (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
        " title VARCHAR(200) NOT NULL,"
        " priority INT NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 5),"
        " state ENUM('pending', 'active', 'done') NOT NULL DEFAULT 'pending',"
        " amount DECIMAL(10, 2) DEFAULT 0.00, meta JSON NOT NULL DEFAULT '{}',"
        " due DATE DEFAULT curdate(), uid UUID NOT NULL DEFAULT uuid(),"
        " client_id INT NOT NULL, author_id INT, reviewer_id INT,"
        " FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE,"
        " FOREIGN KEY (author_id) REFERENCES users (id),"
        " FOREIGN KEY (reviewer_id) REFERENCES users (id),"
        " INDEX ix_tasks_state (state, priority))",
        "CREATE TABLE tags (job_task_id INT NOT NULL, name VARCHAR(20) NOT NULL,"
        " PRIMARY KEY (job_task_id, name))",
    ],
}


@pytest.fixture
def database(sql_db_url: str) -> Iterator[str]:
    """The URL of a test database holding the existing schema of its dialect."""
    engine = sa.create_engine(sql_db_url)
    with engine.begin() as conn:
        for statement in SCHEMAS[sa.make_url(sql_db_url).get_backend_name()]:
            conn.exec_driver_sql(statement)
    engine.dispose()
    yield sql_db_url


def _generate(*args: str) -> str:
    result = CliRunner().invoke(cli, ["generate", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_model_names_are_singular_camel_case() -> None:
    assert model_name("job_tasks") == "JobTask"
    assert model_name("companies") == "Company"
    assert model_name("boxes") == "Box"
    assert model_name("2fa_codes") == "T2faCode"


def test_generated_toml_describes_the_schema(database: str) -> None:
    text = _generate("--database", database)
    models = tomllib.loads(text)["tool"]["reactive-record"]["models"]
    assert sorted(models) == ["Client", "JobTask", "User"]
    assert "Skipped table tags" in text
    task = models["JobTask"]
    assert task["table"] == "job_tasks"
    fields = task["fields"]
    assert fields["id"] == {"type": "integer", "primary_key": True}
    assert fields["title"] == {"type": "string", "length": 200, "null": False}
    assert fields["priority"] == {"type": "integer", "default": 2, "null": False}
    assert fields["amount"] == {"type": "decimal", "precision": 10, "scale": 2}
    assert fields["meta"] == {"type": "json", "null": False}
    assert fields["due"] == {"type": "date"}
    validations = task["validations"]
    assert validations["title"] == {"presence": True, "length": {"max": 200}}
    assert validations["priority"]["numericality"] == {"gte": 1, "lte": 5}
    assert validations["state"]["inclusion"] == ["pending", "active", "done"]
    if "kind" in fields:
        assert validations["kind"]["inclusion"] == ["repair", "install"]
    # The database fills these itself, so creating without them must stay valid.
    assert validations["meta"]["presence"] is False
    assert validations["uid"]["presence"] is False
    assert ["state", "priority"] in task["indexes"]
    assert task["belongs_to"] == {
        "client": {"model": "Client", "foreign_key": "client_id"},
        "author": {"model": "User", "foreign_key": "author_id"},
        "reviewer": {"model": "User", "foreign_key": "reviewer_id"},
    }
    assert models["Client"]["has_many"]["job_tasks"] == {
        "model": "JobTask",
        "foreign_key": "client_id",
        "dependent": "destroy",
    }
    assert models["User"]["has_many"] == {
        "author_job_tasks": {"model": "JobTask", "foreign_key": "author_id"},
        "reviewer_job_tasks": {"model": "JobTask", "foreign_key": "reviewer_id"},
    }
    assert models["User"]["validations"]["role"]["inclusion"] == ["admin", "manager", "technician"]
    assert models["User"]["fields"]["role"]["default"] == "technician"
    assert models["User"]["fields"]["photo"] == {"type": "text"}
    assert "# photo: " in text and "has no field type; read as text" in text
    [unread] = [line for line in text.splitlines() if "is the database's to enforce" in line]
    assert unread.startswith("# CHECK (") and "email" in unread


def _project(tmp_path: Path, database: str, toml: str) -> Path:
    path = tmp_path / "pyproject.toml"
    header = f'[project]\nname = "existing"\n\n[tool.reactive-record]\ndatabase = "{database}"\n\n'
    path.write_text(header + toml)
    return path


def test_generated_config_loads_back_and_check_finds_no_problem(
    database: str, tmp_path: Path
) -> None:
    path = _project(tmp_path, database, _generate("--database", database))
    with ReactiveRecord.from_pyproject(path) as rr:
        rr.create_tables()  # only plugins' own tables are missing; the models' exist
        client = rr.models.Client.create({"name": "Acme"})
        assert client.created_at is not None
        task = rr.models.JobTask.create({"title": "Fix", "client_id": client.id})
        assert (task.priority, task.state, task.meta) == (2, "pending", {})
        found = rr.models.Client.includes("job_tasks").find(client.id).data
        assert found is not None and [t.id for t in found.job_tasks] == [task.id]
    result = CliRunner().invoke(cli, ["--project", str(path), "check"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output


def test_tables_can_be_chosen_and_unknown_ones_are_refused(database: str) -> None:
    models = tomllib.loads(_generate("--database", database, "--tables", "clients,users"))
    assert sorted(models["tool"]["reactive-record"]["models"]) == ["Client", "User"]
    result = CliRunner().invoke(cli, ["generate", "--database", database, "--tables", "nope"])
    assert result.exit_code == 2 and "no such table(s): nope" in result.output


def test_the_database_comes_from_the_project_when_not_given(database: str, tmp_path: Path) -> None:
    path = _project(tmp_path, database, "")
    result = CliRunner().invoke(cli, ["--project", str(path), "generate", "--tables", "users"])
    assert result.exit_code == 0, result.output
    assert "[tool.reactive-record.models.User]" in result.output


def test_a_non_sql_url_is_refused() -> None:
    result = CliRunner().invoke(cli, ["generate", "--database", "memory://"])
    assert result.exit_code == 2 and "SQL databases" in result.output


def test_reflecting_a_model_without_fields_matches_the_generated_one(database: str) -> None:
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        described = describe_database(conn).models["JobTask"]
    engine.dispose()
    with ReactiveRecord(database=database, models={"JobTask": {"table": "job_tasks"}}) as rr:
        model = rr.model_definition("JobTask")
        fields: dict[str, Any] = {
            name: {k: v for k, v in vars(f).items() if v not in (None, False) and k != "name"}
            for name, f in model.fields.items()
        }
        for name, spec in described["fields"].items():
            expected = {k: v for k, v in spec.items() if k != "null"}
            assert {k: v for k, v in fields[name].items() if k != "null"} == expected, name
            assert model.fields[name].null == spec.get("null", not spec.get("primary_key", False))
        assert model.validations == described["validations"]
        assert model.tenant_field == "client_id"


def test_a_model_whose_table_is_missing_is_a_config_error(sql_db_url: str) -> None:
    with pytest.raises(ConfigError, match=r"models\.Job\.table"):
        ReactiveRecord(database=sql_db_url, models={"Job": {"table": "nope"}})


def _mypy(api: Any, folder: Path, *files: str) -> tuple[str, int]:
    """``mypy --strict`` on ``files`` of ``folder``: its report and exit status."""
    cache = ["--no-incremental", "--cache-dir", str(folder / ".mypy_cache")]
    out, _, status = api.run(["--strict", *cache, *(str(folder / name) for name in files)])
    return out, status


def test_python_format_types_records_for_mypy(database: str, tmp_path: Path) -> None:
    if not database.startswith("sqlite"):
        pytest.skip("one database is enough to type-check the generated module")
    api = pytest.importorskip("mypy.api")
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        module = render_python(describe_database(conn))
    engine.dispose()
    assert render_toml  # the TOML renderer is the other format of the same description
    (tmp_path / "records.py").write_text(module)
    (tmp_path / "use.py").write_text(
        "from reactive_record import ReactiveRecord\n"
        "from records import typed_models\n\n"
        "def title(rr: ReactiveRecord) -> str:\n"
        "    task = typed_models(rr).JobTask.first()\n"
        "    assert task is not None\n"
        "    return task.title\n\n"
        "def wrong(rr: ReactiveRecord) -> int:\n"
        "    task = typed_models(rr).JobTask.first()\n"
        "    assert task is not None\n"
        "    return task.title\n"
    )
    out, status = _mypy(api, tmp_path, "records.py", "use.py")
    assert status == 1, out
    assert out.count("error:") == 1
    assert 'use.py:12: error: Incompatible return value type (got "str", expected "int")' in out


def test_a_check_in_list_on_a_decimal_column_accepts_its_own_values(sql_db_url: str) -> None:
    # Read as floats, 0.10 would never equal Decimal("0.10"): every write refused, the
    # column's own default included.
    engine = sa.create_engine(sql_db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE rates (id INTEGER PRIMARY KEY,"
            " rate NUMERIC(4, 2) NOT NULL DEFAULT 0.10 CHECK (rate IN (0.10, 0.20)))"
        )
    engine.dispose()
    with ReactiveRecord(sql_db_url, {"Rate": {"table": "rates"}}, plugins=["sqlalchemy"]) as rr:
        assert rr.models.Rate.create({"id": 1, "rate": "0.2"}).rate == Decimal("0.2")
        with pytest.raises(ValidationError, match="rate"):
            rr.models.Rate.create({"id": 2, "rate": "0.3"})
    models = tomllib.loads(_generate("--database", sql_db_url))["tool"]["reactive-record"]
    assert models["models"]["Rate"]["validations"]["rate"]["inclusion"] == ["0.10", "0.20"]
    with ReactiveRecord(sql_db_url, models["models"], plugins=["sqlalchemy"]) as rr:
        assert rr.models.Rate.create({"id": 3, "rate": "0.10"}).rate == Decimal("0.1")
        assert rr.models.Rate.where(rate=Decimal("0.2")).count() == 1


def test_generate_refuses_a_sqlite_file_that_does_not_exist(tmp_path: Path) -> None:
    # Opening it would create an empty database and print an empty configuration.
    missing = tmp_path / "typo.db"
    result = CliRunner().invoke(cli, ["generate", "--database", f"sqlite:///{missing}"])
    assert result.exit_code == 2 and f"no SQLite database at {missing}" in result.output
    assert not missing.exists()


def test_check_names_missing_tables_and_columns(sql_db_url: str) -> None:
    models = {
        "Job": {"fields": {"title": "string", "status": "string"}},
        "Note": {"fields": {"body": "text"}},
    }
    with ReactiveRecord(sql_db_url, models, plugins=["sqlalchemy"]) as rr:
        assert rr.checks() == [
            "sqlalchemy: Job: no table jobs (create it with rr.create_tables(), "
            "`reactive-record db create` or your migrations)",
            "sqlalchemy: Note: no table notes (create it with rr.create_tables(), "
            "`reactive-record db create` or your migrations)",
        ]
        rr.create_tables()
        assert rr.checks() == []
    grown = {**models, "Job": {"fields": {"title": "string", "status": "string", "due": "date"}}}
    with ReactiveRecord(sql_db_url, grown, plugins=["sqlalchemy"]) as rr:
        assert rr.checks() == ["sqlalchemy: Job: table jobs has no column due"]


def test_python_format_survives_columns_named_like_their_types(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    database = f"sqlite:///{tmp_path / 'named.db'}"
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, datetime DATETIME NOT NULL,"
            " decimal NUMERIC(10, 2), str TEXT, day DATE, total NUMERIC(10, 2))"
        )
    with engine.connect() as conn:
        module = render_python(describe_database(conn))
    engine.dispose()
    assert "    datetime: _datetime.datetime\n" in module
    assert "    # str: str | None  (read it by item: record['str'])" in module
    (tmp_path / "records.py").write_text(module)
    out, status = _mypy(api, tmp_path, "records.py")
    assert status == 0, out


def test_a_decimal_the_store_keeps_as_text_on_sqlite_reflects_as_a_decimal(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    with ReactiveRecord(url, {"Job": {"fields": {"price": "decimal"}}}, ["sqlalchemy"]) as rr:
        rr.create_tables()
        rr.models.Job.create({"price": "10.50"})
    with ReactiveRecord(url, {"Job": {}}, ["sqlalchemy"]) as rr:
        assert rr.model_definition("Job").fields["price"].type == "decimal"
        assert rr.models.Job.where(price={"gt": "9"}).pluck("price") == [Decimal("10.50")]
    models = tomllib.loads(_generate("--database", url))["tool"]["reactive-record"]["models"]
    assert models["Job"]["fields"]["price"] == {"type": "decimal"}


def test_foreign_keys_that_make_no_association_are_noted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in (
            "CREATE TABLE sites (id INTEGER PRIMARY KEY, region TEXT NOT NULL,"
            " code TEXT NOT NULL UNIQUE, UNIQUE (region, code))",
            "CREATE TABLE visits (id INTEGER PRIMARY KEY, region TEXT, code TEXT,"
            " FOREIGN KEY (region, code) REFERENCES sites (region, code))",
            "CREATE TABLE badges (id INTEGER PRIMARY KEY, site_code TEXT REFERENCES sites (code))",
            "CREATE TABLE legacy (code TEXT NOT NULL UNIQUE)",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, legacy_code TEXT"
            " REFERENCES legacy (code), site_id INTEGER REFERENCES sites (id))",
        ):
            conn.exec_driver_sql(statement)
    engine.dispose()
    text = _generate("--database", url)
    models = tomllib.loads(text)["tool"]["reactive-record"]["models"]
    assert "belongs_to" not in models["Visit"] and "belongs_to" not in models["Badge"]
    assert models["Item"]["belongs_to"] == {"site": {"model": "Site", "foreign_key": "site_id"}}
    assert models["Site"]["has_many"] == {"items": {"model": "Item", "foreign_key": "site_id"}}
    notes = [line for line in text.splitlines() if "no association" in line]
    assert notes == [
        "# site_code -> sites (code): no association: code is not the primary key of sites",
        "# legacy_code -> legacy (code): no association: legacy is not a model",
        "# region, code -> sites (region, code): no association: its key has several columns",
    ]

    alone = _generate("--database", url, "--tables", "items")
    assert "belongs_to" not in tomllib.loads(alone)["tool"]["reactive-record"]["models"]["Item"]
    assert "# site_id -> sites (id): no association: sites is not generated" in alone
