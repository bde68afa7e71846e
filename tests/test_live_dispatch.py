"""The dispatcher: commit order, one snapshot per transaction, errors, re-entrant writes,
threads, signals, asyncio, and users who must never share a live result."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import ReactiveRecord
from reactive_record.snapshots import Snapshot

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {"title": "string", "status": "string", "n": "integer", "client_id": "integer"},
    },
    "Log": {"fields": {"text": "string"}},
}


@pytest.fixture
def rr(db_url: str, make_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    return make_rr(db_url, MODELS, plugins=plugins)


@pytest.fixture
def mem(make_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    return make_rr("memory://", MODELS, plugins=[])


def titles(records: Any) -> list[str]:
    return [r.title for r in records]


def test_the_committed_signal_carries_each_transaction_s_changes(mem: ReactiveRecord) -> None:
    seen: list[tuple[str, ...]] = []
    mem.signal("committed").connect(
        lambda sender, changes: seen.append(tuple(c.operation for c in changes)), weak=False
    )
    Job = mem.models.Job
    job = Job.create({"title": "a"})
    with mem.transaction():
        Job.update(job.id, {"title": "b"})
        Job.destroy(job.id)
    assert seen == [("create",), ("update", "destroy")]


def test_a_subscriber_error_goes_to_the_signal_and_never_into_the_write(
    mem: ReactiveRecord, caplog: pytest.LogCaptureFixture
) -> None:
    Job = mem.models.Job
    errors: list[BaseException] = []
    mem.signal("callback-error").connect(
        lambda sender, error, **_: errors.append(error), weak=False
    )
    after: list[Snapshot] = []

    def explode(snapshot: Snapshot) -> None:
        if snapshot.added and snapshot.added[0].title == "boom":
            raise RuntimeError("subscriber bug")

    Job.where().subscribe(explode)
    Job.where().order("title").subscribe(after.append)
    created = Job.create({"title": "boom"})  # does not raise
    assert Job.find(created.id).data == created
    assert [str(e) for e in errors] == ["subscriber bug"]
    assert titles(after[-1].data) == ["boom"]  # the other subscribers still ran
    assert "subscriber bug" in caplog.text


def test_writes_made_inside_a_callback_are_queued_behind_the_current_dispatch(
    mem: ReactiveRecord,
) -> None:
    Job, Log = mem.models.Job, mem.models.Log
    order: list[str] = []

    def echo(snapshot: Snapshot) -> None:
        for record in snapshot.added:
            order.append(f"job {record.title} seen")
            Log.create({"text": f"saw {record.title}"})
            order.append(f"log for {record.title} written")

    Job.where().subscribe(echo)
    Log.where().subscribe(lambda s: order.extend(f"log {r.text}" for r in s.added))
    Job.where().subscribe(lambda s: order.extend(f"second saw {r.title}" for r in s.added))
    Job.create({"title": "a"})
    assert order == [
        "job a seen",
        "log for a written",  # the write returned before its own dispatch...
        "second saw a",  # ...the current dispatch finished first...
        "log saw a",  # ...then the queued one
    ]


def test_subscribers_never_see_two_queries_disagree(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    live = mem.engine.live
    active = Job.where(status="active")
    done = Job.where(status="done")
    seen: list[tuple[int, int]] = []

    def check(snapshot: Snapshot) -> None:
        shared = {lv.key: lv for lv in live.cache.lives()}
        a = shared[active.spec.fingerprint].data
        d = shared[done.spec.fingerprint].data
        seen.append((len(a), len(d)))

    done.subscribe(lambda s: None)
    active.subscribe(check)
    job = Job.create({"title": "a", "status": "active"})
    Job.update(job.id, {"status": "done"})
    assert seen == [(0, 0), (1, 0), (0, 1)]


def test_concurrent_writers_are_delivered_in_commit_order(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    query = Job.where(status="x").order("n")
    got: list[Snapshot] = []
    query.subscribe(got.append)
    threads = [
        threading.Thread(
            target=lambda base=base: [
                Job.create({"title": f"t{base + i}", "status": "x", "n": base + i})
                for i in range(10)
            ]
        )
        for base in (0, 100, 200, 300)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 41  # the first result, then exactly one snapshot per commit
    sizes = [len(s.data) for s in got]
    assert sizes == list(range(41))
    with rr.transaction():
        assert got[-1].data == query.all()


def test_a_subscription_made_inside_a_transaction_starts_when_it_ends(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    Job.create({"title": "before"})
    got: list[Snapshot] = []
    with mem.transaction():
        Job.create({"title": "inside"})
        Job.where().order("title").subscribe(got.append)
        assert got == []
    # It began before the commit: its first result is the committed one, then the commit.
    assert [titles(s.data) for s in got] == [["before"], ["before", "inside"]]


def test_watch_yields_the_current_result_then_merged_changes(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    Job.create({"title": "a"})

    async def scenario() -> list[Snapshot]:
        seen: list[Snapshot] = []
        watch = Job.where().order("title").watch()
        seen.append(await watch.__anext__())
        Job.create({"title": "b"})
        Job.create({"title": "c"})
        b = Job.find_by(title="b").data
        assert b is not None
        Job.update(b.id, {"title": "bb"})
        seen.append(await watch.__anext__())  # the consumer was busy: one merged snapshot
        await watch.aclose()
        assert titles(await Job.where().order("title").fetch()) == ["a", "bb", "c"]
        return seen

    first, merged = asyncio.run(scenario())
    assert titles(first.data) == ["a"] and titles(first.added) == ["a"]
    assert titles(merged.data) == ["a", "bb", "c"]
    assert sorted(titles(merged.added)) == ["bb", "c"] and merged.changed == ()


def test_live_records_and_values_watch_too(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    job = Job.create({"title": "a"})

    async def scenario() -> tuple[Any, ...]:
        record = Job.find(job.id).watch()
        count = Job.aggregate("count").watch()
        first = (await record.__anext__()).data.title, (await count.__anext__()).data
        Job.update(job.id, {"title": "b"})
        Job.create({"title": "c"})
        second = (await record.__anext__()).data.title, (await count.__anext__()).data
        await record.aclose()
        await count.aclose()
        return first, second

    assert asyncio.run(scenario()) == (("a", 1), ("b", 2))


def test_closing_the_instance_ends_every_watch(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    Job.create({"title": "a"})

    async def scenario() -> list[list[str]]:
        seen: list[list[str]] = []

        async def consume() -> None:
            async for snapshot in Job.where().order("title").watch():
                seen.append(titles(snapshot.data))

        task = asyncio.create_task(consume())
        while not seen:
            await asyncio.sleep(0.01)
        mem.close()
        await asyncio.wait_for(task, 5)  # ends, rather than waiting forever
        return seen

    assert asyncio.run(scenario()) == [["a"]]


def test_a_watch_cancelled_while_it_starts_leaves_no_subscription(mem: ReactiveRecord) -> None:
    Job = mem.models.Job
    Job.create({"title": "a"})
    started = threading.Event()

    def slow(record: Any) -> int:
        started.set()
        threading.Event().wait(0.3)  # the first read is still running when the task goes
        return 1

    async def scenario() -> None:
        async def consume() -> None:
            async for _ in Job.where().with_computed({"x": slow}).watch():
                pass

        task = asyncio.create_task(consume())
        while not started.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.6)  # the worker thread finished subscribing, then undid it

    asyncio.run(scenario())
    errors: list[BaseException] = []
    mem.signal("callback-error").connect(lambda _, error, **kw: errors.append(error), weak=False)
    Job.create({"title": "b"})
    assert len(mem.engine.live.cache) == 0 and errors == []


def test_two_users_with_permissions_never_see_each_other_s_rows(
    make_rr: Callable[..., ReactiveRecord],
) -> None:
    pytest.importorskip("rr_permissions")
    models = {
        "Job": {
            "tenant_field": "client_id",
            "fields": {"title": "string", "client_id": "integer"},
            "features": {"permissions": True},
            "permissions": {"read": {"type": "client_member"}},
        }
    }
    rr = make_rr("memory://", models, plugins=["permissions"], config={"system_writes": True})
    from reactive_record import SYSTEM

    alice = {"id": 1, "role": "admin", "client_id": 1}
    raj = {"id": 2, "role": "admin", "client_id": 2}
    Job = rr.models.Job
    seen: dict[int, list[Snapshot]] = {1: [], 2: []}
    for user in (alice, raj):
        with rr.acting_as(user):
            query = Job.where().order("title")
        query.subscribe(seen[user["id"]].append)
    for title, client in [("a1", 1), ("b2", 2), ("c1", 1)]:
        Job.create({"title": title, "client_id": client}, user=SYSTEM)
    assert titles(seen[1][-1].data) == ["a1", "c1"]
    assert titles(seen[2][-1].data) == ["b2"]
    assert len(rr.engine.live.cache) == 2


def test_concurrent_writes_subscriptions_and_reads_stay_exact(rr: ReactiveRecord) -> None:
    import random

    Job = rr.models.Job
    for n in range(12):
        Job.create({"title": f"t{n}", "status": "x" if n % 2 else "y", "n": n})
    queries = [
        Job.where(status="x").order("-n").limit(3),
        Job.where(n={"gte": 5}).order("title"),
        Job.where({"or": [{"status": "y"}, {"n": {"lt": 3}}]}).order("n").limit(4),
    ]
    seen: list[list[Snapshot]] = [[] for _ in queries]
    for query, snapshots in zip(queries, seen, strict=True):
        query.subscribe(snapshots.append)
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        chance = random.Random(seed)
        try:
            for _ in range(25):
                keys = Job.pluck("id")
                key = chance.choice(keys)
                move = chance.random()
                if move < 0.6:
                    Job.update(key, {"n": chance.randrange(20), "status": chance.choice("xy")})
                elif move < 0.8 and len(keys) > 4:
                    Job.destroy(key)
                else:
                    Job.create({"title": f"w{seed}", "status": chance.choice("xy"), "n": 1})
        except Exception as exc:  # a lost update to a destroyed row is fine; anything else not
            if "no Job" not in str(exc) and "vanished" not in str(exc):
                errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(40):
                for query in queries:
                    query.all()
                unsubscribe = queries[0].subscribe(lambda s: None)
                unsubscribe()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for query, snapshots in zip(queries, seen, strict=True):
        with rr.transaction():
            assert snapshots[-1].data == query.all()
        assert query.all() == snapshots[-1].data  # served from the cache: the same


def test_a_subscription_made_amid_commits_nobody_listened_to_misses_none(
    rr: ReactiveRecord,
) -> None:
    # With nothing live a commit is only counted, not queued (the fast path); a query that
    # becomes live while such commits land must still end up with every one of them.
    Job = rr.models.Job
    keys = [Job.create({"title": f"t{n}", "n": 0}).id for n in range(3)]
    pause = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                with pause:
                    Job.update(keys[n % 3], {"n": n})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for limit in range(1, 60):
            snapshots: list[Snapshot] = []
            query = Job.where(n={"gte": 0}).order("-n").limit(limit % 3 + 1)
            unsubscribe = query.subscribe(snapshots.append)
            with pause:  # the writer is between commits: every one was delivered
                with rr.transaction():
                    fresh = query.all()
                assert snapshots[-1].data == fresh
            unsubscribe()
    finally:
        stop.set()
        thread.join()
    assert errors == []


def test_in_memory_sqlite_writers_and_new_subscriptions_never_deadlock(
    make_rr: Callable[..., ReactiveRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One shared connection behind a lock: a writer holds it while it waits for the commit
    # order, so the live layer's exact read must take it first. Without optimistic
    # reads every subscription takes that path.
    pytest.importorskip("rr_sqlalchemy")
    import reactive_record.dispatcher as dispatcher

    monkeypatch.setattr(dispatcher, "OPTIMISTIC_READS", 0)
    rr = make_rr("sqlite://", {"Job": {"fields": {"n": "integer"}}}, ["sqlalchemy"])
    jobs = rr.models.Job
    ids = [jobs.create({"n": n}).id for n in range(5)]
    done = {"writes": 0, "subscriptions": 0}
    stop = threading.Event()

    def write(offset: int) -> None:
        step = 0
        while not stop.is_set() and step < 300:
            step += 1
            jobs.update(ids[(step + offset) % 5], {"n": step})
            done["writes"] += 1

    def subscribe() -> None:
        step = 0
        while not stop.is_set() and step < 100:
            step += 1
            jobs.where(n={"gte": step % 7}).order("-n").limit(2).subscribe(lambda s: None)()
            done["subscriptions"] += 1

    threads = [threading.Thread(target=write, args=(k,), daemon=True) for k in range(3)]
    threads.append(threading.Thread(target=subscribe, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stop.set()
    assert not any(thread.is_alive() for thread in threads), done
    assert done == {"writes": 900, "subscriptions": 100}
