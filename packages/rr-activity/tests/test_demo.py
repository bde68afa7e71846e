"""The demo shows an update and its history (``reactive-record demo``)."""

from __future__ import annotations

from click.testing import CliRunner
from reactive_record.cli import cli

TITLE = "== Activity log: an update and its history =="


def test_hook_rr_demo_steps_shows_an_update_and_its_history() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    lines = result.output.splitlines()
    start = lines.index(TITLE)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("== ")), len(lines))
    step = "\n".join(lines[start:end])
    assert "step failed" not in step, step
    assert "Job.with_activity_logs(limit=5).find(" in step
    assert "update" in step and "status: 'pending' -> 'active'" in step
    assert "logged nothing" in step
