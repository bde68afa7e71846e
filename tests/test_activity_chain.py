"""Tamper evidence: HMAC chains per record, and ``verify`` naming what was changed.

The tampering is done the way an attacker with database access would: plain SQL on the
``activity_logs`` table, without the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from reactive_record import ConfigError, ReactiveRecord, Record
from reactive_record.cli import cli

rr_activity = pytest.importorskip("rr_activity")

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "priority": "integer",
        },
        "features": {"activity": True},
        "activity": {"chain": True},
    },
    "Task": {
        "fields": {"title": {"type": "string", "length": 100}},
        "features": {"activity": True},
    },
}
TOML = """
[tool.reactive-record]
plugins = ["sqlalchemy", "activity"]

[tool.reactive-record.models.Job]
features = { activity = true }
fields = { title = { type = "string", length = 100, null = false }, priority = "integer" }
activity = { chain = true }

[tool.reactive-record.models.Task]
features = { activity = true }
fields = { title = { type = "string", length = 100 } }
"""

ALICE = {"id": 7}
KEY = "chain-test-key-0123456789abcdef"

Make = Callable[..., ReactiveRecord]
RunSql = Callable[..., None]


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain key, from the environment."""
    monkeypatch.setenv("RR_ACTIVITY_KEY", KEY)


def build(make_rr: Make, url: str) -> ReactiveRecord:
    """Two jobs with four entries each (create and three updates), and an unchained task."""
    plugins = ["activity"] + ([] if url.startswith("memory") else ["sqlalchemy"])
    rr = make_rr(url, MODELS, plugins)
    for title in ("Fix", "Paint"):
        job = rr.models.Job.create({"title": title, "priority": 1}, user=ALICE)
        for priority in (2, 3, 4):
            rr.models.Job.update(job.id, {"priority": priority}, user=ALICE)
    rr.models.Task.create({"title": "unchained"}, user=ALICE)
    return rr


def chain(rr: ReactiveRecord, key: int = 1) -> tuple[Record, ...]:
    """Job ``key``'s entries in chain order."""
    query = rr.models.ActivityLog.unscoped().where(entity_type="Job", entity_id=str(key))
    return query.order("sequence").all()


def test_numbers_a_database_rewrites_still_verify(make_rr: Make, db_url: str) -> None:
    # PostgreSQL's JSONB keeps numbers as numeric: 1e16 comes back as an integer and -0.0
    # as 0.0. The entries are untouched, so the chains must verify.
    models = {"Job": {**MODELS["Job"], "fields": {**MODELS["Job"]["fields"], "rate": "float"}}}
    plugins = ["activity"] + ([] if db_url.startswith("memory") else ["sqlalchemy"])
    rr = make_rr(db_url, models, plugins)
    job = rr.models.Job.create({"title": "Fix", "rate": 1.5}, user=ALICE)
    for rate in (1e16, 1e300, -0.0, 2.5e-7, 3.0):
        rr.models.Job.update(job.id, {"rate": rate}, user=ALICE)
    with rr_activity.context(ratio=-0.0, big=1e20, nested={"x": [1.0, 0.25]}):
        rr.models.Job.update(job.id, {"title": "Paint"}, user=ALICE)
    report = rr_activity.verify(rr)
    assert report.ok, [str(problem) for problem in report.problems]
    assert report.entries == 7


def test_each_record_has_its_own_linked_chain(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url)
    for key in (1, 2):
        entries = chain(rr, key)
        assert [e.sequence for e in entries] == [1, 2, 3, 4]
        assert entries[0].prev_hash is None
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert all(len(e.hash) == 64 for e in entries)
    task = rr.models.ActivityLog.unscoped().where(entity_type="Task").one()
    assert (task.sequence, task.hash) == (None, None)
    report = rr_activity.verify(rr)
    assert report.ok and (report.entries, report.chains) == (8, 2)
    assert report.heads[("Job", "1")] == chain(rr, 1)[-1].hash


def test_the_hash_is_keyed(make_rr: Make, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rr = build(make_rr, db_url)
    monkeypatch.setenv("RR_ACTIVITY_KEY", "another-key-of-sufficient-length")
    report = rr_activity.verify(rr)
    assert [(p.kind, p.sequence) for p in report.problems] == [("edited", 1), ("edited", 1)]
    monkeypatch.delenv("RR_ACTIVITY_KEY")
    with pytest.raises(ConfigError, match="RR_ACTIVITY_KEY"):
        rr_activity.verify(rr)


def test_chain_true_needs_the_key_at_start_up(
    make_rr: Make, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RR_ACTIVITY_KEY", "short")
    with pytest.raises(ConfigError) as caught:
        make_rr(
            db_url, MODELS, ["activity"] + ([] if db_url.startswith("memory") else ["sqlalchemy"])
        )
    assert caught.value.path.endswith("models.Job.activity.chain")


WHERE = "entity_type = 'Job' AND entity_id = '1'"


def only_problem(rr: ReactiveRecord) -> Any:
    """The one problem verify finds (in Job 1's chain)."""
    report = rr_activity.verify(rr)
    assert len(report.problems) == 1 and report.chains == 2
    problem = report.problems[0]
    assert (problem.entity_type, problem.entity_id) == ("Job", "1")
    return problem


def test_verify_names_an_edited_entry(make_rr: Make, sql_db_url: str, run_sql: RunSql) -> None:
    rr = build(make_rr, sql_db_url)
    second = chain(rr)[1]
    run_sql(sql_db_url, f"UPDATE activity_logs SET user_id = '8' WHERE {WHERE} AND sequence = 2")
    problem = only_problem(rr)
    assert (problem.kind, problem.sequence, str(problem.entry_id)) == ("edited", 2, str(second.id))
    assert f"entry {second.id} (#2) was edited" in problem.message


def test_verify_names_the_entry_after_a_deleted_one(
    make_rr: Make, sql_db_url: str, run_sql: RunSql
) -> None:
    rr = build(make_rr, sql_db_url)
    third = chain(rr)[2]
    run_sql(sql_db_url, f"DELETE FROM activity_logs WHERE {WHERE} AND sequence = 2")
    problem = only_problem(rr)
    assert (problem.kind, str(problem.entry_id)) == ("deleted", str(third.id))
    assert "follows a deleted entry" in problem.message


def test_verify_names_a_reordered_entry(make_rr: Make, sql_db_url: str, run_sql: RunSql) -> None:
    rr = build(make_rr, sql_db_url)
    third = chain(rr)[2]
    run_sql(
        sql_db_url,
        f"UPDATE activity_logs SET sequence = 99 WHERE {WHERE} AND sequence = 2",
        f"UPDATE activity_logs SET sequence = 2 WHERE {WHERE} AND sequence = 3",
        f"UPDATE activity_logs SET sequence = 3 WHERE {WHERE} AND sequence = 99",
    )
    problem = only_problem(rr)
    assert (problem.kind, str(problem.entry_id)) == ("reordered", str(third.id))


def test_verify_names_the_last_entry_kept_when_the_newest_are_deleted(
    make_rr: Make, sql_db_url: str, run_sql: RunSql
) -> None:
    rr = build(make_rr, sql_db_url)
    second = chain(rr)[1]
    run_sql(sql_db_url, f"DELETE FROM activity_logs WHERE {WHERE} AND sequence > 2")
    problem = only_problem(rr)
    assert (problem.kind, str(problem.entry_id)) == ("deleted", str(second.id))
    assert "was the newest when entries after it were deleted" in problem.message
    run_sql(sql_db_url, f"DELETE FROM activity_logs WHERE {WHERE}")
    report = rr_activity.verify(rr)
    assert [p.message for p in report.problems] == [
        "Job 1: every entry of its chain (#1 to #4) was deleted"
    ]


def test_a_head_rolled_back_by_hand_is_caught(
    make_rr: Make, sql_db_url: str, run_sql: RunSql
) -> None:
    rr = build(make_rr, sql_db_url)
    second = chain(rr)[1]
    run_sql(
        sql_db_url,
        f"DELETE FROM activity_logs WHERE {WHERE} AND sequence > 2",
        f"UPDATE activity_chains SET sequence = 2, hash = '{second.hash}' WHERE id = 'Job:1'",
    )
    assert only_problem(rr).kind == "edited"


def test_a_forged_hash_without_the_key_is_caught(
    make_rr: Make, sql_db_url: str, run_sql: RunSql
) -> None:
    rr = build(make_rr, sql_db_url)
    forged = hashlib.sha256(b"no key").hexdigest()
    run_sql(
        sql_db_url, f"UPDATE activity_logs SET hash = '{forged}' WHERE {WHERE} AND sequence = 4"
    )
    assert only_problem(rr).kind == "edited"


def run_cli(tmp_path: Path, url: str, *args: str) -> Any:
    """``reactive-record --project tmp --database url ...``."""
    (tmp_path / "pyproject.toml").write_text(TOML, encoding="utf-8")
    return CliRunner().invoke(cli, ["--project", str(tmp_path), "--database", url, *args])


def test_cli_verify_and_log(
    make_rr: Make, sql_db_url: str, tmp_path: Path, run_sql: RunSql
) -> None:
    rr = build(make_rr, sql_db_url)
    result = run_cli(tmp_path, sql_db_url, "activity", "verify")
    assert result.exit_code == 0, result.output
    assert "Verifying chains" in result.output
    assert "8 entries in 2 chains: every chain verified" in result.stdout
    second = chain(rr)[1]
    run_sql(
        sql_db_url, f"UPDATE activity_logs SET action = 'destroy' WHERE {WHERE} AND sequence = 2"
    )
    result = run_cli(tmp_path, sql_db_url, "activity", "verify", "--model", "Job")
    assert result.exit_code == 1
    assert f"Job 1: entry {second.id} (#2) was edited" in result.stdout
    assert "1 broken" in result.stdout
    result = run_cli(tmp_path, sql_db_url, "activity", "log", "Job", "2", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "Job 2: 2 entries, newest first" in result.stdout
    assert "update by 7" in result.stdout and "priority: 3 -> 4" in result.stdout
    result = run_cli(tmp_path, sql_db_url, "activity", "log", "Nope", "1")
    assert result.exit_code == 2 and "Nope" in result.output
    result = run_cli(tmp_path, sql_db_url, "activity", "verify", "--model", "Nope")
    assert result.exit_code == 2 and "'Nope' is not valid" in result.output
