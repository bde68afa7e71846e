"""Live queries: snapshots, ordering, windows, records, aggregates, includes, computed.

Most cases run on every enabled database (``db_url``); the ones about the live layer's
own choices (which results are incremental) run on the memory store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from reactive_record import InvalidQuery, QueryTooLarge, ReactiveRecord, RecordNotFound
from reactive_record.snapshots import RecordSnapshot, Snapshot, ValueSnapshot

START = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)

MODELS: dict[str, Any] = {
    "Client": {
        "fields": {"name": "string", "region": "string"},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "client_id"}},
    },
    "Job": {
        "fields": {
            "title": "string",
            "status": "string",
            "priority": "integer",
            "amount": {"type": "decimal", "precision": 12, "scale": 2},
            "score": "float",
            "client_id": "integer",
            "created_at": "datetime",
            "due": "date",
        },
        "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
        "max_live_rows": 5,
    },
    "Task": {
        "fields": {"job_id": "integer", "state": "string"},
        "belongs_to": {"job": {"model": "Job", "foreign_key": "job_id"}},
    },
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rr(db_url: str, make_rr: Callable[..., ReactiveRecord], clock: Clock) -> ReactiveRecord:
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    return make_rr(db_url, MODELS, plugins=plugins, clock=clock)


@pytest.fixture
def mem(make_rr: Callable[..., ReactiveRecord], clock: Clock) -> ReactiveRecord:
    return make_rr("memory://", MODELS, plugins=[], clock=clock)


def titles(records: Any) -> list[str]:
    return [r.title for r in records]


# -- snapshots --------------------------------------------------------------------------


def test_subscribers_get_the_current_result_then_a_diff_per_commit(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    Job.create({"title": "a", "status": "active", "priority": 1})
    got: list[Snapshot] = []
    unsubscribe = Job.where(status="active").order("title").subscribe(got.append)

    first = got[0]
    assert isinstance(first.data, tuple) and titles(first.data) == ["a"]
    assert titles(first.added) == ["a"] and first.complete

    b = Job.create({"title": "b", "status": "active"})
    assert titles(got[-1].data) == ["a", "b"] and titles(got[-1].added) == ["b"]

    Job.update(b.id, {"priority": 9})
    ((old, new),) = got[-1].changed
    assert (old.priority, new.priority) == (None, 9)

    Job.update(b.id, {"status": "done"})
    assert titles(got[-1].removed) == ["b"] and titles(got[-1].data) == ["a"]

    Job.create({"title": "zzz", "status": "pending"})  # not in the result: no snapshot
    assert len(got) == 4
    unsubscribe()
    Job.create({"title": "c", "status": "active"})
    assert len(got) == 4


def test_a_transaction_gives_one_snapshot_per_query(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    got: list[Snapshot] = []
    Job.where(status="active").subscribe(got.append)
    with rr.transaction():
        for title in "xyz":
            Job.create({"title": title, "status": "active"})
    assert len(got) == 2 and titles(got[-1].added) == ["x", "y", "z"]


def test_rolled_back_writes_reach_no_subscriber(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    got: list[Snapshot] = []
    Job.where(status="active").subscribe(got.append)
    with pytest.raises(ZeroDivisionError), rr.transaction():
        Job.create({"title": "x", "status": "active"})
        1 / 0  # noqa: B018
    assert len(got) == 1 and Job.where(status="active").count() == 0


def test_a_subscription_made_in_a_rolled_back_transaction_gets_its_first_snapshot(
    rr: ReactiveRecord,
) -> None:
    Job = rr.models.Job
    Job.create({"title": "a", "status": "active"})
    got: list[Snapshot] = []
    with pytest.raises(ZeroDivisionError), rr.transaction():
        Job.create({"title": "x", "status": "active"})
        Job.where(status="active").subscribe(got.append)
        assert got == []  # never inside the transaction
        1 / 0  # noqa: B018
    assert [titles(s.data) for s in got] == [["a"]]  # the committed rows, delivered at the end
    Job.create({"title": "b", "status": "active"})
    assert titles(got[-1].data) == ["a", "b"]


def test_rows_are_placed_in_sql_order_with_nulls_first_ascending(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    got: list[Snapshot] = []
    Job.order("priority", "-title").subscribe(got.append)
    for title, priority in [("a", 2), ("b", None), ("c", 1), ("d", 2), ("e", None)]:
        Job.create({"title": title, "priority": priority})
    assert titles(got[-1].data) == ["e", "b", "c", "d", "a"]
    assert got[-1].data == Job.order("priority", "-title").all()

    got.clear()
    Job.order("-priority").subscribe(got.append)
    assert [r.priority for r in got[-1].data] == [2, 2, 1, None, None]


def test_a_window_that_loses_a_row_refills_and_one_that_gains_drops_its_last(
    rr: ReactiveRecord,
) -> None:
    Job = rr.models.Job
    for title, priority in [("a", 5), ("b", 4), ("c", 3), ("d", 2)]:
        Job.create({"title": title, "priority": priority, "status": "open"})
    got: list[Snapshot] = []
    query = Job.where(status="open").order("-priority").limit(2)
    query.subscribe(got.append)
    assert titles(got[-1].data) == ["a", "b"]

    a = Job.find_by(title="a").data
    assert a is not None
    Job.update(a.id, {"status": "closed"})  # loses its first row: c comes in
    assert titles(got[-1].data) == ["b", "c"] and titles(got[-1].added) == ["c"]

    Job.create({"title": "e", "priority": 9, "status": "open"})  # gains a row ahead: c drops
    assert titles(got[-1].data) == ["e", "b"] and titles(got[-1].removed) == ["c"]

    b = Job.find_by(title="b").data
    assert b is not None
    Job.update(b.id, {"priority": 1})  # moves past the end: d's 2 comes in ahead of it
    assert titles(got[-1].data) == ["e", "c"]
    assert got[-1].data == query.all()


def test_data_is_immutable(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    Job.create({"title": "a"})
    got: list[Snapshot] = []
    Job.where().subscribe(got.append)
    snapshot = got[-1]
    assert isinstance(snapshot.data, tuple)
    with pytest.raises(AttributeError):
        snapshot.data[0].title = "b"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        snapshot.data = ()  # type: ignore[misc]


# -- live records -----------------------------------------------------------------------


def test_find_gives_a_record_that_stays_current_and_is_none_once_deleted(
    rr: ReactiveRecord,
) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "a"})
    live = Job.find(job.id)
    assert live.data == job
    Job.update(job.id, {"title": "b"})
    assert live.data is not None and live.data.title == "b"
    got: list[RecordSnapshot] = []
    live.subscribe(got.append)
    Job.update(job.id, {"title": "c"})
    assert got[-1].data is not None and got[-1].data.title == "c"
    Job.destroy(job.id)
    assert live.data is None and got[-1].data is None and titles(got[-1].removed) == ["c"]
    with pytest.raises(RecordNotFound):
        Job.find(job.id)


def test_find_by_follows_whichever_record_matches(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    live = Job.find_by(title="x")
    assert live.data is None and not live
    created = Job.create({"title": "x"})
    assert live.data == created


def test_unsubscribed_records_and_values_see_the_open_transactions_writes(
    rr: ReactiveRecord,
) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "a", "status": "open"})
    live, count = Job.find(job.id), Job.where(status="open").aggregate("count")
    assert (live.data is not None and live.data.title, count.data) == ("a", 1)
    with rr.transaction():
        Job.update(job.id, {"title": "b"})
        Job.create({"title": "c", "status": "open"})
        # What a fresh read inside the transaction gives, not the record before it.
        assert live.data is not None and live.data.title == "b"
        assert count.data == 2 == Job.where(status="open").count()
    assert live.data is not None and live.data.title == "b" and count.data == 2


def test_unsubscribed_records_and_values_move_with_the_clock(
    rr: ReactiveRecord, clock: Clock
) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "a", "created_at": START - dt.timedelta(minutes=50)})
    live = Job.find_by(title="a", created_at={"gt": {"ago": "1h"}})
    recent = Job.where(created_at={"gt": {"ago": "1h"}}).aggregate("count")
    assert live.data == job and recent.data == 1
    clock.now += dt.timedelta(minutes=11)  # no write, only time: "a" is 61 minutes old
    assert live.data is None and recent.data == 0


# -- live aggregates ---------------------------------------------------------------------


def test_count_and_sum_follow_every_commit(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    count = Job.where(status="open").aggregate("count")
    total = Job.where(status="open").aggregate("sum", "amount")
    scores = Job.where(status="open").aggregate("sum", "score")
    assert (count.data, total.data, scores.data) == (0, Decimal(0), 0.0)
    counts: list[ValueSnapshot] = []
    count.subscribe(counts.append)
    sums: list[ValueSnapshot] = []
    total.subscribe(sums.append)
    a = Job.create({"title": "a", "status": "open", "amount": "1.25", "score": 0.1})
    Job.create({"title": "b", "status": "open", "amount": "2.50", "score": 0.2})
    Job.create({"title": "c", "status": "done", "amount": "100.00"})
    assert (counts[-1].data, sums[-1].data) == (2, Decimal("3.75"))
    assert scores.data == 0.1 + 0.2 or scores.data == pytest.approx(0.3)
    Job.update(a.id, {"amount": "-1.00"})
    assert sums[-1] == ValueSnapshot(Decimal("1.50"), Decimal("3.75"), True)
    Job.update(a.id, {"status": "done"})
    assert (counts[-1].data, sums[-1].data) == (1, Decimal("2.50"))
    assert [s.data for s in counts] == [0, 1, 2, 1]


def test_an_aggregate_over_a_window_follows_the_window(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    for priority in (1, 2, 3):
        Job.create({"title": "t", "priority": priority})
    top = Job.order("-priority").limit(2).aggregate("sum", "priority")
    got: list[ValueSnapshot] = []
    top.subscribe(got.append)
    assert got[-1].data == 5
    Job.create({"title": "t", "priority": 10})
    assert got[-1].data == 13


def test_aggregates_check_their_function_and_field(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    with pytest.raises(InvalidQuery, match="unknown aggregate 'avg'"):
        Job.aggregate("avg", "priority")
    with pytest.raises(InvalidQuery, match="sum needs an integer, float or decimal field"):
        Job.aggregate("sum", "title")
    with pytest.raises(InvalidQuery, match="sum needs a field"):
        Job.aggregate("sum")


# -- includes and ``any`` ---------------------------------------------------------------------


def test_included_children_stay_live_and_parents_of_children_too(rr: ReactiveRecord) -> None:
    Job, Task, Client = rr.models.Job, rr.models.Task, rr.models.Client
    acme = Client.create({"name": "acme", "region": "eu"})
    job = Job.create({"title": "a", "client_id": acme.id})
    jobs: list[Snapshot] = []
    Job.includes("tasks", "client").subscribe(jobs.append)
    task = Task.create({"job_id": job.id, "state": "open"})
    assert [t.state for t in jobs[-1].data[0].tasks] == ["open"]
    ((old, new),) = jobs[-1].changed
    assert old.tasks == () and new.tasks[0].id == task.id
    Task.update(task.id, {"state": "closed"})
    assert [t.state for t in jobs[-1].data[0].tasks] == ["closed"]
    Client.update(acme.id, {"name": "acme inc"})
    assert jobs[-1].data[0].client.name == "acme inc"

    tasks: list[Snapshot] = []
    Task.includes("job").subscribe(tasks.append)
    Job.update(job.id, {"title": "renamed"})
    assert tasks[-1].data[0].job.title == "renamed"
    Task.destroy(task.id)
    assert jobs[-1].data[0].tasks == () and tasks[-1].data == ()


def test_any_conditions_are_re_read_when_the_associated_rows_change(rr: ReactiveRecord) -> None:
    Job, Task = rr.models.Job, rr.models.Task
    job = Job.create({"title": "a"})
    got: list[Snapshot] = []
    Job.where({"tasks": {"any": {"state": "open"}}}).subscribe(got.append)
    assert got[-1].data == ()
    task = Task.create({"job_id": job.id, "state": "open"})
    assert titles(got[-1].data) == ["a"]
    Task.update(task.id, {"state": "closed"})
    assert got[-1].data == ()


# -- relative time ----------------------------------------------------------------------------


def test_relative_times_are_re_evaluated_when_the_clock_crosses_a_boundary(
    rr: ReactiveRecord, clock: Clock
) -> None:
    Job = rr.models.Job
    Job.create({"title": "old", "created_at": START - dt.timedelta(minutes=50)})
    Job.create({"title": "new", "created_at": START - dt.timedelta(minutes=10)})
    recent: list[Snapshot] = []
    Job.where(created_at={"gt": {"ago": "1h"}}).order("title").subscribe(recent.append)
    stale: list[Snapshot] = []
    Job.where(created_at={"lte": {"ago": "1h"}}).order("title").subscribe(stale.append)
    assert titles(recent[-1].data) == ["new", "old"] and stale[-1].data == ()

    clock.now += dt.timedelta(minutes=5)
    rr.engine.live.tick()
    assert len(recent) == 1  # no boundary crossed yet

    clock.now += dt.timedelta(minutes=6)  # "old" is now 61 minutes old
    rr.engine.live.tick()
    assert titles(recent[-1].data) == ["new"] and titles(stale[-1].data) == ["old"]

    Job.create({"title": "fresh", "created_at": clock.now})
    assert titles(recent[-1].data) == ["fresh", "new"]
    clock.now += dt.timedelta(hours=2)
    Job.where(title="none").first()  # any live call looks at the clock
    assert recent[-1].data == () and titles(stale[-1].data) == ["fresh", "new", "old"]


def test_relative_dates_change_at_midnight(mem: ReactiveRecord, clock: Clock) -> None:
    Job = mem.models.Job
    Job.create({"title": "today", "due": START.date()})
    got: list[Snapshot] = []
    Job.where(due={"gte": {"ago": "0d"}}).subscribe(got.append)
    assert titles(got[-1].data) == ["today"]
    clock.now = dt.datetime(2024, 3, 2, 0, 0, 1, tzinfo=dt.timezone.utc)
    mem.engine.live.tick()
    assert got[-1].data == ()


# -- computed ---------------------------------------------------------------------------------


def test_views_recompute_their_computed_values_when_a_record_changes(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "a", "priority": 1})
    plain: list[Snapshot] = []
    labelled: list[Snapshot] = []
    Job.where().subscribe(plain.append)
    Job.where().with_computed({"label": lambda r: f"#{r.id} {r.title}"}).subscribe(labelled.append)
    assert rr.engine.live.cache.lives().__len__() == 1  # computed values never break sharing
    assert labelled[-1].data[0].label == f"#{job.id} a"
    Job.update(job.id, {"title": "b"})
    assert labelled[-1].data[0].label == f"#{job.id} b"
    old, new = labelled[-1].changed[0]
    assert (old.label, new.label) == (f"#{job.id} a", f"#{job.id} b")
    assert "label" not in plain[-1].data[0].extra


def test_a_failing_computed_value_names_model_property_and_key(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    errors: list[BaseException] = []
    mem.signal("callback-error").connect(
        lambda sender, error, **_: errors.append(error), weak=False
    )
    got: list[Snapshot] = []

    def broken(record: Any) -> Any:
        if record.title == "bad":
            raise ValueError("no")
        return 1

    Job.where().with_computed({"weight": broken}).subscribe(got.append)
    job = Job.create({"title": "bad"})
    assert Job.find(job.id).data is not None  # the write stands
    assert len(errors) == 1
    assert f"Job.weight failed for Job {job.id}" in str(errors[0])


# -- size and strings -------------------------------------------------------------------------


def test_a_live_query_over_max_live_rows_raises_query_too_large(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    for n in range(6):
        Job.create({"title": f"t{n}"})
    with pytest.raises(QueryTooLarge, match="over max_live_rows=5; add a limit"):
        Job.where().subscribe(lambda s: None)
    got: list[Snapshot] = []
    Job.order("title").limit(5).subscribe(got.append)
    assert len(got[-1].data) == 5


def test_string_comparisons_are_re_read_when_the_store_collates_differently(
    mem: ReactiveRecord,
) -> None:
    mem.store.exact_string_semantics = False  # type: ignore[attr-defined]
    Job = mem.models.Job
    got: list[Snapshot] = []
    Job.where(title={"gt": "b"}).subscribe(got.append)
    Job.where(priority=1).subscribe(lambda s: None)
    lives = {
        live.spec.to_data()["where"].__repr__(): live for live in mem.engine.live.cache.lives()
    }
    modes = sorted(live.incremental for live in lives.values())
    assert modes == [False, True]
    Job.create({"title": "c"})
    assert titles(got[-1].data) == ["c"]


def test_the_index_reaches_only_the_queries_a_change_can_affect(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    for n in range(200):
        Job.where(priority=n).subscribe(lambda s: None)
    Job.where(priority={"gt": 500}).subscribe(lambda s: None)
    index = mem.engine.live.index
    hits = index.affected("Job", [{"priority": 7}, {"priority": 8}])
    assert sorted(live.spec.to_data()["where"]["priority"]["eq"] for live in hits[:2]) == [7, 8]
    assert len(hits) == 3  # plus the one without an equality predicate
