"""Sharing, TTLs, the size bound, freshness, preload and the coordinator, on a fake clock.

No test sleeps: time moves when the test moves the clock, and any live call (or the
scheduler's ``tick``) acts on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reactive_record import InvalidQuery, ReactiveRecord
from reactive_record.snapshots import Snapshot
from reactive_record.ttl import CombinedSnapshot

START = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {"title": "string", "status": "string", "client_id": "integer"},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id"}},
        "ttl": {"find": "2h", "collection": "1h", "scopes": "30m", "preload": "4h"},
        "scopes": {"active": {"where": {"status": "active"}}},
    },
    "Task": {"fields": {"job_id": "integer", "state": "string"}},
}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rr(make_rr: Callable[..., ReactiveRecord], clock: Clock) -> ReactiveRecord:
    return make_rr("memory://", MODELS, plugins=[], clock=clock)


class Fetches:
    """Counts the reads that reach the store (a spy on the real store, not a mock)."""

    def __init__(self, rr: ReactiveRecord) -> None:
        self.count = 0
        store = rr.store
        real = store.fetch

        def fetch(plan: Any) -> Any:
            self.count += 1
            return real(plan)

        store.fetch = fetch  # type: ignore[method-assign]


def cached_keys(rr: ReactiveRecord) -> set[str]:
    return {live.key for live in rr.engine.live.cache.lives()}


def evictions(rr: ReactiveRecord) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    rr.signal("evicted").connect(lambda sender, **kw: seen.append(kw), weak=False)
    return seen


# -- sharing ----------------------------------------------------------------------------


def test_identical_queries_share_one_live_result(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    a: list[Snapshot] = []
    b: list[Snapshot] = []
    Job.where(status="x").order("title").subscribe(a.append)
    Job.where(status="x").order("title").with_ttl("5m").subscribe(b.append)
    assert len(rr.engine.live.cache) == 1
    Job.create({"title": "t", "status": "x"})
    assert a[-1].data == b[-1].data and a[-1].data[0] is b[-1].data[0]


def test_a_query_built_acting_as_a_user_keeps_that_user(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    alice, bob = {"id": 1, "role": "admin"}, {"id": 2, "role": "admin"}
    with rr.acting_as(alice):
        query = Job.where(status="x")
    assert query.spec.option("user") == alice
    query.subscribe(lambda s: None)
    with rr.acting_as(bob):
        Job.where(status="x").subscribe(lambda s: None)
    users = sorted(live.spec.option("user")["id"] for live in rr.engine.live.cache.lives())
    assert users == [1, 2]  # two users never share a live result


def test_reads_are_served_from_a_fresh_live_result(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    Job.create({"title": "a", "status": "x"})
    query = Job.where(status="x")
    query.subscribe(lambda s: None)
    fetches = Fetches(rr)
    assert [r.title for r in query.all()] == ["a"]
    assert query.with_computed({"n": lambda r: 1}).all()[0].n == 1
    assert fetches.count == 0
    Job.create({"title": "b", "status": "x"})
    assert [r.title for r in query.all()] == ["a", "b"]


def test_reads_inside_a_transaction_bypass_the_cache_and_see_their_writes(
    rr: ReactiveRecord,
) -> None:
    Job = rr.models.Job
    query = Job.where(status="x")
    got: list[Snapshot] = []
    query.subscribe(got.append)
    with rr.transaction():
        Job.create({"title": "a", "status": "x"})
        assert [r.title for r in query.all()] == ["a"]
        assert got[-1].data == ()  # live results only ever show committed data
    assert [r.title for r in got[-1].data] == ["a"]


# -- TTLs -------------------------------------------------------------------------------


def test_after_the_last_subscriber_a_result_stays_for_its_ttl(
    rr: ReactiveRecord, clock: Clock
) -> None:
    Job = rr.models.Job
    evicted = evictions(rr)
    first = Job.where(status="x").with_ttl("5m").subscribe(lambda s: None)
    second = Job.where(status="x").subscribe(lambda s: None)
    first()
    second()
    assert len(rr.engine.live.cache) == 1
    clock.advance(minutes=59)  # the longest TTL asked for wins: the model's collection 1h
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 1 and not evicted
    clock.advance(minutes=2)
    Job.where(status="nothing").all()  # any live call looks at the clock
    assert len(rr.engine.live.cache) == 0
    assert len(evicted) == 1 and evicted[0]["query"].model == "Job"


@pytest.mark.parametrize(
    ("build", "stays"),
    [
        (lambda jobs: jobs.where(title="a").with_ttl("none"), dt.timedelta(0)),
        (lambda jobs: jobs.where(title="a"), dt.timedelta(hours=1)),
        (lambda jobs: jobs.active(), dt.timedelta(minutes=30)),
        (lambda jobs: jobs.active().with_ttl("2h"), dt.timedelta(hours=2)),
    ],
    ids=["none", "collection", "scopes", "explicit"],
)
def test_ttls_come_from_the_query_then_the_model(
    rr: ReactiveRecord, clock: Clock, build: Any, stays: dt.timedelta
) -> None:
    unsubscribe = build(rr.models.Job).subscribe(lambda s: None)
    unsubscribe()
    if stays:
        clock.now += stays - dt.timedelta(seconds=1)
        rr.engine.live.tick()
        assert len(rr.engine.live.cache) == 1
        clock.now += dt.timedelta(seconds=1)
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 0


def test_find_uses_the_find_ttl_and_forever_never_expires(rr: ReactiveRecord, clock: Clock) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "a"})
    Job.find(job.id).subscribe(lambda s: None)()
    Job.where(title="b").with_ttl("forever").subscribe(lambda s: None)()
    clock.advance(hours=2, seconds=-1)
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 2
    clock.advance(days=400)
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 1


def test_bad_ttls_are_named(rr: ReactiveRecord) -> None:
    with pytest.raises(InvalidQuery, match="'soon' is not a duration"):
        rr.models.Job.with_ttl("soon")
    with pytest.raises(InvalidQuery, match="coordinator query 'jobs'"):
        rr.coordinator().register("jobs", lambda: rr.models.Job.where(), ttl="soon")


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(
    make_rr: Callable[..., ReactiveRecord], clock: Clock
) -> None:
    rr = make_rr("memory://", MODELS, plugins=[], clock=clock, config={"max_cached_queries": 2})
    Job = rr.models.Job
    evicted = evictions(rr)
    held = Job.where(title="held").subscribe(lambda s: None)
    for title in ("a", "b", "c"):
        Job.where(title=title).with_ttl("forever").subscribe(lambda s: None)()
    remaining = {
        live.spec.to_data()["where"]["title"]["eq"] for live in rr.engine.live.cache.lives()
    }
    assert remaining == {"held", "c"}  # subscribed results are never evicted
    assert [e["query"].to_data()["where"]["title"]["eq"] for e in evicted] == ["a", "b"]
    held()


def test_preloads_are_bounded_too(make_rr: Callable[..., ReactiveRecord], clock: Clock) -> None:
    # Preloaded forever, nothing expires and no clock tick comes: the bound alone evicts.
    rr = make_rr("memory://", MODELS, plugins=[], clock=clock, config={"max_cached_queries": 2})
    evicted = evictions(rr)
    for title in ("a", "b", "c", "d"):
        rr.preload(rr.models.Job.where(title=title), ttl="forever")
    assert len(rr.engine.live.cache) == 2
    assert [e["query"].to_data()["where"]["title"]["eq"] for e in evicted] == ["a", "b"]


# -- preload and freshness ----------------------------------------------------------------------


def test_preload_keeps_a_query_warm_without_a_subscriber(rr: ReactiveRecord, clock: Clock) -> None:
    Job = rr.models.Job
    Job.create({"title": "a", "status": "x"})
    rr.preload(Job.where(status="x"), ttl="10m")
    fetches = Fetches(rr)
    assert len(Job.where(status="x").all()) == 1
    Job.create({"title": "b", "status": "x"})
    assert len(Job.where(status="x").all()) == 2 and fetches.count == 0
    clock.advance(minutes=11)
    assert len(Job.where(status="x").all()) == 2 and fetches.count == 1
    assert len(rr.engine.live.cache) == 0


def test_preload_defaults_to_the_model_preload_ttl(rr: ReactiveRecord, clock: Clock) -> None:
    rr.preload(rr.models.Job.where(status="x"))
    clock.advance(hours=4, seconds=-1)
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 1
    clock.advance(seconds=1)
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 0


def test_sqlite_results_are_re_read_after_another_process_commits(
    tmp_path: Path, make_rr: Callable[..., ReactiveRecord]
) -> None:
    pytest.importorskip("rr_sqlalchemy")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    here = make_rr(url, MODELS, plugins=["sqlalchemy"])
    other = make_rr(url, MODELS, plugins=["sqlalchemy"])
    query = here.models.Job.where(status="x")
    got: list[Snapshot] = []
    query.subscribe(got.append)
    assert query.all() == ()
    other.models.Job.create({"title": "elsewhere", "status": "x"})
    assert [r.title for r in query.all()] == ["elsewhere"]
    record = here.models.Job.find_by(status="x")
    assert record.data is not None and record.data.title == "elsewhere"


# -- the coordinator ------------------------------------------------------------------------------


@pytest.fixture
def coordinated(rr: ReactiveRecord) -> Iterator[Any]:
    Job, Task = rr.models.Job, rr.models.Task
    coord = rr.coordinator()
    coord.register("jobs", lambda: Job.where(status="active"), ttl="4h", required=True)
    coord.register("tasks", lambda: Task.where(state="open"), preload=True)
    combined = coord.combined(["jobs", "tasks"])
    yield combined
    combined.close()


def test_the_coordinator_combines_queries_with_one_subscription(
    rr: ReactiveRecord, coordinated: Any
) -> None:
    Job, Task = rr.models.Job, rr.models.Task
    assert coordinated.data == {"jobs": (), "tasks": ()} and not coordinated.loading
    got: list[CombinedSnapshot] = []
    coordinated.subscribe(got.append)
    with rr.transaction():
        job = Job.create({"title": "a", "status": "active"})
        Task.create({"job_id": job.id, "state": "open"})
    assert len(got) == 2  # the current state, then one callback for the commit
    assert set(got[-1].changes) == {"jobs", "tasks"}
    assert [j.title for j in got[-1].data["jobs"]] == ["a"]
    assert len(coordinated.data["tasks"]) == 1
    Task.create({"state": "closed"})
    assert len(got) == 2


def test_coordinator_ttls_and_preloads_reach_the_cache(
    rr: ReactiveRecord, clock: Clock, coordinated: Any
) -> None:
    coordinated.close()
    clock.advance(hours=3)
    rr.engine.live.tick()
    assert len(rr.engine.live.cache) == 2  # jobs: 4h after its group left; tasks: preloaded
    clock.advance(hours=1, seconds=1)
    rr.engine.live.tick()
    (left,) = rr.engine.live.cache.lives()
    assert left.model_name == "Task"  # a preload without a TTL anywhere stays ("forever")


def test_a_group_is_loading_until_its_required_queries_have_a_result(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    coord = rr.coordinator()
    coord.register("jobs", lambda: Job.where(status="active"), required=True)
    coord.register("extra", lambda: Job.where(status="other"))
    with rr.transaction():  # inside a transaction nothing is delivered until it ends
        combined = coord.combined(["jobs", "extra"])
        assert combined.loading
    assert not combined.loading
    assert coord.query("extra").spec == Job.where(status="other").spec
    with pytest.raises(InvalidQuery, match="no coordinator query 'nope'"):
        coord.combined(["nope"])
