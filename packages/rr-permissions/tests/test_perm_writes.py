"""Writes: checked in the transaction before and after; refusals name the rule; nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from reactive_record import SYSTEM, PermissionDenied, ReactiveRecord, RecordNotFound

from .conftest import ALICE, MARIA, STANDARD, TOM, VIEWER, seed

Build = Callable[..., ReactiveRecord]
FIELDS = {"permitted_fields": {"update": {"technician": ["status", "description"]}}}


@pytest.fixture
def rr(build: Build) -> ReactiveRecord:
    made = build({**STANDARD, **FIELDS})
    seed(made)
    return made


def snapshot(rr: ReactiveRecord) -> list[dict[str, Any]]:
    return [dict(job) for job in rr.models.Job.unscoped().order("id").all()] + [
        dict(task) for task in rr.models.Task.unscoped().order("id").all()
    ]


@contextmanager
def unchanged(rr: ReactiveRecord) -> Iterator[None]:
    before = snapshot(rr)
    yield
    assert snapshot(rr) == before


def a_job(rr: ReactiveRecord, client_id: int) -> Any:
    job = rr.models.Job.unscoped().where(client_id=client_id).order("id").first()
    assert job is not None
    return job


def test_hook_rr_authorize_change_refusal_reads_like_a_sentence(rr: ReactiveRecord) -> None:
    job = a_job(rr, 1)
    with unchanged(rr), pytest.raises(PermissionDenied) as caught:
        rr.models.Job.update(job.id, {"status": "active"}, user=VIEWER)
    error = caught.value
    assert str(error) == (
        f"not allowed to update Job {job.id}: requires role admin, manager or technician"
    )
    assert (error.action, error.model, error.key, error.user_id) == ("update", "Job", job.id, 5)
    assert error.rule == "requires role admin, manager or technician"


def test_allowed_writes_go_through(rr: ReactiveRecord) -> None:
    job = a_job(rr, 1)
    assert rr.models.Job.update(job.id, {"status": "active"}, user=TOM).status == "active"
    created = rr.models.Job.create({"title": "new", "client_id": 1}, user=MARIA)
    assert created.client_id == 1
    rr.models.Job.destroy(created.id, user=ALICE)
    assert rr.models.Job.unscoped().find_by(id=created.id).data is None


def test_an_unreadable_record_is_not_found_on_write(rr: ReactiveRecord) -> None:
    job = a_job(rr, 2)
    with unchanged(rr):
        for attempt in (
            lambda: rr.models.Job.update(job.id, {"status": "active"}, user=ALICE),
            lambda: rr.models.Job.destroy(job.id, user=ALICE),
        ):
            with pytest.raises(RecordNotFound):
                attempt()


def test_moving_a_record_out_of_reach_is_refused(rr: ReactiveRecord) -> None:
    job = a_job(rr, 1)
    with unchanged(rr), pytest.raises(PermissionDenied) as caught:
        rr.models.Job.update(job.id, {"client_id": 2}, user=ALICE)
    assert "client_id to equal the user's client_id" in str(caught.value)
    assert "as it would be written" in str(caught.value)


def test_creating_for_another_tenant_or_role_is_refused(rr: ReactiveRecord) -> None:
    with unchanged(rr):
        with pytest.raises(PermissionDenied, match="client_id to equal"):
            rr.models.Job.create({"title": "x", "client_id": 2}, user=MARIA)
        with pytest.raises(PermissionDenied, match="requires role admin or manager"):
            rr.models.Job.create({"title": "x", "client_id": 1}, user=TOM)


def test_hook_rr_rewrite_change_notes_written_fields_so_forbidden_ones_are_named(
    rr: ReactiveRecord,
) -> None:
    job = a_job(rr, 1)
    with unchanged(rr), pytest.raises(PermissionDenied) as caught:
        rr.models.Job.update(job.id, {"status": "active", "priority": 5}, user=TOM)
    assert caught.value.field == "priority"
    assert "may not write priority (may write: description, status)" in str(caught.value)
    # writing a forbidden field's current value changes nothing, so it is not refused
    same = rr.models.Job.update(job.id, {"status": "active", "priority": job.priority}, user=TOM)
    assert same.status == "active"
    assert rr.models.Job.update(job.id, {"priority": 5}, user=MARIA).priority == 5


def test_writes_without_a_user_are_refused(build: Build) -> None:
    rr = build({**STANDARD, **FIELDS}, system_writes=False)
    job = rr.models.Job.create({"title": "t", "client_id": 1}, user=ALICE)
    with unchanged(rr), pytest.raises(PermissionDenied, match="no acting user"):
        rr.models.Job.update(job.id, {"status": "active"})
    with unchanged(rr), pytest.raises(PermissionDenied, match="no acting user"):
        rr.models.Job.where(client_id=1).destroy_all()
    with rr.acting_as(TOM):
        assert rr.models.Job.update(job.id, {"status": "active"}).status == "active"


def test_writes_without_a_user_are_system_writes_where_allowed(rr: ReactiveRecord) -> None:
    job = a_job(rr, 1)
    assert rr.models.Job.update(job.id, {"status": "active"}).status == "active"


def test_system_writes_follow_the_setting(build: Build) -> None:
    allowed = build(STANDARD, system_writes=True)
    assert allowed.models.Job.create({"title": "s", "client_id": 3}, user=SYSTEM).id
    refused = build(STANDARD, system_writes=False)
    with pytest.raises(PermissionDenied, match="system_writes = true"):
        refused.models.Job.create({"title": "s", "client_id": 3}, user=SYSTEM)
    assert refused.models.Job.unscoped().count() == 0


def test_bulk_writes_touch_only_permitted_rows_and_check_each(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    pending = {j.id: j.client_id for j in jobs.unscoped().where(status="pending").all()}
    assert set(pending.values()) > {1}
    assert jobs.where(status="pending").update_all({"status": "active"}, user=TOM) == sum(
        1 for client in pending.values() if client == 1
    )
    still = {j.id for j in jobs.unscoped().where(status="pending").all()}
    assert still == {key for key, client in pending.items() if client != 1}
    with unchanged(rr), pytest.raises(PermissionDenied):
        jobs.where(status="active").update_all({"client_id": 3}, user=ALICE)
    with unchanged(rr), pytest.raises(PermissionDenied):
        jobs.where(status="active").update_all({"priority": 1}, user=TOM)
    with unchanged(rr):
        assert jobs.where(status="completed").destroy_all(user=TOM) == 0


def test_a_refusal_inside_a_transaction_rolls_back_everything(rr: ReactiveRecord) -> None:
    job = a_job(rr, 1)
    with unchanged(rr), pytest.raises(PermissionDenied), rr.transaction():
        rr.models.Job.update(job.id, {"status": "active"}, user=TOM)
        rr.models.Job.create({"title": "x", "client_id": 1}, user=MARIA)
        rr.models.Job.update(job.id, {"client_id": 2}, user=MARIA)


def test_association_rules_check_writes_against_the_transactions_rows(build: Build) -> None:
    through_job = {"job": {"any": {"client_id": {"user": "client_id"}}}}
    rr = build(STANDARD, task_section={"read": through_job, "create": through_job})
    seed(rr)
    mine = a_job(rr, 1)
    theirs = a_job(rr, 2)
    task = rr.models.Task.create({"title": "ok", "job_id": mine.id}, user=TOM)
    assert rr.models.Task.with_permissions(TOM).find(task.id).data is not None
    with unchanged(rr), pytest.raises(PermissionDenied, match="any job with client_id"):
        rr.models.Task.create({"title": "no", "job_id": theirs.id}, user=TOM)
    with rr.transaction():  # the job moves in this transaction; the check sees it
        rr.models.Job.update(theirs.id, {"client_id": 1}, user=SYSTEM)
        assert rr.models.Task.create({"title": "now ok", "job_id": theirs.id}, user=TOM).id
