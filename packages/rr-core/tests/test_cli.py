"""The ``reactive-record`` command: plugin discovery, ``plugins``, ``check``, errors, pass_rr."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from reactive_record import ReactiveRecord
from reactive_record.cli import cli, pass_rr
from reactive_record.plugins import AUTOLOAD_ENV

BUILTINS = {"core.memory", "core.validation", "core.system"}

PROJECT = """
[project]
name = "tiny-app"
version = "0"

[tool.reactive-record]
database = "memory://"
plugins = []

[tool.reactive-record.models.Job]
fields = { title = { type = "string", null = false }, status = "string" }
"""


def installed() -> dict[str, str]:
    """Entry-point plugins installed in this environment: name -> distribution."""
    return {ep.name: ep.dist.name for ep in entry_points(group="reactive_record") if ep.dist}


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose cwd is an empty folder (no pyproject.toml at or above it)."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    monkeypatch.delenv("RR_DATABASE_URL", raising=False)
    # `check` imports references with the project root on sys.path: undo it after each test.
    monkeypatch.setattr(sys, "path", list(sys.path))
    return CliRunner()


def write_project(folder: Path, text: str = PROJECT) -> Path:
    """A pyproject.toml with ``text`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(text)
    return path


# -- the root command ---------------------------------------------------------------


def test_help_works_without_a_project_or_database(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for name in ("plugins", "check", "demo"):
        assert name in result.output


def test_python_dash_m_runs_the_same_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reactive_record", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: reactive-record ")
    assert "demo" in done.stdout


def test_hook_rr_register_commands_adds_plugin_commands(runner: CliRunner) -> None:
    if "testplugin" not in installed():
        pytest.skip("rr-testplugin is not installed in this environment")
    assert "tp-models" in runner.invoke(cli, ["--help"]).output


def test_autoload_off_leaves_only_builtin_commands(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "tp-models" not in result.output
    result = runner.invoke(cli, ["tp-models"])
    assert result.exit_code == 2
    assert "No such command 'tp-models'" in result.output


def test_a_plugin_command_gets_the_configured_instance(runner: CliRunner, tmp_path: Path) -> None:
    if "testplugin" not in installed():
        pytest.skip("rr-testplugin is not installed in this environment")
    project = write_project(tmp_path / "app")
    result = runner.invoke(cli, ["--project", str(project.parent), "tp-models"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["memory://", "Job"]
    result = runner.invoke(
        cli, ["--project", str(project), "--database", "memory://other", "tp-models"]
    )
    assert result.output.split()[0] == "memory://other"


# -- pass_rr and errors -------------------------------------------------------------


@click.command("describe-models")
@pass_rr
def describe_models(rr: ReactiveRecord) -> None:
    """A command as a plugin author writes one."""
    click.echo(f"{rr.url} {' '.join(rr.models)}")


@pytest.fixture
def with_command() -> Iterator[click.Command]:
    """``describe-models`` added to the root group for one test."""
    cli.add_command(describe_models)
    yield describe_models
    cli.commands.pop("describe-models")


@pytest.mark.usefixtures("with_command")
def test_pass_rr_finds_the_nearest_pyproject_upward(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path / "app")
    nested = tmp_path / "app" / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    result = runner.invoke(cli, ["describe-models"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "memory:// Job"


@pytest.mark.usefixtures("with_command")
def test_no_pyproject_is_a_clean_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["describe-models"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: pyproject.toml:")


@pytest.mark.usefixtures("with_command")
def test_a_bad_config_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    project = write_project(tmp_path / "app", PROJECT + 'colour = "red"\n')
    result = runner.invoke(cli, ["--project", str(project), "describe-models"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "tool.reactive-record.models.Job.colour" in result.output
    assert "unknown key" in result.output


@pytest.mark.usefixtures("with_command")
def test_malformed_toml_is_a_clean_error(runner: CliRunner, tmp_path: Path) -> None:
    project = write_project(tmp_path / "app", "[tool.reactive-record\n")
    result = runner.invoke(cli, ["--project", str(project), "describe-models"])
    assert result.exit_code == 2
    assert "malformed TOML" in result.output
    assert "Traceback" not in result.output


def test_a_missing_project_path_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--project", str(tmp_path / "nowhere"), "check"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


# -- plugins ------------------------------------------------------------------------


def test_plugins_lists_builtins_and_installed_plugins(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.output)["plugins"]}
    assert set(listed) >= BUILTINS
    assert listed["core.validation"]["distribution"] == "rr-core"
    assert listed["core.validation"]["hooks"] == [
        "rr_configure",
        "rr_fill_change",
        "rr_validate_change",
    ]
    for name, distribution in installed().items():
        assert listed[name]["distribution"] == distribution
        assert listed[name]["version"]
    if "testplugin" in listed:
        hooks = listed["testplugin"]["hooks"]
        assert {"rr_checks", "rr_register_commands", "rr_demo_steps"} <= set(hooks)


def test_plugins_json_gives_each_hooks_call_order(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(cli, ["plugins", "--json"]).output)
    order = data["call_order"]
    assert "core.memory" in order["rr_open_store"]
    for plugin in data["plugins"]:
        for hook in plugin["hooks"]:
            assert plugin["name"] in order[hook]


def test_plugins_table_is_readable(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["plugins"])
    assert result.exit_code == 0
    header = result.output.splitlines()[0].split()
    assert header == ["name", "distribution", "version", "hooks"]
    assert "core.validation  rr-core" in result.output
    assert "rr_configure, rr_fill_change, rr_validate_change" in result.output


def test_plugins_with_autoload_off_lists_only_builtins(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    data = json.loads(runner.invoke(cli, ["plugins", "--json"]).output)
    assert {p["name"] for p in data["plugins"]} == BUILTINS


# -- check --------------------------------------------------------------------------


def test_check_passes_a_sound_project(runner: CliRunner, tmp_path: Path) -> None:
    project = write_project(tmp_path / "app")
    result = runner.invoke(cli, ["--project", str(project), "check"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_check_imports_references_from_the_project_root(runner: CliRunner, tmp_path: Path) -> None:
    package = f"checkapp_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / "app"
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (root / package / "computed.py").write_text("def label(job):\n    return job.title\n")
    text = PROJECT + f'computed = {{ label = "{package}.computed:label" }}\n'
    write_project(root, text)
    result = runner.invoke(cli, ["--project", str(root), "check"])
    assert result.exit_code == 0, result.output


def test_check_reports_every_broken_reference(runner: CliRunner, tmp_path: Path) -> None:
    text = PROJECT + (
        'computed = { a = "no_such_module_anywhere:f", b = "json:no_such_function" }\n'
    )
    project = write_project(tmp_path / "app", text)
    result = runner.invoke(cli, ["--project", str(project), "check"])
    assert result.exit_code == 1
    assert "tool.reactive-record.models.Job.computed.a" in result.output
    assert "tool.reactive-record.models.Job.computed.b" in result.output
    assert "2 problem(s)" in result.output


def test_check_reports_a_config_that_does_not_load(runner: CliRunner, tmp_path: Path) -> None:
    project = write_project(tmp_path / "app", PROJECT + "features = { nosuchfeature = true }\n")
    result = runner.invoke(cli, ["--project", str(project), "check"])
    assert result.exit_code == 1
    assert "rr-nosuchfeature" in result.output
    assert "Traceback" not in result.output


def test_hook_rr_checks_problems_make_check_fail(runner: CliRunner, tmp_path: Path) -> None:
    if "testplugin" not in installed():
        pytest.skip("rr-testplugin is not installed in this environment")
    text = PROJECT.replace("plugins = []", 'plugins = ["testplugin"]')
    text = text.replace(
        "[tool.reactive-record.models.Job]",
        'testplugin = { problems = ["Job.status has no index", "clock skew"] }\n\n'
        "[tool.reactive-record.models.Job]",
    )
    project = write_project(tmp_path / "app", text)
    result = runner.invoke(cli, ["--project", str(project), "check"])
    assert result.exit_code == 1
    assert "- Job.status has no index" in result.output
    assert "- clock skew" in result.output


def test_check_without_a_pyproject_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "no pyproject.toml" in result.output


def test_check_on_a_folder_without_a_pyproject_is_an_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["--project", str(tmp_path), "check"])
    assert result.exit_code == 2
    assert "no pyproject.toml at" in result.output
