"""Reads: scoped to the user on every path (lists, counts, find, includes), or refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import SYSTEM, InvalidQuery, PermissionDenied, ReactiveRecord, RecordNotFound

from .conftest import ALICE, RAJ, STANDARD, TENANT_READ, TOM, VIEWER, job_models, seed

Build = Callable[..., ReactiveRecord]


@pytest.fixture
def rr(build: Build) -> ReactiveRecord:
    made = build({**STANDARD, "hidden_fields": {"technician": ["secret_note"]}})
    seed(made)
    return made


def test_a_read_without_a_user_is_refused(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for attempt in (jobs.all, jobs.count, jobs.first, lambda: jobs.where(status="active").all()):
        with pytest.raises(PermissionDenied) as caught:
            attempt()
        assert caught.value.action == "read"
        assert caught.value.model == "Job"
        assert "unscoped()" in str(caught.value)


def test_unscoped_reads_everything(rr: ReactiveRecord) -> None:
    assert rr.models.Job.unscoped().count() == 12


def test_hook_rr_plan_query_scopes_reads_to_the_tenant(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    mine = jobs.with_permissions(ALICE).all()
    assert mine and {job.client_id for job in mine} == {1}
    assert jobs.with_permissions(ALICE).count() == len(mine)
    assert {j.client_id for j in jobs.with_permissions(RAJ).all()} == {2}
    with rr.acting_as(RAJ):
        assert set(jobs.order("-priority").pluck("client_id")) == {2}


def test_limit_offset_and_counts_are_exact(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job.with_permissions(ALICE).order("id")
    every = [job.id for job in jobs.all()]
    assert [job.id for job in jobs.limit(2).offset(1).all()] == every[1:3]
    assert jobs.limit(3).count() == 3
    assert jobs.offset(3).count() == len(every) - 3


def test_find_of_an_unreadable_record_is_not_found(rr: ReactiveRecord) -> None:
    other = rr.models.Job.unscoped().where(client_id=2).first()
    assert other is not None
    with pytest.raises(RecordNotFound):
        rr.models.Job.with_permissions(ALICE).find(other.id)
    found = rr.models.Job.with_permissions(RAJ).find(other.id).data
    assert found is not None and found.id == other.id
    assert rr.models.Job.with_permissions(ALICE).find_by(id=other.id).data is None


def test_deny_by_default_returns_nothing(build: Build) -> None:
    rr = build({"create": True})
    seed(rr)
    assert rr.models.Job.with_permissions(ALICE).all() == ()
    assert rr.models.Job.with_permissions(ALICE).count() == 0


def test_system_reads_everything(rr: ReactiveRecord) -> None:
    with rr.acting_as(SYSTEM):
        assert rr.models.Job.count() == 12


def test_an_undeclared_action_is_an_error(rr: ReactiveRecord) -> None:
    with pytest.raises(InvalidQuery, match="no action 'asign'"):
        rr.models.Job.with_permissions(ALICE, "asign").all()


def test_hook_rr_query_methods_with_permissions_for_another_action(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    tenant = jobs.unscoped().where(client_id=1).count()
    assert tenant > 0
    assert jobs.with_permissions(VIEWER, "read").count() == tenant
    assert jobs.with_permissions(VIEWER, "update").count() == 0
    assert jobs.with_permissions(TOM, "update").count() == tenant
    assert jobs.with_permissions(TOM, "destroy").count() == 0


def test_includes_are_scoped(build: Build) -> None:
    rr = build(STANDARD, task_section={"read": {"done": True}})
    seed(rr)
    jobs = rr.models.Job.with_permissions(ALICE).includes("tasks").all()
    assert jobs
    for job in jobs:
        assert [task.done for task in job.tasks] == [True]
    tasks = rr.models.Task.with_permissions(ALICE).includes("job").all()
    assert {task.done for task in tasks} == {True}
    for task in tasks:
        assert (task.job is None) == (
            rr.models.Job.unscoped().find(task.job_id).data.client_id != 1
        )


def test_hook_rr_decorate_records_hides_fields_by_role(rr: ReactiveRecord) -> None:
    job = rr.models.Job.with_permissions(TOM).first()
    assert job is not None and "secret_note" not in job
    assert "secret_note" in (rr.models.Job.with_permissions(ALICE).first() or {})
    assert "secret_note" in (rr.models.Job.unscoped().first() or {})


def test_python_rules_fill_the_limit(build: Build, policies_on_path: str) -> None:
    rr = build(
        {
            "read": {
                "all": [
                    TENANT_READ,
                    {"type": "custom", "function": f"{policies_on_path}:even_priority"},
                ]
            }
        }
    )
    seed(rr, 60)
    expected = [
        j.id
        for j in rr.models.Job.unscoped().order("id").all()
        if j.client_id == 1 and j.priority % 2 == 0
    ]
    query = rr.models.Job.with_permissions(ALICE).order("id")
    assert [j.id for j in query.all()] == expected
    assert [j.id for j in query.limit(3).offset(2).all()] == expected[2:5]
    assert query.count() == len(expected)


def test_relative_time_rules_move_with_the_clock() -> None:
    now = [dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)]
    rr = _clocked(now)
    rr.models.Job.create({"title": "a", "due": now[0]}, user=SYSTEM)
    query = rr.models.Job.with_permissions(ALICE)
    assert query.count() == 1
    now[0] += dt.timedelta(days=2)
    assert query.count() == 0
    job = rr.models.Job.unscoped().first()
    assert not rr.authorize(ALICE, "read", rr.model_definition("Job"), job)


def _clocked(now: list[Any]) -> ReactiveRecord:
    models = job_models({"read": {"due": {"gt": {"ago": "1d"}}}})
    models["Job"]["fields"]["due"] = "datetime"
    made = ReactiveRecord(
        database="memory://",
        models=models,
        plugins=["permissions"],
        config={"system_writes": True},
        clock=lambda: now[0],
    )
    made.create_tables()
    return made
