"""``reactive-record permissions explain`` and ``check`` on a project on disk (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("rr_permissions")
pytest.importorskip("rr_sqlalchemy")

from reactive_record import SYSTEM, ReactiveRecord
from reactive_record.cli import cli

PYPROJECT = """
[tool.reactive-record]
database = "sqlite:///{db}"
plugins = ["sqlalchemy", "permissions"]
system_writes = true

[tool.reactive-record.models.User]
fields = {{ name = "string", role = "string", client_id = "integer" }}

[tool.reactive-record.models.Job]
tenant_field = "client_id"
fields = {{ title = "string", client_id = "integer", user_id = "integer" }}
features = {{ permissions = true }}

[tool.reactive-record.models.Job.permissions]
actions = ["read", "create", "update", "destroy", "assign"]
read = {{ type = "client_member" }}
update.all = [
    {{ type = "client_member" }},
    {{ type = "role_based", roles = ["admin", "manager"] }},
]
destroy = false
create = false
{extra}
"""


def project(tmp_path: Path, extra: str = "", *, seeded: bool = True) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT.format(db=tmp_path / "app.db", extra=extra))
    if not seeded:
        return path
    with ReactiveRecord.from_pyproject(path) as rr:
        rr.create_tables()
        with rr.acting_as(SYSTEM):
            rr.models.User.create({"name": "tom", "role": "technician", "client_id": 1})
            rr.models.User.create({"name": "raj", "role": "technician", "client_id": 2})
            rr.models.Job.create({"title": "fix", "client_id": 1, "user_id": 1})
    return path


def run(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--project", str(path), *args])
    return result.exit_code, result.output


def explain(path: Path, key: str, user: str, action: str = "read") -> tuple[int, str]:
    return run(path, "permissions", "explain", "Job", key, "--user", user, "--action", action)


def test_hook_rr_register_commands_explain_prints_which_rule_denied(tmp_path: Path) -> None:
    path = project(tmp_path, 'assign = { type = "owner" }')
    code, output = explain(path, "1", "1", "update")
    assert code == 0, output
    lines = output.splitlines()
    assert json.loads(lines[0].removeprefix("user: "))["role"] == "technician"
    assert lines[1] == "[deny ] update Job 1: denied"
    assert "  [allow] read rule" in lines
    assert "      [deny ] requires role admin or manager" in lines
    code, output = explain(path, "1", "2")
    assert "[deny ] read Job 1: denied" in output
    assert "requires client_id to equal the user's client_id" in output
    code, output = explain(path, "1", "1", "assign")
    assert "[allow] assign Job 1: allowed" in output


def test_explain_takes_a_json_user_and_reports_mistakes(tmp_path: Path) -> None:
    path = project(tmp_path, 'assign = { type = "owner" }')
    user = json.dumps({"id": 9, "role": "admin", "client_id": 1})
    code, output = explain(path, "1", user, "update")
    assert code == 0 and "[allow] update Job 1: allowed" in output
    code, output = explain(path, "7", "1")
    assert code == 2 and "no Job with key" in output
    code, output = explain(path, "1", "99")
    assert code == 2 and "no User '99'" in output
    code, output = explain(path, "1", "1", "fly")
    assert code == 2 and "no action 'fly'" in output


def test_hook_rr_checks_reports_actions_without_rules(tmp_path: Path) -> None:
    path = project(tmp_path)
    code, output = run(path, "check")
    assert code == 1
    assert "action 'assign' has no rule and no policy method" in output


def test_check_reports_rules_naming_unknown_fields_and_broken_references(tmp_path: Path) -> None:
    path = project(tmp_path, 'assign = { colour = "red" }', seeded=False)
    code, output = run(path, "check")
    assert code == 1 and "Job has no field 'colour'" in output
    assert "tool.reactive-record.models.Job.permissions.assign" in output
    broken = '{ type = "custom", function = "nowhere:f" }'
    path.write_text(path.read_text().replace('{ colour = "red" }', broken))
    code, output = run(path, "check")
    assert code == 1 and "permissions.assign.function" in output and "importable module" in output
