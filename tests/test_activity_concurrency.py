"""Concurrent writers: every committed change has exactly one entry, and chains verify.

Eight threads update one shared record and one record each; on PostgreSQL four
processes do the same through their own connections. The engine reads each record
``FOR UPDATE`` before writing it, so a record's chain grows one entry at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reactive_record import ReactiveRecord

rr_activity = pytest.importorskip("rr_activity")

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {"title": {"type": "string", "length": 50}, "counter": "integer"},
        "features": {"activity": True},
        "activity": {"chain": True},
    }
}
THREADS = 8
PROCESSES = 4
ROUNDS = 6
KEY = "concurrency-test-key-0123456789"
WORKER = Path(__file__).with_name("activity_worker.py")

Make = Callable[..., ReactiveRecord]


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain key, from the environment (the worker processes inherit it)."""
    monkeypatch.setenv("RR_ACTIVITY_KEY", KEY)


def seeded(make_rr: Make, url: str, records: int) -> ReactiveRecord:
    """``records`` jobs, keys 1..records; job 1 is the one every writer shares."""
    plugins = ["activity"] + ([] if url.startswith("memory") else ["sqlalchemy"])
    rr = make_rr(url, MODELS, plugins)
    for n in range(records):
        rr.models.Job.create({"title": f"Job {n + 1}", "counter": -1}, user={"id": "seed"})
    return rr


def assert_one_entry_per_change(rr: ReactiveRecord, committed: Counter[int]) -> None:
    """Entries per record equal committed updates; each record ends as its newest entry says."""
    entries = rr.models.ActivityLog.unscoped().where(action="update").all()
    assert Counter(int(e.entity_id) for e in entries) == committed
    for key in committed:
        newest = rr_activity.history(rr, "Job", key, limit=1, unscoped=True)[0]
        assert newest.field_changes[0]["new_value"] == rr.models.Job.find(key).data.counter
        assert [
            e.sequence for e in reversed(rr_activity.history(rr, "Job", key, unscoped=True))
        ] == list(range(1, committed[key] + 2))
    report = rr_activity.verify(rr)
    assert report.ok, [p.message for p in report.problems]
    assert report.chains == rr.models.Job.count()


def test_threads_updating_shared_and_own_records(make_rr: Make, db_url: str) -> None:
    rr = seeded(make_rr, db_url, THREADS + 1)
    committed: Counter[int] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        user = {"id": f"thread-{worker}"}
        start.wait()
        try:
            for round_ in range(ROUNDS):
                for key in (1, worker + 2):
                    rr.models.Job.update(key, {"counter": worker * 1000 + round_}, user=user)
                    with lock:
                        committed[key] += 1
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert committed[1] == THREADS * ROUNDS
    assert_one_entry_per_change(rr, committed)


def test_a_writer_that_read_before_waiting_still_appends_to_the_tail(
    make_rr: Make, db_url: str
) -> None:
    # Under MariaDB's REPEATABLE READ, a transaction that read before it waited for the
    # row lock keeps its old snapshot; the chain's head is read with a lock, so it sees
    # the other writer's entry anyway.
    rr = seeded(make_rr, db_url, 2)
    holding = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with rr.transaction():
                rr.models.Job.update(1, {"counter": 1}, user={"id": "first"})
                holding.set()
                time.sleep(0.5)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait()
    with rr.transaction():
        rr.models.Job.where(id=2).all()  # this transaction's snapshot starts here
        rr.models.Job.update(1, {"counter": 2}, user={"id": "second"})
    thread.join()
    assert errors == []
    assert_one_entry_per_change(rr, Counter({1: 2}))


def test_processes_updating_shared_and_own_records(make_rr: Make, sql_db_url: str) -> None:
    if not sql_db_url.startswith("postgresql"):
        pytest.skip("the multi-process test runs on PostgreSQL")
    rr = seeded(make_rr, sql_db_url, PROCESSES + 1)
    models = json.dumps(MODELS)
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), sql_db_url, models, str(n), str(ROUNDS), "1", str(n + 2)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    committed: Counter[int] = Counter()
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        committed.update({int(k): v for k, v in json.loads(out).items()})
    assert committed[1] == PROCESSES * ROUNDS
    assert_one_entry_per_change(rr, committed)
