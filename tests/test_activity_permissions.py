"""rr-activity with rr-permissions: history never crosses tenants or read rules.

The two plugins never import each other: rr-activity asks ``rr_authorize``, which
rr-permissions answers, and ActivityLog gets its own read rule through configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import SYSTEM, PermissionDenied, ReactiveRecord, RecordNotFound

rr_activity = pytest.importorskip("rr_activity")
pytest.importorskip("rr_permissions")

MODELS: dict[str, Any] = {
    "Job": {
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20},
            "client_id": {"type": "integer", "null": False},
            "secret": "text",
        },
        "features": {"activity": True, "permissions": True},
        "permissions": {
            "hidden_fields": {"technician": ["secret"]},
            "read": {"type": "client_member"},
            "create": {"type": "role_based", "roles": ["manager"]},
            "update": {"type": "role_based", "roles": ["manager", "technician"]},
            "destroy": {"type": "role_based", "roles": ["manager"]},
        },
    },
    "ActivityLog": {
        "features": {"permissions": True},
        "permissions": {"read": {"type": "client_member"}},
    },
}

ALICE = {"id": 1, "role": "manager", "client_id": 1}
TOM = {"id": 2, "role": "technician", "client_id": 1}
GUEST = {"id": 4, "role": "guest", "client_id": 1}
NINA = {"id": 3, "role": "manager", "client_id": 2}

Make = Callable[..., ReactiveRecord]


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """Two tenants' jobs, each created and updated by its manager."""
    plugins = ["activity", "permissions"] + ([] if db_url.startswith("memory") else ["sqlalchemy"])
    rr = make_rr(db_url, MODELS, plugins)
    for user in (ALICE, NINA):
        job = rr.models.Job.create({"title": "Fix", "client_id": user["client_id"]}, user=user)
        rr.models.Job.update(job.id, {"status": "active"}, user=user)
    return rr


def tenants(entries: Any) -> set[Any]:
    return {entry.client_id for entry in entries}


def test_the_log_is_read_within_the_users_tenant(rr: ReactiveRecord) -> None:
    mine = rr.models.ActivityLog.as_user(ALICE).all()
    assert len(mine) == 2 and tenants(mine) == {1}
    assert tenants(rr.models.ActivityLog.as_user(NINA).all()) == {2}
    assert len(rr.models.ActivityLog.unscoped().all()) == 4
    assert rr_activity.history(rr, "Job", 2, user=ALICE) == ()
    with rr.acting_as(ALICE):
        job = rr.models.Job.with_activity_logs(limit=5).find(1).data
        assert [e.action for e in job.activity_logs] == ["update", "create"]
        with pytest.raises(RecordNotFound):
            rr.models.Job.with_activity_logs().find(2)


def test_a_destroyed_records_history_stays_with_its_tenant(rr: ReactiveRecord) -> None:
    rr.models.Job.destroy(2, user=NINA)
    assert [e.action for e in rr_activity.history(rr, "Job", 2, user=NINA)] == [
        "destroy",
        "update",
        "create",
    ]
    assert rr_activity.history(rr, "Job", 2, user=ALICE) == ()


def test_a_handles_bound_user_and_unscoped_read_are_kept(rr: ReactiveRecord) -> None:
    # rr.models.Job.as_user(alice) says who reads, as the user= argument does.
    jobs = rr.models.Job
    assert rr_activity.history(jobs.as_user(ALICE), 2) == ()
    assert len(rr_activity.history(jobs.as_user(NINA), 2)) == 2
    assert len(rr_activity.history(jobs.as_user(ALICE).unscoped(), 2)) == 2
    assert rr_activity.version_at(jobs.as_user(ALICE), 2, rr.clock()) is None
    first = rr_activity.history(rr, "Job", 1, user=ALICE)[-1]
    with pytest.raises(PermissionDenied):
        rr_activity.revert(jobs.as_user(GUEST), 1, to=first.id)
    assert len(rr.models.ActivityLog.unscoped().all()) == 4


def test_a_moved_records_history_stays_with_the_tenant_it_was_written_in(
    make_rr: Make, db_url: str
) -> None:
    plugins = ["activity", "permissions"] + ([] if db_url.startswith("memory") else ["sqlalchemy"])
    rr = make_rr(db_url, MODELS, plugins, config={"system_writes": True})
    job = rr.models.Job.create({"title": "Fix", "client_id": 1}, user=ALICE)
    assert job.id == 1
    rr.models.Job.update(1, {"status": "tenant 1 notes"}, user=ALICE)
    rr.models.Job.unscoped().where(id=1).update_all({"client_id": 2}, user=SYSTEM)
    theirs = rr_activity.history(rr, "Job", 1, user=NINA)
    assert [e.action for e in theirs] == ["update"] and tenants(theirs) == {2}
    mine = rr_activity.history(rr, "Job", 1, user=ALICE)
    assert [e.action for e in mine] == ["update", "create"] and tenants(mine) == {1}


def test_fields_hidden_from_a_reader_are_left_out_of_the_entries_it_reads(
    rr: ReactiveRecord,
) -> None:
    rr.models.Job.update(1, {"secret": "owes 40k", "status": "late"}, user=ALICE)

    def logged(entries: Any) -> set[str]:
        return {c["field_name"] for e in entries for c in e.field_changes}

    assert {"secret", "status"} <= logged(rr_activity.history(rr, "Job", 1, user=ALICE))
    for entries in (
        rr_activity.history(rr, "Job", 1, user=TOM),
        rr.models.ActivityLog.as_user(TOM).where(entity_id="1").all(),
        rr.models.Job.as_user(TOM).with_activity_logs().find(1).data.activity_logs,
    ):
        assert "status" in logged(entries) and "secret" not in logged(entries)
    assert rr_activity.version_at(rr.models.Job.as_user(TOM), 1, rr.clock()) is not None


def test_client_entries_for_another_tenants_record_are_refused(rr: ReactiveRecord) -> None:
    theirs = rr.models.Job.unscoped().where(id=2).one()
    entry = rr_activity.generate(rr, theirs, {"status": "done"}, ALICE)
    with pytest.raises(rr_activity.ActivityRejected, match="may not read Job 2"):
        rr_activity.validate(rr, json.loads(json.dumps(entry)), ALICE)
    assert len(rr.models.ActivityLog.unscoped().all()) == 4


def test_revert_is_authorized_like_any_update(rr: ReactiveRecord) -> None:
    created = rr_activity.history(rr, "Job", 1, user=ALICE)[-1]
    with pytest.raises(PermissionDenied):
        rr_activity.revert(rr, "Job", 1, to=created.id, user=GUEST)
    assert len(rr.models.ActivityLog.unscoped().all()) == 4
    job = rr_activity.revert(rr, "Job", 1, to=created.id, user=TOM)
    assert job.status is None
    assert rr_activity.history(rr, "Job", 1, user=TOM)[0].action == "revert"


def test_bulk_writes_log_only_what_the_user_may_change(rr: ReactiveRecord) -> None:
    # A bulk write is scoped to the rows the user may update: the guest's matches none.
    assert rr.models.Job.update_all({"status": "done"}, user=GUEST) == 0
    assert len(rr.models.ActivityLog.unscoped().all()) == 4
    assert rr.models.Job.update_all({"status": "done"}, user=ALICE) == 1
    updates = rr.models.ActivityLog.unscoped().where(action="update").all()
    assert sorted(entry.client_id for entry in updates) == [1, 1, 2]
