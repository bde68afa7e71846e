"""``reactive-record watch``: another process prints a live query's changes as they happen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from reactive_record import ReactiveRecord
from reactive_record.cli import cli

pytest.importorskip("rr_sqlalchemy")

PROJECT = """
[tool.reactive-record]
database = "sqlite:///{path}"
plugins = ["sqlalchemy"]

[tool.reactive-record.models.Job]
fields = {{ title = "string", status = "string" }}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PROJECT.format(path=tmp_path / "app.db"))
    with ReactiveRecord.from_pyproject(tmp_path) as rr:
        rr.create_tables()
        rr.models.Job.create({"title": "first", "status": "active"})
    return tmp_path


def test_watch_prints_the_result_then_each_change(project: Path) -> None:
    command = [sys.executable, "-m", "reactive_record", "--project", str(project), "watch"]
    command += ["Job", "--where", '{"status": "active"}', "--order", "title", "--changes", "2"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as watcher:
        assert watcher.stdout is not None
        assert watcher.stdout.readline() == '= {"id": 1, "title": "first", "status": "active"}\n'
        with ReactiveRecord.from_pyproject(project) as rr:
            rr.models.Job.create({"title": "second", "status": "active"})
            assert watcher.stdout.readline().startswith('+ {"id": 2, "title": "second"')
            rr.models.Job.update(1, {"status": "done"})
            assert watcher.stdout.readline().startswith('- {"id": 1, "title": "first"')
        assert watcher.wait(timeout=30) == 0


def test_watch_names_a_bad_model_or_condition(project: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--project", str(project), "watch", "Nope"])
    assert result.exit_code == 2 and "Nope" in result.output
    result = runner.invoke(cli, ["--project", str(project), "watch", "Job", "--where", "{"])
    assert result.exit_code == 2 and "--where is not JSON" in result.output
    result = runner.invoke(cli, ["--project", str(project), "watch", "Job", "--where", '{"x": 1}'])
    assert result.exit_code == 2 and "Job has no field 'x'" in result.output
