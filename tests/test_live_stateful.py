"""Live results never go stale: a hypothesis state machine against fresh reads.

Random creates, updates and destroys (with dependent children), bulk writes, multi-write
transactions, rolled-back transactions and a moving clock run against live queries with
random conditions (equality, IN with NULL, ranges, LIKE, strings, ``any`` through
associations, relative times, ``or``/``not``), orders, limits, offsets, includes, live
records and live aggregates. After every step each subscriber's last snapshot equals a
fresh read of the same query, its diffs lead from the snapshot before to the one after,
and each aggregate equals a sum or count over a fresh read — on every enabled database.

``RR_LIVE_EXAMPLES`` sets the number of examples per database (default 25).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from reactive_record import ReactiveRecord
from reactive_record.snapshots import same

EXAMPLES = int(os.environ.get("RR_LIVE_EXAMPLES", "25"))
START = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)

MODELS: dict[str, Any] = {
    "Client": {
        "table": "live_clients",
        "fields": {"name": "string", "region": "string"},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "client_id"}},
    },
    "Job": {
        "table": "live_jobs",
        "fields": {
            "title": "string",
            "status": "string",
            "priority": "integer",
            "amount": {"type": "decimal", "precision": 12, "scale": 2},
            "score": "float",
            "client_id": "integer",
            "created_at": "datetime",
        },
        "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
    },
    "Task": {
        "table": "live_tasks",
        "fields": {"job_id": "integer", "state": "string", "weight": "integer"},
        "belongs_to": {"job": {"model": "Job", "foreign_key": "job_id"}},
    },
}

STATUSES = ["pending", "active", "done"]
TITLES = ["a", "B", "ab", "b", "é", "Ab", "a b", ""]
REGIONS = ["eu", "us"]
STATES = ["open", "closed"]
AMOUNTS = [Decimal("0.10"), Decimal("1.00"), Decimal("2.50"), Decimal("-3.25"), None]
SCORES = [0.1, 0.2, 1e16, 1.0, -1e16, 2.5, None]
AGES = [dt.timedelta(minutes=m) for m in (-30, 0, 20, 50, 70, 110, 130, 200)]

statuses = st.sampled_from(STATUSES)
priorities = st.one_of(st.none(), st.integers(0, 4))
titles = st.sampled_from(TITLES)
times = st.one_of(st.none(), st.sampled_from(AGES).map(lambda age: START - age))
job_values = st.fixed_dictionaries(
    {},
    optional={
        "title": titles,
        "status": st.one_of(statuses, st.none()),
        "priority": priorities,
        "amount": st.sampled_from(AMOUNTS),
        "score": st.sampled_from(SCORES),
        "created_at": times,
    },
)

job_leaves = st.one_of(
    statuses.map(lambda s: {"status": s}),
    st.lists(st.one_of(statuses, st.none()), min_size=1, max_size=2).map(
        lambda values: {"status": values}
    ),
    st.builds(
        lambda op, n: {"priority": {op: n}},
        st.sampled_from(["gte", "lt", "ne", "eq"]),
        st.integers(0, 4),
    ),
    st.booleans().map(lambda b: {"priority": {"is_null": b}}),
    st.sampled_from(["a%", "%b", "_", "A%"]).map(lambda p: {"title": {"like": p}}),
    st.sampled_from(["a%", "%B"]).map(lambda p: {"title": {"ilike": p}}),
    titles.map(lambda t: {"title": {"gt": t}}),
    st.sampled_from(AMOUNTS[:-1]).map(lambda a: {"amount": {"gte": a}}),
    st.sampled_from(SCORES[:-1]).map(lambda s: {"score": {"lt": s}}),
    st.sampled_from(["1h", "2h"]).map(lambda t: {"created_at": {"gt": {"ago": t}}}),
    st.sampled_from(["1h", "3h"]).map(lambda t: {"created_at": {"lte": {"ago": t}}}),
    st.just({"client_id": None}),
    st.sampled_from(STATES).map(lambda s: {"tasks": {"any": {"state": s}}}),
    st.sampled_from(REGIONS).map(lambda r: {"client": {"any": {"region": r}}}),
)
job_conditions = st.one_of(
    st.just({}),
    job_leaves,
    st.lists(job_leaves, min_size=2, max_size=3).map(lambda items: {"or": items}),
    job_leaves.map(lambda item: {"not": item}),
    st.tuples(statuses, job_leaves).map(lambda pair: {"status": pair[0], "and": [pair[1]]}),
)
ORDER_FIELDS = ["status", "priority", "title", "amount", "score", "created_at", "client_id"]
orders = st.lists(
    st.tuples(st.sampled_from(ORDER_FIELDS), st.booleans()).map(
        lambda pair: ("-" if pair[1] else "") + pair[0]
    ),
    max_size=2,
    unique_by=lambda term: term.lstrip("-"),
)
limits = st.one_of(st.none(), st.integers(1, 4))
offsets = st.sampled_from([0, 0, 0, 1, 2])
includes = st.sampled_from([(), ("tasks",), ("client",), ("tasks", "client")])


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


class Watched:
    """One subscription and every snapshot it received."""

    def __init__(self, query: Any, kind: str, function: str = "", field: str | None = None):
        self.query = query
        self.kind = kind
        self.function = function
        self.field = field
        self.snapshots: list[Any] = []
        self.unsubscribe: Callable[[], None] = lambda: None

    def __call__(self, snapshot: Any) -> None:
        self.snapshots.append(snapshot)


def fresh(rr: ReactiveRecord, query: Any) -> tuple[Any, ...]:
    """A read that bypasses every cache (reads inside a transaction always do)."""
    with rr.transaction():
        return tuple(query.all())


def summed(function: str, field: str | None, records: tuple[Any, ...]) -> Any:
    """A count or sum computed independently of the live layer."""
    if function == "count":
        return len(records)
    values = [r[field] for r in records if r[field] is not None]
    if field == "score":
        return math.fsum(values)
    if field == "amount":
        return sum(values, Decimal(0))
    return sum(values)


def assert_same(live: tuple[Any, ...], expected: tuple[Any, ...], what: str) -> None:
    assert len(live) == len(expected), f"{what}: {live} != {expected}"
    for a, b in zip(live, expected, strict=True):
        assert same(a, b), f"{what}: {a!r} {a.extra} != {b!r} {b.extra}"


def check_diff(before: tuple[Any, ...], snapshot: Any) -> None:
    """The snapshot's added/removed/changed lead from ``before`` to its data."""
    keys = {r["id"] for r in before}
    for record in snapshot.removed:
        assert record["id"] in keys
    for old, new in snapshot.changed:
        assert old["id"] == new["id"] and old["id"] in keys
    after = (keys - {r["id"] for r in snapshot.removed}) | {r["id"] for r in snapshot.added}
    data = snapshot.data if isinstance(snapshot.data, tuple) else (snapshot.data,)
    assert after == {r["id"] for r in data if r is not None}


def make_machine(url: str, clean: Callable[[], None]) -> type[RuleBasedStateMachine]:
    plugins = [] if url.startswith("memory") else ["sqlalchemy"]

    class LiveMachine(RuleBasedStateMachine):
        """Writes of every kind against live queries, checked after each step."""

        def __init__(self) -> None:
            super().__init__()
            clean()
            self.clock = FakeClock()
            self.rr = ReactiveRecord(url, models=MODELS, plugins=plugins, clock=self.clock)
            self.rr.create_tables()
            self.watched: list[Watched] = []
            self.records: list[Any] = []
            models = self.rr.models
            self.Client, self.Job, self.Task = models.Client, models.Job, models.Task
            for name, region in (("north", "eu"), ("south", "us")):
                self.Client.create({"name": name, "region": region})

        def teardown(self) -> None:
            for watched in self.watched:
                watched.unsubscribe()
            self.rr.close()

        # -- helpers ----------------------------------------------------------------------

        def keys(self, handle: Any) -> list[Any]:
            with self.rr.transaction():
                return sorted(handle.pluck("id"))

        def job_fields(self, data: Any, values: dict[str, Any]) -> dict[str, Any]:
            clients = self.keys(self.Client)
            if data.draw(st.booleans()):
                values["client_id"] = data.draw(st.sampled_from([None, *clients]))
            return values

        def write_job(self, data: Any) -> None:
            jobs = self.keys(self.Job)
            kind = data.draw(
                st.sampled_from(["create", "update", "destroy"] if jobs else ["create"])
            )
            if kind == "create":
                values = self.job_fields(data, data.draw(job_values))
                self.Job.create(values)
            elif kind == "update":
                key = data.draw(st.sampled_from(jobs))
                self.Job.update(key, self.job_fields(data, data.draw(job_values)))
            else:
                self.Job.destroy(data.draw(st.sampled_from(jobs)))

        def write_task(self, data: Any) -> None:
            jobs = self.keys(self.Job)
            tasks = self.keys(self.Task)
            kind = data.draw(
                st.sampled_from(["create", "update", "destroy"] if tasks else ["create"])
            )
            values = {
                "job_id": data.draw(st.sampled_from([None, *jobs])),
                "state": data.draw(st.sampled_from(STATES)),
                "weight": data.draw(st.integers(0, 3)),
            }
            if kind == "create":
                self.Task.create(values)
            elif kind == "update":
                self.Task.update(data.draw(st.sampled_from(tasks)), values)
            else:
                self.Task.destroy(data.draw(st.sampled_from(tasks)))

        def any_write(self, data: Any) -> None:
            choice = data.draw(st.sampled_from(["job", "job", "task", "client"]))
            if choice == "job":
                self.write_job(data)
            elif choice == "task":
                self.write_task(data)
            else:
                key = data.draw(st.sampled_from(self.keys(self.Client)))
                self.Client.update(key, {"region": data.draw(st.sampled_from(REGIONS))})

        def build(self, data: Any) -> Any:
            query = self.Job.where(data.draw(job_conditions))
            terms = data.draw(orders)
            if terms:
                query = query.order(*terms)
            limit = data.draw(limits)
            if limit is not None:
                query = query.limit(limit)
            offset = data.draw(offsets)
            if offset:
                query = query.offset(offset)
            chosen = data.draw(includes)
            return query.includes(*chosen) if chosen else query

        # -- rules: live queries ----------------------------------------------------------

        @initialize(data=st.data(), jobs=st.integers(0, 7), tasks=st.integers(0, 4))
        def seed(self, data: Any, jobs: int, tasks: int) -> None:
            for _ in range(jobs):
                self.Job.create(self.job_fields(data, data.draw(job_values)))
            for _ in range(tasks):
                self.write_task(data)

        @rule(data=st.data())
        def subscribe_query(self, data: Any) -> None:
            query = self.build(data)
            watched = Watched(query, "query")
            watched.unsubscribe = query.subscribe(watched)
            self.watched.append(watched)

        @rule(data=st.data())
        def subscribe_aggregate(self, data: Any) -> None:
            query = self.Job.where(data.draw(job_conditions))
            if data.draw(st.booleans()):
                query = query.order("-priority").limit(data.draw(st.integers(1, 3)))
            function, field = data.draw(
                st.sampled_from(
                    [("count", None), ("sum", "priority"), ("sum", "amount"), ("sum", "score")]
                )
            )
            watched = Watched(query, "value", function, field)
            watched.unsubscribe = query.aggregate(function, field).subscribe(watched)
            self.watched.append(watched)

        @rule(data=st.data())
        def find_record(self, data: Any) -> None:
            jobs = self.keys(self.Job)
            if not jobs:
                return
            live = self.Job.includes("tasks").find(data.draw(st.sampled_from(jobs)))
            self.records.append(live)
            watched = Watched(live.query, "record")
            watched.unsubscribe = live.subscribe(watched)
            self.watched.append(watched)

        @precondition(lambda self: self.watched)
        @rule(data=st.data())
        def unsubscribe(self, data: Any) -> None:
            watched = data.draw(st.sampled_from(self.watched))
            watched.unsubscribe()
            self.watched.remove(watched)

        # -- rules: writes ---------------------------------------------------------------

        @rule(data=st.data(), count=st.integers(1, 3))
        def write(self, data: Any, count: int) -> None:
            for _ in range(count):
                self.any_write(data)

        @rule(data=st.data(), count=st.integers(2, 4))
        def transaction(self, data: Any, count: int) -> None:
            with self.rr.transaction():
                for _ in range(count):
                    self.any_write(data)

        @rule(data=st.data())
        def rolled_back(self, data: Any) -> None:
            with pytest.raises(RuntimeError), self.rr.transaction():
                self.any_write(data)
                raise RuntimeError("roll it back")

        @rule(data=st.data())
        def update_all(self, data: Any) -> None:
            condition = data.draw(
                job_leaves.filter(lambda c: "tasks" not in c and "client" not in c)
            )
            values = data.draw(job_values)
            self.Job.where(condition).update_all(values)

        @rule(data=st.data())
        def destroy_all(self, data: Any) -> None:
            condition = data.draw(
                job_leaves.filter(lambda c: "tasks" not in c and "client" not in c)
            )
            self.Job.where(condition).destroy_all()

        @rule(minutes=st.sampled_from([1, 15, 40, 61, 125]))
        def advance_clock(self, minutes: int) -> None:
            self.clock.now += dt.timedelta(minutes=minutes)
            self.rr.engine.live.tick()

        # -- what must always hold --------------------------------------------------------

        @invariant()
        def live_results_equal_fresh_reads(self) -> None:
            for watched in self.watched:
                assert watched.snapshots, "subscribers get the current result at once"
                last = watched.snapshots[-1]
                assert last.complete
                if watched.kind == "value":
                    expected = summed(
                        watched.function, watched.field, fresh(self.rr, watched.query)
                    )
                    assert last.data == expected, (watched.query, watched.function, watched.field)
                    continue
                expected = fresh(self.rr, watched.query)
                if watched.kind == "record":
                    assert same(last.data, expected[0] if expected else None), watched.query
                    continue
                assert_same(last.data, expected, repr(watched.query))
                before: tuple[Any, ...] = ()
                for snapshot in watched.snapshots:
                    check_diff(before, snapshot)
                    before = snapshot.data

        @invariant()
        def live_records_follow_their_row(self) -> None:
            for live in self.records:
                expected = fresh(self.rr, live.query)
                assert same(live.data, expected[0] if expected else None)

    return LiveMachine


def _cleaner(url: str) -> Callable[[], None]:
    if url.startswith("memory") or url.startswith("sqlite"):
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")

            def remove() -> None:
                if os.path.exists(path):
                    os.remove(path)
                for suffix in ("-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)

            return remove
        return lambda: None
    import sqlalchemy as sa

    engine = sa.create_engine(url)

    def clean() -> None:
        with engine.begin() as connection:
            for table in ("live_tasks", "live_jobs", "live_clients"):
                if sa.inspect(connection).has_table(table):
                    connection.execute(sa.text(f"DELETE FROM {table}"))

    return clean


def test_live_results_always_equal_a_fresh_read(db_url: str) -> None:
    machine = make_machine(db_url, _cleaner(db_url))
    machine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
