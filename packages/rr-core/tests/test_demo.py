"""``reactive-record demo``: it runs end to end, shows every section, and writes nothing here."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from reactive_record import ReactiveRecord
from reactive_record.cli import cli
from reactive_record.demo import Demo, PluginSteps, Step, _run_steps
from reactive_record.demo_app import MODELS, seed
from reactive_record.demo_steps import CORE_STEPS
from reactive_record.plugins import AUTOLOAD_ENV

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fieldservice"
FALLBACK = "the demo runs on the memory store"


def installed() -> set[str]:
    """Names of the entry-point plugins installed in this environment."""
    return {ep.name for ep in entry_points(group="reactive_record")}


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty current folder; the test fails if the demo leaves anything in it."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    yield folder
    assert list(folder.iterdir()) == []


def run_demo(*args: str) -> str:
    result = CliRunner().invoke(cli, ["demo", *args])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    return result.output


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The output of one full ``reactive-record demo`` run in an empty cwd (shared)."""
    folder = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv(AUTOLOAD_ENV, raising=False)
        yield run_demo()
    assert list(folder.iterdir()) == []


def test_demo_runs_every_core_step_cleanly(output: str) -> None:
    for step in CORE_STEPS:
        assert f"== {step.title} ==" in output
    assert "step failed" not in output
    finished = re.search(r"Demo finished: (\d+) of (\d+) steps ran cleanly", output)
    assert finished is not None
    assert finished.group(1) == finished.group(2)
    assert int(finished.group(2)) >= len(CORE_STEPS)


def test_demo_shows_queries_writes_and_errors(output: str) -> None:
    for expected in (
        ">>> Job.where(user_id=None)",
        ">>> Job.by_client(2)",
        "UnknownField: Job has no field 'colour'",
        "InvalidQuery: Job.by_client() needs parameter(s) client_id",
        "RecordNotFound: no Job with key 999",
        "ValidationError: invalid Job: priority: must be less than or equal to 5",
        "StaleRecord: Job 11 is stale",
        "8 jobs with their clients, assignees and tasks in 4 reads.",
        "RuntimeError: customer cancelled",
        "Job.count()   # unchanged",
        ">>> with rr.transaction():   # two writes, one notification",
        "  (no notification)",
    ):
        assert expected in output


def test_demo_runs_on_sqlite_when_rr_sqlalchemy_opens_it(output: str) -> None:
    if FALLBACK in output:
        assert "sqlalchemy" not in installed()
        assert "pip install rr-sqlalchemy" in output
    else:
        assert re.search(
            r"Database: sqlite:////\S+/reactive-record-demo-\w+/fieldservice.db", output
        )


def test_hook_rr_demo_steps_run_after_the_core_with_their_models(output: str) -> None:
    if "testplugin" not in installed():
        pytest.skip("rr-testplugin is not installed in this environment")
    core_end = output.index(f"== {CORE_STEPS[-1].title} ==")
    step = output.index("== testplugin: decorated jobs ==")
    assert step > core_end
    # The plugin's `models` section switched its feature on for Job: records are decorated.
    assert "Job#1" in output.split("== testplugin: decorated jobs ==")[1]


def test_demo_without_plugins_falls_back_to_memory(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    output = run_demo()
    assert FALLBACK in output
    assert "Plugins: none (rr-core alone)" in output
    assert f"{len(CORE_STEPS)} of {len(CORE_STEPS)} steps ran cleanly" in output


@pytest.mark.usefixtures("cwd")
def test_demo_keep_leaves_the_database_and_says_where() -> None:
    result = CliRunner().invoke(cli, ["demo", "--keep"])
    kept = re.search(r"The demo's database is kept: (\S+)", result.output)
    try:
        assert result.exit_code == 0, result.output
        if kept is None:
            assert "Nothing to keep" in result.output
            return
        database = Path(kept.group(1))
        assert database.is_file()
        assert database.parent.name.startswith("reactive-record-demo-")
    finally:
        if kept is not None:  # kept even when a step failed: remove it whatever happened
            shutil.rmtree(Path(kept.group(1)).parent)


# -- the pieces -----------------------------------------------------------------------


def test_plugin_sections_merge_into_the_demo_models() -> None:
    steps = PluginSteps()
    steps.register("a", lambda demo: None, models={"Job": {"features": {"a": True}, "a": {"x": 1}}})
    steps.register("b", lambda demo: None, models={"Job": {"features": {"b": True}}})
    merged = steps.models()
    assert merged["Job"]["features"] == {"a": True, "b": True}
    assert merged["Job"]["a"] == {"x": 1}
    assert merged["Job"]["fields"] == MODELS["Job"]["fields"]
    assert "features" not in MODELS["Job"]  # the demo's own definition is untouched
    assert [s.title for s in steps.steps] == ["a", "b"]


def test_a_section_for_an_unknown_demo_model_is_refused() -> None:
    from reactive_record import ConfigError

    with pytest.raises(ConfigError, match="Invoice"):
        PluginSteps().register("x", lambda demo: None, models={"Invoice": {}})


def test_a_failing_step_is_reported_and_counted() -> None:
    lines: list[str] = []
    with ReactiveRecord(database="memory://", models=MODELS, plugins=[]) as rr:
        rr.create_tables()
        demo = Demo(rr, {}, lines.append)

        def broken(demo: Demo) -> None:
            raise RuntimeError("boom")

        def fine(demo: Demo) -> None:
            demo.say("still here")

        failed = _run_steps(demo, [Step("broken", broken), Step("fine", fine)], as_system=False)
    assert failed == 1
    text = click.unstyle("\n".join(lines))
    assert "step failed: RuntimeError: boom" in text
    assert "still here" in text


def test_seed_gives_users_with_roles_and_clients() -> None:
    config: dict[str, Any] = {"system_writes": True}
    with ReactiveRecord(database="memory://", models=MODELS, plugins=[], config=config) as rr:
        rr.create_tables()
        from reactive_record import SYSTEM

        with rr.acting_as(SYSTEM):
            users = seed(rr)
        assert {u.role for u in users.values()} == {"admin", "manager", "technician"}
        assert all(u.client_id is not None for u in users.values())
        assert rr.models.Job.count() == 10
        assert (
            rr.models.Task.where(job_id=rr.models.Job.pluck("id")).count() == rr.models.Task.count()
        )


# -- the example app ------------------------------------------------------------------


def example_models() -> dict[str, Any]:
    with (EXAMPLE / "pyproject.toml").open("rb") as handle:
        models: dict[str, Any] = tomllib.load(handle)["tool"]["reactive-record"]["models"]
    return models


def test_the_example_app_has_the_demo_models() -> None:
    models = example_models()
    assert set(models) == set(MODELS)
    for name, table in MODELS.items():
        for key, value in table.items():
            assert models[name][key] == value, f"{name}.{key} differs from the demo"
        extra = set(models[name]) - set(table)
        assert extra <= {"features", "computed", "activity", "permissions", "defaults"}


def test_the_example_app_loads_and_checks_clean(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with (EXAMPLE / "pyproject.toml").open("rb") as handle:
        wanted = set(tomllib.load(handle)["tool"]["reactive-record"]["plugins"])
    missing = wanted - installed()
    if missing:
        pytest.skip(f"the example needs plugins not installed here: {sorted(missing)}")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'fieldservice.db'}"
    with ReactiveRecord.from_pyproject(EXAMPLE, database=url) as rr:
        rr.create_tables()
    result = CliRunner().invoke(cli, ["--project", str(EXAMPLE), "--database", url, "check"])
    assert result.exit_code == 0, result.output


def test_the_example_core_config_runs_the_demo_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    with (EXAMPLE / "pyproject.toml").open("rb") as handle:
        table = tomllib.load(handle)["tool"]["reactive-record"]
    plugin_sections = {"features", "activity", "permissions", "defaults"}
    models = {
        name: {k: v for k, v in model.items() if k not in plugin_sections}
        for name, model in table["models"].items()
    }
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = {"models": models, "system_writes": True}
    with ReactiveRecord(database="memory://", config=config, plugins=[], root=EXAMPLE) as rr:
        rr.create_tables()
        from reactive_record import SYSTEM

        with rr.acting_as(SYSTEM):
            seed(rr)
        job = rr.models.Job.urgent().first()
        assert job is not None
        assert job.label == f"#{job.id} Fix leaking roof drain (active)"
