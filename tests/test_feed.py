"""Other processes' commits: PostgreSQL's change feed across OS processes, SQLite's
data_version. Waiting here is for another process's output, never for a clock."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reactive_record import ReactiveRecord
from reactive_record.snapshots import Snapshot

pytest.importorskip("rr_sqlalchemy")
psycopg = pytest.importorskip("psycopg")

WORKER = Path(__file__).with_name("live_feed_worker.py")
MODELS: dict[str, Any] = {
    "Job": {"table": "feed_jobs", "fields": {"title": "string", "status": "string"}}
}
TIMEOUT = 20.0

postgresql = pytest.mark.parametrize("sql_db_url", ["postgresql"], indirect=True)


class Collected:
    """This process's snapshots (delivered by its feed thread for others' writes)."""

    def __init__(self) -> None:
        self.seen: list[Snapshot] = []
        self._cond = threading.Condition()

    def __call__(self, snapshot: Snapshot) -> None:
        with self._cond:
            self.seen.append(snapshot)
            self._cond.notify_all()

    def until(self, done: Callable[[Snapshot], bool]) -> None:
        """Wait until a snapshot satisfies ``done``."""
        with self._cond:
            if not self._cond.wait_for(lambda: any(done(s) for s in self.seen), TIMEOUT):
                raise AssertionError(f"this process stopped at {self.seen[-1:]}")


class Worker:
    """The other OS process: its snapshots arrive as JSON lines."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), url, json.dumps(MODELS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def until(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Collect snapshots until one satisfies ``done``."""
        while True:
            try:
                snapshot = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"the other process stopped at {self.seen[-1:]}") from None
            self.seen.append(snapshot)
            if done(snapshot):
                return snapshot

    def added(self, title: str) -> int:
        """How many snapshots brought ``title`` in."""
        return sum(title in snapshot["added"] for snapshot in self.seen)

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=TIMEOUT)
        self.reader.join(timeout=TIMEOUT)
        self.process.stdout.close()


@pytest.fixture
def here(sql_db_url: str, make_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    return make_rr(sql_db_url, MODELS, plugins=["sqlalchemy"])


@pytest.fixture
def other(here: ReactiveRecord, sql_db_url: str) -> Iterator[Worker]:
    worker = Worker(sql_db_url)
    worker.until(lambda s: s["data"] == [])
    yield worker
    worker.stop()


@pytest.fixture
def raw(sql_db_url: str, here: ReactiveRecord) -> Iterator[Any]:
    """A plain psycopg connection: writes made outside ReactiveRecord."""
    url = here.store.engine.url.set(drivername="postgresql")  # type: ignore[attr-defined]
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        yield conn


@postgresql
def test_writes_from_another_process_and_from_psql_arrive_exactly_once(
    here: ReactiveRecord, other: Worker, raw: Any, sql_db_url: str
) -> None:
    Job = here.models.Job
    mine = Collected()
    Job.where(status="x").order("id").subscribe(mine)

    Job.create({"title": "from rr", "status": "x"})
    other.until(lambda s: "from rr" in s["added"])

    raw.execute("INSERT INTO feed_jobs (title, status) VALUES ('raw 1', 'x'), ('raw 2', 'x')")
    bulk = other.until(lambda s: "raw 1" in s["added"])
    assert sorted(bulk["added"]) == ["raw 1", "raw 2"]  # one statement, one snapshot

    psql = url_for_psql(here)
    subprocess.run(
        ["psql", psql, "-c", "UPDATE feed_jobs SET title = 'by psql' WHERE title = 'raw 1'"],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    other.until(lambda s: ["raw 1", "by psql"] in s["changed"])
    raw.execute("UPDATE feed_jobs SET status = 'y' WHERE title = 'raw 2'")
    other.until(lambda s: "raw 2" in s["removed"])
    mine.until(lambda s: titles(s.data) == ["from rr", "by psql"])

    assert [other.added(t) for t in ("from rr", "raw 1", "raw 2")] == [1, 1, 1]
    # this process saw its own write once: the feed's echo of it was skipped
    assert sum("from rr" in titles(s.added) for s in mine.seen) == 1


@postgresql
def test_killing_the_listener_mid_stream_loses_nothing(
    here: ReactiveRecord, other: Worker, raw: Any
) -> None:
    Job = here.models.Job
    titles_written = []
    for n in range(30):
        title = f"t{n}"
        titles_written.append(title)
        Job.create({"title": title, "status": "x"})
        if n == 10:
            killed = raw.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (f"reactive-record feed {other.process.pid}",),
            ).fetchall()
            assert killed == [(True,)]
        if n == 20:
            raw.execute("UPDATE feed_jobs SET title = 'renamed' WHERE title = 't5'")
    expected = ["renamed" if t == "t5" else t for t in titles_written]
    other.until(lambda s: s["data"] == expected and s["complete"])
    assert any(not s["complete"] for s in other.seen)  # it said when it could not be sure
    assert [other.added(t) for t in titles_written] == [1] * len(titles_written)
    assert sum(["t5", "renamed"] in s["changed"] for s in other.seen) == 1


@postgresql
def test_a_write_too_large_for_one_notification_is_re_read(
    here: ReactiveRecord, other: Worker, raw: Any
) -> None:
    raw.execute(
        "INSERT INTO feed_jobs (title, status) "
        "SELECT 'bulk ' || n, 'x' FROM generate_series(1, 3000) n"
    )
    snapshot = other.until(lambda s: len(s["data"]) == 3000)
    assert len(snapshot["added"]) == 3000


@postgresql
def test_db_sql_prints_the_feed_triggers(here: ReactiveRecord) -> None:
    ddl = here.store.ddl()  # type: ignore[attr-defined]
    assert "CREATE OR REPLACE FUNCTION rr_notify_changes()" in ddl
    for event in ("INSERT", "UPDATE", "DELETE"):
        assert f'AFTER {event} ON "feed_jobs"' in ddl
    assert ddl.count("FOR EACH STATEMENT") == 3


TYPED: dict[str, Any] = {
    "Item": {
        "table": "feed_items",
        "primary_key": "uid",
        "fields": {
            "uid": {"type": "uuid", "primary_key": True},
            "name": "string",
            "note": "text",
            "n": "integer",
            "x": "float",
            "amount": {"type": "decimal", "precision": 12, "scale": 2},
            "flag": "boolean",
            "day": "date",
            "at": "datetime",
            "data": "json",
        },
    }
}
ODD_ROWS: list[dict[str, Any]] = [
    {"name": "é ü 😀", "note": "x" * 50, "n": 2**40, "x": 0.1, "amount": "1.50", "flag": True},
    {"x": 1e16, "amount": "-0.01", "day": "2024-02-29", "at": "2024-03-01T12:00:00.123456Z"},
    {"x": -0.0, "amount": "0", "flag": False, "data": {"a": None, "b": [1.5, 2, "c"]}},
    {"data": [0.1, {"deep": 1e-7}], "at": "1999-12-31T23:59:59.999999+05:00"},
    {},
]


@postgresql
def test_rows_carried_by_notifications_equal_the_store_s_own_reads(
    sql_db_url: str, make_rr: Callable[..., ReactiveRecord]
) -> None:
    reader = make_rr(sql_db_url, TYPED, plugins=["sqlalchemy"])
    writer = make_rr(sql_db_url, TYPED, plugins=["sqlalchemy"])
    seen = Collected()
    reader.models.Item.where().order("uid").subscribe(seen)
    with writer.transaction():
        for values in ODD_ROWS:
            writer.models.Item.create(values)
    seen.until(lambda s: len(s.data) == len(ODD_ROWS))
    with reader.transaction():
        fresh = reader.models.Item.where().order("uid").all()
    live = seen.seen[-1].data
    assert [dict(r) for r in live] == [dict(r) for r in fresh]
    for a, b in zip(live, fresh, strict=True):
        assert {k: type(v) for k, v in a.items()} == {k: type(v) for k, v in b.items()}
    writer.models.Item.where(flag=True).update_all({"note": None})
    seen.until(lambda s: any(r.note is None and r.flag for r in s.data))


def test_sqlite_commits_of_another_process_reach_subscribers(
    tmp_path: Path, make_rr: Callable[..., ReactiveRecord]
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    here = make_rr(url, MODELS, plugins=["sqlalchemy"])
    elsewhere = make_rr(url, MODELS, plugins=["sqlalchemy"])
    got: list[Snapshot] = []
    here.models.Job.where(status="x").subscribe(got.append)
    here.models.Job.create({"title": "mine", "status": "x"})
    assert here.engine.live.provably_fresh()  # its own commit is not another's
    elsewhere.models.Job.create({"title": "theirs", "status": "x"})
    assert here.engine.live.provably_fresh()  # the scheduler asks this every second
    assert sorted(titles(got[-1].data)) == ["mine", "theirs"]


def titles(records: Any) -> list[str]:
    return [r.title for r in records]


def url_for_psql(rr: ReactiveRecord) -> str:
    url = rr.store.engine.url.set(drivername="postgresql")  # type: ignore[attr-defined]
    return url.render_as_string(hide_password=False)


@postgresql
def test_a_notification_older_than_a_local_commit_never_wins(
    here: ReactiveRecord, raw: Any
) -> None:
    # The feed thread is busy in a slow subscriber while psql updates row 1 (E) and this
    # process updates it again (C, after E): C is applied first, E's notification after.
    # The row E's notification carries is older than C's and must not replace it.
    Job = here.models.Job
    first = Job.create({"title": "one", "status": "init"})
    second = Job.create({"title": "two", "status": "init"})
    seen: list[Snapshot] = []
    slow = threading.Event()

    def subscriber(snapshot: Snapshot) -> None:
        seen.append(snapshot)
        if any(after.status == "slow" for _, after in snapshot.changed):
            slow.set()
            threading.Event().wait(1.0)  # the feed thread stalls here

    Job.where().order("id").subscribe(subscriber)
    raw.execute("UPDATE feed_jobs SET status = 'slow' WHERE id = %s", (second.id,))
    assert slow.wait(TIMEOUT)
    raw.execute("UPDATE feed_jobs SET status = 'external' WHERE id = %s", (first.id,))
    Job.update(first.id, {"status": "local"})
    fresh = [tuple(row) for row in raw.execute("SELECT id, status FROM feed_jobs")]
    pause = threading.Event()
    for _ in range(int(TIMEOUT * 10)):
        if [(r.id, r.status) for r in seen[-1].data] == sorted(fresh):
            break
        pause.wait(0.1)
    pause.wait(1.5)  # the stalled thread has woken and applied E's notification
    assert [(r.id, r.status) for r in seen[-1].data] == sorted(fresh)
    assert [(r.id, r.status) for r in Job.where().order("id").all()] == sorted(fresh)
