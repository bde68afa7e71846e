"""Configuration: finding ``[tool.reactive-record]``, the database URL, and every mistake named."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from reactive_record import ConfigError, PluginNotInstalled, ReactiveRecord, ReactiveRecordError

PROJECT = """
[project]
name = "app"

[tool.reactive-record]
database = "memory://file"
plugins = []

[tool.reactive-record.models.Client]
fields = { name = "string" }

[tool.reactive-record.models.Job]
table = "work_orders"
fields.title = { type = "string", length = 200, null = false }
fields.client_id = "integer"
belongs_to.client = { model = "Client" }
scopes.by_client = { params = ["client_id"], where = { client_id = { param = "client_id" } } }
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("RR_DATABASE_URL", raising=False)
    return write(tmp_path, PROJECT)


def test_from_pyproject_is_found_upward_from_the_cwd(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = project.parent / "src" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    with ReactiveRecord.from_pyproject() as rr:
        assert rr.url == "memory://file"
        assert sorted(rr.models) == ["Client", "Job"]
        assert rr.models.Job.model.table == "work_orders"
        assert rr.models.Client.model.table == "clients"
        assert rr.root == project.parent.resolve()


def test_from_pyproject_takes_a_file_or_a_folder(project: Path) -> None:
    for path in (project, project.parent, str(project)):
        with ReactiveRecord.from_pyproject(path) as rr:
            assert "Job" in rr.models


def test_no_pyproject_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if any((p / "pyproject.toml").is_file() for p in (tmp_path, *tmp_path.parents)):
        pytest.skip("a pyproject.toml above the temporary directory")
    with pytest.raises(ConfigError, match=r"a pyproject\.toml here or above"):
        ReactiveRecord.from_pyproject()


def test_the_database_url_environment_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RR_DATABASE_URL", "memory://env")
    with ReactiveRecord.from_pyproject(project) as rr:
        assert rr.url == "memory://env"
    with ReactiveRecord.from_pyproject(project, database="memory://arg") as rr:
        assert rr.url == "memory://arg"
    with ReactiveRecord("memory://arg", {}, plugins=[]) as rr:
        assert rr.url == "memory://arg"


def test_a_programmatic_instance_takes_the_same_shape(project: Path) -> None:
    models = {"Job": {"fields": {"title": "string"}, "scopes": {"x": {"where": {"title": "x"}}}}}
    with ReactiveRecord("memory://", models, plugins=[]) as rr:
        rr.create_tables()
        assert rr.models.Job.x().count() == 0
        assert rr.model("Job") is rr.models.Job
        with pytest.raises(AttributeError, match="no model 'Jbo'; models: Job"):
            _ = rr.models.Jbo


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.reactive-record]\nplugins = []\ndatabase = memory\n[x]\n")
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord.from_pyproject(path)
    assert raised.value.path == str(path)
    assert str(path) in str(raised.value) and "line 3" in str(raised.value)


CONFIG_MISTAKES = [
    (
        {"models": {"Job": {"fieldz": {"title": "string"}}}},
        "tool.reactive-record.models.Job.fieldz",
        "unknown key",
    ),
    ({"databse": "memory://"}, "tool.reactive-record.databse", "unknown key"),
    (
        {"models": {"Job": {"fields": {"title": "strng"}}}},
        "tool.reactive-record.models.Job.fields.title.type",
        "Must be one of: string, text, integer",
    ),
    (
        {"models": {"Job": {"fields": {"title": {"type": "string", "lenght": 3}}}}},
        "tool.reactive-record.models.Job.fields.title.lenght",
        "unknown key",
    ),
    (
        {
            "models": {
                "Job": {"fields": {"n": "integer"}, "validations": {"n": {"numerically": {}}}}
            }
        },
        "tool.reactive-record.models.Job.validations.n.numerically",
        "unknown key",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "has_many": {"x": {"model": "Nope"}}}}},
        "tool.reactive-record.models.Job.has_many.x.model",
        "a model (Job)",
    ),
    (
        {
            "models": {
                "Job": {"fields": {"n": "integer"}, "belongs_to": {"client": {"model": "Job"}}}
            }
        },
        "tool.reactive-record.models.Job.belongs_to.client.foreign_key",
        "a field of Job",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "validations": {"m": {"presence": True}}}}},
        "tool.reactive-record.models.Job.validations.m",
        "a field of Job",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "indexes": [["n", "m"]]}}},
        "tool.reactive-record.models.Job.indexes.0",
        "a field of Job",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "scopes": {"s": {"where": {"m": 1}}}}}},
        "tool.reactive-record.models.Job.scopes.s.where",
        "Job has no field 'm'",
    ),
    (
        {
            "models": {
                "Job": {
                    "fields": {"n": "integer"},
                    "has_many": {"x": {"model": "Job", "dependent": "nullify"}},
                }
            }
        },
        "tool.reactive-record.models.Job.has_many.x.dependent",
        "Must be one of: destroy",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "scopes": {"count": {"where": {"n": 1}}}}}},
        "tool.reactive-record.models.Job.scopes.count",
        "a name that is not a query method",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "ttl": {"find": "soon"}}}},
        "tool.reactive-record.models.Job.ttl.find",
        "'soon' is not a duration like '30s'",
    ),
    ({"system_writes": "maybe"}, "tool.reactive-record.system_writes", "Not a valid boolean"),
    # TOML has real booleans: a string or a number is a mistake, not a spelling of true.
    ({"system_writes": "yes"}, "tool.reactive-record.system_writes", "Not a valid boolean"),
    (
        {"models": {"Job": {"fields": {"n": "string"}, "validations": {"n": {"format": "[a-"}}}}},
        "tool.reactive-record.models.Job.validations.n.format",
        "a regular expression (unterminated character set",
    ),
    (
        {"models": {"Job": {"fields": {"n": {"type": "integer", "null": 0}}}}},
        "tool.reactive-record.models.Job.fields.n.null",
        "Not a valid boolean",
    ),
    (
        {"models": {"Job": {"fields": {"n": "integer"}, "features": {"x": "true"}}}},
        "tool.reactive-record.models.Job.features.x",
        "Not a valid boolean",
    ),
    ({"plugins": "testplugin"}, "tool.reactive-record.plugins", "a list of plugin names"),
    (
        {"models": {"Job": {"fields": {"due": {"type": "date", "default": "tomorrow"}}}}},
        "tool.reactive-record.models.Job.fields.due.default",
        "a date value",
    ),
    (
        {
            "models": {
                "Job": {"fields": {"n": "integer"}, "validations": {"n": {"inclusion": [1, "x"]}}}
            }
        },
        "tool.reactive-record.models.Job.validations.n.inclusion",
        "a list of integer values",
    ),
]


@pytest.mark.parametrize(("table", "path", "allowed"), CONFIG_MISTAKES)
def test_config_mistakes_name_the_toml_path(
    tmp_path: Path, table: dict[str, Any], path: str, allowed: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(_toml(table))
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord.from_pyproject(pyproject, plugins=[] if "plugins" not in table else None)
    assert raised.value.path == path
    assert allowed in str(raised.value)


def test_programmatic_config_names_its_path() -> None:
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord("memory://", {"Job": {"fieldz": {}}}, plugins=[])
    assert raised.value.path == "reactive-record.models.Job.fieldz"


def test_a_shorthand_mistake_shows_the_value_written() -> None:
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord("memory://", {"Job": {"fields": {"title": "strng"}}}, plugins=[])
    assert raised.value.value == "strng" and "'strng' is not valid" in str(raised.value)


def test_a_model_enabling_a_missing_plugin() -> None:
    with pytest.raises(PluginNotInstalled) as raised:
        ReactiveRecord(
            "memory://", {"Job": {"fields": {"n": "integer"}, "features": {"nosuch": True}}}
        )
    assert raised.value.distribution == "rr-nosuch"
    assert "models.Job: feature 'nosuch'" in str(raised.value)
    assert "pip install rr-nosuch" in str(raised.value)


@pytest.mark.parametrize("feature", ["activity", "permissions", "defaults"])
def test_a_section_for_a_missing_first_party_plugin_names_it(tmp_path: Path, feature: str) -> None:
    with pytest.raises(PluginNotInstalled) as raised:
        ReactiveRecord("memory://", {"Job": {"fields": {"n": "integer"}, feature: {}}}, [])
    assert raised.value.distribution == f"rr-{feature}"
    assert f"models.Job.{feature} needs rr-{feature}" in str(raised.value)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.reactive-record]\ndatabase = "memory://"\nplugins = []\n'
        f"[tool.reactive-record.{feature}]\n"
    )
    with pytest.raises(PluginNotInstalled) as raised:
        ReactiveRecord.from_pyproject(tmp_path)
    assert raised.value.what == f"tool.reactive-record.{feature}"


def test_a_section_for_a_missing_plugin_is_an_unknown_key() -> None:
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord("memory://", {"Job": {"fields": {"n": "integer"}, "nosuch": {}}})
    assert raised.value.path == "reactive-record.models.Job.nosuch"


def test_computed_references_import_from_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fieldapp_computed_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "labels.py").write_text(
        "def job_label(job):\n    return f'#{job.id} {job.title}'\n"
        "def broken(job):\n    raise KeyError('oops')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # restored (and root removed) after the test
    write(
        tmp_path,
        """
        [tool.reactive-record]
        database = "memory://"
        plugins = []
        [tool.reactive-record.models.Job]
        fields = { title = "string" }
        computed = { label = "fieldapp_computed_probe.labels:job_label" }
        [tool.reactive-record.models.Bad]
        fields = { title = "string" }
        computed = { label = "fieldapp_computed_probe.labels:broken" }
        """,
    )
    with ReactiveRecord.from_pyproject(tmp_path) as rr:
        rr.create_tables()
        rr.models.Job.create({"title": "Fix"})
        assert rr.models.Job.one().label == "#1 Fix"
        rr.models.Bad.create({"title": "x"})
        with pytest.raises(ReactiveRecordError) as raised:
            rr.models.Bad.all()
        assert "computed property Bad.label failed for Bad 1: KeyError" in str(raised.value)


@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("no_colon_here", "a reference like 'package.module:function'"),
        ("no_such_module_xyz:f", "an importable module"),
        ("json:no_such_function", "json has no attribute 'no_such_function'"),
    ],
)
def test_bad_computed_references(reference: str, says: str) -> None:
    models = {"Job": {"fields": {"title": "string"}, "computed": {"label": reference}}}
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord("memory://", models, plugins=[])
    assert raised.value.path == "reactive-record.models.Job.computed.label"
    assert says in str(raised.value)


def test_an_unknown_database_url() -> None:
    with pytest.raises(ConfigError, match="a URL a store plugin handles"):
        ReactiveRecord("nosql://x", {}, plugins=[])
    with pytest.raises(PluginNotInstalled, match="rr-sqlalchemy"):
        ReactiveRecord("postgresql://localhost/x", {}, plugins=[])


def _toml(table: dict[str, Any]) -> str:
    """``[tool.reactive-record]`` as TOML: top-level keys, then one table per model."""
    lines = ["[tool.reactive-record]", 'database = "memory://"']
    lines += [f"{key} = {_inline(value)}" for key, value in table.items() if key != "models"]
    for name, model in table.get("models", {}).items():
        lines.append(f"[tool.reactive-record.models.{name}]")
        lines += [f"{key} = {_inline(value)}" for key, value in model.items()]
    return "\n".join(lines) + "\n"


def _inline(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + " }"


def test_defaults_and_listed_values_take_their_fields_type() -> None:
    # TOML has no date or decimal literal a user reaches for: "2024-02-29", "9.99", 0.1.
    models = {
        "Job": {
            "fields": {
                "due": {"type": "date", "default": "2024-02-29"},
                "rate": {"type": "decimal", "default": "0.10"},
            },
            "validations": {"rate": {"inclusion": [0.1, "0.20"]}},
        }
    }
    with ReactiveRecord("memory://", models, plugins=[]) as rr:
        rr.create_tables()
        job = rr.model_definition("Job")
        assert job.fields["due"].default == dt.date(2024, 2, 29)
        assert job.fields["rate"].default == Decimal("0.10")
        assert rr.models.Job.create({}).rate == Decimal("0.1")
        assert rr.models.Job.create({"rate": "0.2"}).rate == Decimal("0.2")
