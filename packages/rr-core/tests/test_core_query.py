"""The query API of DESIGN.md §5: terminal methods, order, limit, scopes, includes, find."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import (
    InvalidQuery,
    LiveRecord,
    PluginNotInstalled,
    ReactiveRecord,
    Record,
    RecordNotFound,
    UnknownField,
)


def titles(records: Any) -> list[str]:
    return [r.title for r in records]


def test_terminal_methods(seeded: ReactiveRecord) -> None:
    active = seeded.models.Job.where(status="active")
    assert titles(active.all()) == ["Fix boiler", "Audit"]
    assert active.data == active.all()
    assert isinstance(active.all(), tuple) and all(isinstance(r, Record) for r in active)
    assert active.first() is not None and active.first().title == "Fix boiler"  # type: ignore[union-attr]
    assert seeded.models.Job.where(status="nope").first() is None
    assert active.count() == 2
    assert active.exists() and not seeded.models.Job.where(status="nope").exists()
    assert active.pluck("title") == ["Fix boiler", "Audit"]
    assert active.pluck("title", "priority") == [("Fix boiler", 3), ("Audit", 5)]
    assert seeded.models.Job.where(title="Audit").one().priority == 5


def test_one_raises_for_none_and_for_many(seeded: ReactiveRecord) -> None:
    with pytest.raises(RecordNotFound, match="no Job matching"):
        seeded.models.Job.where(status="nope").one()
    with pytest.raises(InvalidQuery, match="more than one"):
        seeded.models.Job.where(status="active").one()


def test_first_one_and_exists_keep_the_querys_limit_and_offset(seeded: ReactiveRecord) -> None:
    active = seeded.models.Job.where(status="active").order("title")  # Audit, Fix boiler
    assert not active.limit(0).exists() and active.limit(0).first() is None
    assert not active.offset(2).exists() and active.offset(1).exists()
    assert active.offset(1).first().title == "Fix boiler"  # type: ignore[union-attr]
    assert active.limit(1).one().title == "Audit"  # one of the one row the query reads
    with pytest.raises(RecordNotFound):
        active.limit(0).one()


def test_pluck_checks_its_fields(seeded: ReactiveRecord) -> None:
    with pytest.raises(UnknownField, match="'titel'"):
        seeded.models.Job.pluck("titel")
    with pytest.raises(InvalidQuery, match="at least one field"):
        seeded.models.Job.pluck()


def test_order_always_ends_with_the_primary_key(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for title, priority in (("a", 2), ("b", 1), ("c", 2), ("d", 1), ("e", None)):
        jobs.create({"title": title * 2, "priority": priority})
    # Ties keep primary-key order in both directions; NULL first ascending, last descending.
    assert titles(jobs.order("priority")) == ["ee", "bb", "dd", "aa", "cc"]
    assert titles(jobs.order("-priority")) == ["aa", "cc", "bb", "dd", "ee"]
    assert titles(jobs.order("-priority", "-title")) == ["cc", "aa", "dd", "bb", "ee"]
    assert titles(jobs.order("-id")) == ["ee", "dd", "cc", "bb", "aa"]
    assert titles(jobs.all()) == ["aa", "bb", "cc", "dd", "ee"]


def test_order_limit_offset_and_count(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for n in range(1, 8):
        jobs.create({"title": f"job {n}", "priority": n % 3 + 1})
    page = jobs.order("-priority").limit(3).offset(2)
    assert page.pluck("id") == [1, 4, 7]
    assert page.count() == 3
    assert jobs.offset(5).count() == 2
    assert jobs.limit(0).all() == ()
    assert jobs.offset(50).all() == ()


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda q: q.limit(-1), "non-negative integer"),
        (lambda q: q.limit("5"), "non-negative integer"),
        (lambda q: q.offset(True), "non-negative integer"),
        (lambda q: q.order("-"), "order terms are field names"),
        (lambda q: q.order("titel"), "no field 'titel'"),
        (lambda q: q.order("-payload"), "Job.payload is json: JSON values have no order"),
        (lambda q: q.includes("taskz"), "no field 'taskz'"),
        (lambda q: q.with_ttl("soon"), "not a duration"),
    ],
)
def test_bad_builder_arguments(rr: ReactiveRecord, build: Callable[[Any], Any], says: str) -> None:
    with pytest.raises(InvalidQuery, match=says):
        build(rr.models.Job)


def test_find_raises_at_once_and_find_by_returns_none(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    found = jobs.find(1)
    assert isinstance(found, LiveRecord) and found.data is not None
    assert found.data.title == "Fix boiler"
    assert jobs.find("1").data == found.data
    with pytest.raises(RecordNotFound) as raised:
        jobs.find(99)
    assert (raised.value.model, raised.value.key) == ("Job", 99)
    assert "no Job with key 99" in str(raised.value)
    with pytest.raises(InvalidQuery, match="'x' is not a valid integer"):
        jobs.find("x")
    assert jobs.find_by(title="Audit").data.priority == 5  # type: ignore[union-attr]
    assert jobs.find_by({"title": "Nope"}).data is None


def test_scopes_are_methods_with_parameters(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    assert titles(jobs.active()) == ["Fix boiler", "Audit"]
    assert titles(jobs.by_client(1)) == ["Fix boiler", "Paint hall"]
    assert titles(jobs.by_client(client_id=2).active()) == ["Audit"]
    assert titles(jobs.active().by_client("2")) == ["Audit"]
    assert titles(jobs.urgent()) == ["Audit", "Fix boiler"]
    assert titles(jobs.between_priorities(2, 3)) == ["Fix boiler", "Sweep"]
    assert jobs.by_client(1).offset(1).count() == 1


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda j: j.by_client(), "needs parameter(s) client_id"),
        (lambda j: j.by_client(1, 2), "takes 1 parameter(s) (client_id), got 2"),
        (lambda j: j.by_client(client=1), "has no parameter 'client'"),
        (lambda j: j.by_client("abc"), "'abc' is not a valid integer"),
        (lambda j: j.between_priorities(1), "needs parameter(s) high"),
    ],
)
def test_scope_parameter_mistakes(
    rr: ReactiveRecord, call: Callable[[Any], Any], says: str
) -> None:
    with pytest.raises(InvalidQuery) as raised:
        call(rr.models.Job)
    assert says in str(raised.value)


def test_unknown_methods_and_missing_plugins(rr: ReactiveRecord) -> None:
    with pytest.raises(AttributeError, match="Job has no scope or query method 'actve'"):
        rr.models.Job.actve()
    for method, dist in (
        ("with_permissions", "rr-permissions"),
        ("with_activity_logs", "rr-activity"),
        ("with_defaults", "rr-defaults"),
    ):
        with pytest.raises(PluginNotInstalled) as raised:
            getattr(rr.models.Job.where(status="x"), method)
        assert raised.value.distribution == dist
        assert f"pip install {dist}" in str(raised.value)


def test_includes_attach_related_records(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job.includes("tasks", "client", "workers", "notes").all()
    fix, paint, audit, sweep = jobs
    assert [t.title for t in fix.tasks] == ["Order part", "Fit part"]
    assert fix.client.name == "Acme" and sweep.client.name == "Globex"
    assert [u.name for u in fix.workers] == ["Ann", "Bob"]
    assert [n.body for n in paint.notes] == ["white"]
    assert sweep.tasks == () and sweep.workers == () and audit.notes == ()
    assert "tasks" not in dict(fix)  # related records are attributes, not row fields


def test_nested_includes(seeded: ReactiveRecord) -> None:
    client = seeded.models.Client.includes("jobs.tasks.notes").first()
    assert client is not None
    assert [[n.body for n in t.notes] for t in client.jobs[0].tasks] == [["ordered"], []]


def test_includes_run_one_query_per_association(build_rr: Callable[..., ReactiveRecord]) -> None:
    plugin = pytest.importorskip("rr_testplugin")
    rr = build_rr(plugins=["testplugin"], config={"testplugin": {"record": True}})
    for n in range(1, 6):
        client = rr.models.Client.create({"name": f"c{n}"})
        job = rr.models.Job.create({"title": f"job {n}", "client_id": client.id})
        for m in range(3):
            rr.models.Task.create({"job_id": job.id, "user_id": None, "title": f"t{m}"})
    state = plugin.state_of(rr)
    state.specs.clear()
    jobs = rr.models.Job.includes("tasks", "client", "workers", "tasks.notes").all()
    assert len(jobs) == 5 and all(len(j.tasks) == 3 for j in jobs)
    # Job, Task (+ Note under it), Client, and Task + User for the through association.
    assert sorted(spec.model for spec in state.specs) == [
        "Client",
        "Job",
        "Note",
        "Task",
        "Task",
        "User",
    ]


def test_building_is_lazy(build_rr: Callable[..., ReactiveRecord]) -> None:
    plugin = pytest.importorskip("rr_testplugin")
    rr = build_rr(plugins=["testplugin"], config={"testplugin": {"record": True}})
    query = rr.models.Job.where(status="active").order("-priority").limit(3).includes("tasks")
    assert plugin.state_of(rr).specs == []
    query.all()
    assert [s.model for s in plugin.state_of(rr).specs] == ["Job"]


def test_computed_values(seeded: ReactiveRecord) -> None:
    labelled = seeded.models.Job.with_computed({"label": lambda job: f"#{job.id} {job.title}"})
    first = labelled.first()
    assert first is not None and first.label == "#1 Fix boiler"
    assert "label" not in first


def test_async_fetch(seeded: ReactiveRecord) -> None:
    query = seeded.models.Job.where(status="active")
    assert asyncio.run(query.fetch()) == query.all()
