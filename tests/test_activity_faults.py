"""Fault injection: a failed write leaves no entry, a failed entry leaves no write.

Three places a logged write can fail, each leaving rows and logs exactly as before:
after the row and its entry were written but before commit (the application raises
inside ``rr.transaction()``; another plugin's ``rr_on_write`` raises on a later row of a
bulk write), and inside the database while the entry is inserted (a trigger refuses it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import ReactiveRecord, StoreError

rr_activity = pytest.importorskip("rr_activity")

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20},
        },
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
        "features": {"activity": True},
        "activity": {"chain": True},
    },
    "Task": {
        "fields": {"job_id": "integer", "title": {"type": "string", "length": 50}},
        "features": {"activity": True},
    },
}

ALICE = {"id": 7}
KEY = "fault-injection-test-key-0123456789"

Make = Callable[..., ReactiveRecord]


def build(make_rr: Make, url: str, *extra: str) -> ReactiveRecord:
    """Two jobs with two tasks each, every write logged."""
    plugins = ["activity", *extra] + ([] if url.startswith("memory") else ["sqlalchemy"])
    rr = make_rr(url, MODELS, plugins)
    with rr.transaction():
        for title in ("Fix", "Paint"):
            job = rr.models.Job.create({"title": title, "status": "open"}, user=ALICE)
            for n in range(2):
                rr.models.Task.create({"job_id": job.id, "title": f"{title} {n}"}, user=ALICE)
    return rr


def snapshot(rr: ReactiveRecord) -> dict[str, list[dict[str, Any]]]:
    """Every row of every model, the log included, in key order."""
    return {name: [dict(r) for r in rr.models[name].unscoped().all()] for name in rr.models}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain key, from the environment as in production."""
    monkeypatch.setenv("RR_ACTIVITY_KEY", KEY)


class Boom(RuntimeError):
    """The application's own failure."""


WRITES: dict[str, Callable[[ReactiveRecord], Any]] = {
    "update": lambda rr: rr.models.Job.update(1, {"status": "done"}, user=ALICE),
    "create": lambda rr: rr.models.Job.create({"title": "New"}, user=ALICE),
    "destroy with cascade": lambda rr: rr.models.Job.destroy(1, user=ALICE),
    "update_all": lambda rr: rr.models.Job.update_all({"status": "x"}, user=ALICE),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_an_exception_after_the_write_and_before_commit(
    make_rr: Make, db_url: str, write: Callable[[ReactiveRecord], Any]
) -> None:
    rr = build(make_rr, db_url)
    before = snapshot(rr)
    with pytest.raises(Boom), rr.transaction():
        write(rr)
        assert len(rr.models.ActivityLog.unscoped().all()) > len(before["ActivityLog"])
        raise Boom
    assert snapshot(rr) == before
    assert rr_activity.verify(rr).ok


def test_a_later_plugin_failure_in_the_same_transaction(make_rr: Make, db_url: str) -> None:
    testplugin = pytest.importorskip("rr_testplugin")
    rr = build(make_rr, db_url, "testplugin")
    before = snapshot(rr)
    # The first job's row and entry are written; the second job's rr_on_write fails.
    testplugin.state_of(rr).reconfigure(fail_in="rr_on_write", fail_model="Job", fail_after=1)
    with pytest.raises(testplugin.InjectedError):
        rr.models.Job.update_all({"status": "done"}, user=ALICE)
    assert snapshot(rr) == before


def refuse_entries(url: str) -> None:
    """Make the database itself refuse every new activity log row (a trigger)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    kind = engine.dialect.name
    statements = {
        "sqlite": [
            "CREATE TRIGGER refuse_entries BEFORE INSERT ON activity_logs "
            "BEGIN SELECT RAISE(ABORT, 'entries refused'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION refuse_entries() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'entries refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_entries BEFORE INSERT ON activity_logs "
            "FOR EACH ROW EXECUTE FUNCTION refuse_entries()",
        ],
        "mariadb": [
            "CREATE TRIGGER refuse_entries BEFORE INSERT ON activity_logs FOR EACH ROW "
            "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'entries refused'"
        ],
    }[kind]
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_failure_while_writing_the_entry(
    make_rr: Make, sql_db_url: str, write: Callable[[ReactiveRecord], Any]
) -> None:
    rr = build(make_rr, sql_db_url)
    before = snapshot(rr)
    refuse_entries(sql_db_url)
    with pytest.raises(StoreError):
        write(rr)
    assert snapshot(rr) == before
