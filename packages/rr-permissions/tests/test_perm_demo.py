"""The demo's permissions step: two users of different tenants see different jobs; refusals."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_hook_rr_demo_steps_adds_a_permissions_step(tmp_path: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "reactive_record", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Demo finished" in shown.stdout, shown.stdout + shown.stderr
    # Other installed plugins add steps too; this one is judged on its own section.
    step = shown.stdout.split("== Permissions:", 1)[1]
    step = re.split(r"\n== |\nDemo finished", step, maxsplit=1)[0]
    assert "step failed" not in step
    assert "PermissionDenied: not allowed to read Job: no acting user" in step
    maria, raj = step.split('jobs.with_permissions(raj, "read").all()')
    assert tenants(maria) == {"1"}
    assert tenants(raj.split("tom,")[0]) == {"2"}
    assert "may not write priority (may write: description, status)" in step
    assert "(checked against the record as it would be written)" in step
    assert "RecordNotFound: no Job with key" in step


def tenants(table: str) -> set[str]:
    """The client_id column (the last) of every job row printed in ``table``."""
    return {m.group(1) for m in re.finditer(r"^\d+ .* (\d+)$", table, re.MULTILINE)}
