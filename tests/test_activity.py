"""rr-activity on every database: what each write logs, reading the log, versions.

Entries are written by the engine's ``rr_on_write`` in the change's own transaction; the
tests read them back through the public API only (``rr.models.ActivityLog``,
``with_activity_logs``, ``rr_activity.history``...).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from reactive_record import (
    SYSTEM,
    InvalidQuery,
    PermissionDenied,
    ReactiveRecord,
    Record,
    RecordNotFound,
    ValidationError,
)

rr_activity = pytest.importorskip("rr_activity")

MODELS: dict[str, Any] = {
    "Client": {"fields": {"name": {"type": "string", "length": 50}}},
    "User": {
        "fields": {"name": {"type": "string", "length": 50}, "client_id": "integer"},
    },
    "Job": {
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20, "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "client_id": "integer",
            "due_date": "date",
            "budget": {"type": "decimal", "precision": 12, "scale": 4},
            "ref": "uuid",
            "payload": "json",
            "started_at": "datetime",
            "ratio": "float",
            "done": "boolean",
            "secret": {"type": "string", "length": 50},
            "lock_version": "integer",
        },
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
        "features": {"activity": True},
        "activity": {"redact": ["secret"], "actions": ["assign"]},
    },
    "Task": {
        "fields": {"job_id": "integer", "title": {"type": "string", "length": 50}},
        "belongs_to": {"job": {"model": "Job"}},
        "features": {"activity": True},
        "activity": {"track_fields": ["title"]},
    },
    "Note": {"fields": {"body": {"type": "string", "length": 50}}},
}

ALICE = {"id": 7, "name": "alice", "client_id": 1}
BOB = {"id": 8, "name": "bob", "client_id": 1}

Make = Callable[..., ReactiveRecord]


def plugins_for(url: str, *extra: str) -> list[str]:
    """The plugins an instance on ``url`` loads: the store (for SQL), activity, ``extra``."""
    return ["activity", *extra] + ([] if url.startswith("memory") else ["sqlalchemy"])


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """An instance with the activity plugin on ``db_url``."""
    return make_rr(db_url, MODELS, plugins_for(db_url))


def logs(rr: ReactiveRecord, **where: Any) -> tuple[Record, ...]:
    """Every entry matching ``where``, oldest first."""
    return rr.models.ActivityLog.unscoped().where(where).order("created_at", "id").all()


def changes(entry: Record) -> dict[str, tuple[Any, Any]]:
    """An entry's field changes as ``{field: (old, new)}``."""
    return {c["field_name"]: (c["old_value"], c["new_value"]) for c in entry.field_changes}


def new_job(rr: ReactiveRecord, user: Any = ALICE, **values: Any) -> Record:
    """A job created as ``user``."""
    row: dict[str, Any] = {"title": "Fix", "client_id": 1}
    row.update(values)
    job: Record = rr.models.Job.create(row, user=user)
    return job


# -- what a write logs ------------------------------------------------------------------


def test_create_update_destroy_each_write_one_entry(rr: ReactiveRecord) -> None:
    job = new_job(rr, priority=3)
    rr.models.Job.update(job.id, {"status": "active"}, user=ALICE)
    rr.models.Job.destroy(job.id, user=BOB)
    created, updated, destroyed = logs(rr, entity_type="Job")
    assert [e.action for e in (created, updated, destroyed)] == ["create", "update", "destroy"]
    assert {e.entity_id for e in (created, updated, destroyed)} == {str(job.id)}
    assert created.user_id == "7" and destroyed.user_id == "8"
    assert created.client_id == 1
    assert changes(created) == {
        "title": (None, "Fix"),
        "status": (None, "pending"),
        "priority": (None, 3),
        "client_id": (None, 1),
    }
    assert changes(updated) == {"status": ("pending", "active")}
    assert changes(destroyed)["status"] == ("active", None)
    assert "lock_version" not in changes(created)
    assert isinstance(updated.id, uuid.UUID)
    assert updated.created_at.tzinfo is not None
    assert updated.metadata["client_generated"] is False
    assert set(updated.metadata) >= {"timestamp", "host", "process", "request_id"}


def test_a_change_with_no_tracked_difference_writes_nothing(rr: ReactiveRecord) -> None:
    job = new_job(rr)
    task = rr.models.Task.create({"job_id": job.id, "title": "a"}, user=ALICE)
    before = len(logs(rr))
    rr.models.Job.update(job.id, {"title": "Fix", "status": "pending"}, user=ALICE)
    rr.models.Task.update(task.id, {"job_id": job.id}, user=ALICE)  # untracked field
    rr.models.Note.create({"body": "not logged"}, user=ALICE)
    assert len(logs(rr)) == before
    rr.models.Task.update(task.id, {"title": "b"}, user=ALICE)
    assert changes(logs(rr)[-1]) == {"title": ("a", "b")}


def test_redacted_fields_log_redacted_for_both_values(rr: ReactiveRecord) -> None:
    job = new_job(rr, secret="s3cret")
    rr.models.Job.update(job.id, {"secret": "other"}, user=ALICE)
    created, updated = logs(rr, entity_type="Job")
    assert changes(created)["secret"] == ("[REDACTED]", "[REDACTED]")
    assert changes(updated) == {"secret": ("[REDACTED]", "[REDACTED]")}


def test_values_of_every_type_round_trip_through_the_log(rr: ReactiveRecord) -> None:
    values = {
        "due_date": dt.date(2024, 2, 29),
        "budget": Decimal("1234.5600"),
        "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "payload": {"a": [1, 2.5, None, {"b": "c"}], "ü": True},
        "started_at": dt.datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=dt.timezone.utc),
        "ratio": 0.1,
        "done": True,
    }
    job = new_job(rr)
    stored = rr.models.Job.update(job.id, values, user=ALICE)
    logged = changes(logs(rr, entity_type="Job")[-1])
    for name in values:
        old, new = logged[name]
        assert old is None
        assert new == stored[name] and type(new) is type(stored[name]), name


def test_a_write_without_an_actor_is_refused(rr: ReactiveRecord) -> None:
    with pytest.raises(PermissionDenied, match="acting user"):
        rr.models.Job.create({"title": "x", "client_id": 1})
    assert logs(rr) == () and rr.models.Job.count() == 0
    with rr.acting_as(ALICE):
        rr.models.Job.create({"title": "x", "client_id": 1})
    assert logs(rr)[0].user_id == "7"


@pytest.mark.parametrize("user", [{"role": "admin"}, {"id": ""}, {"id": None, "pk": 3}])
def test_a_user_without_an_id_is_refused_not_logged_as_system(
    make_rr: Make, db_url: str, user: dict[str, Any]
) -> None:
    rr = make_rr(db_url, MODELS, plugins_for(db_url), config={"system_writes": True})
    with pytest.raises(PermissionDenied, match="a user with an id"):
        rr.models.Job.create({"title": "x", "client_id": 1}, user=user)
    assert logs(rr) == () and rr.models.Job.count() == 0


def test_a_logged_records_primary_key_cannot_change(rr: ReactiveRecord) -> None:
    # Its history is kept under its key: a new key would orphan it, and the old key's
    # history would pass to whichever record gets that key next.
    job = new_job(rr)
    before = logs(rr)
    with pytest.raises(ValidationError) as raised:
        rr.models.Job.update(job.id, {"id": job.id + 100, "title": "moved"}, user=ALICE)
    assert list(raised.value.messages) == ["id"]
    assert logs(rr) == before and rr.models.Job.find(job.id).data == job
    assert rr.models.Job.update(job.id, {"id": job.id, "title": "kept"}, user=ALICE)


def test_system_writes_are_attributed_to_system(make_rr: Make, db_url: str) -> None:
    rr = make_rr(db_url, MODELS, plugins_for(db_url), config={"system_writes": True})
    job = rr.models.Job.create({"title": "x", "client_id": 1})
    rr.models.Job.update(job.id, {"status": "active"}, user=SYSTEM)
    assert [e.user_id for e in logs(rr)] == ["system", "system"]


def test_bulk_writes_log_one_entry_per_row_with_its_old_values(rr: ReactiveRecord) -> None:
    jobs = [new_job(rr, title=f"Job {n}", priority=n) for n in range(3)]
    count = rr.models.Job.where(status="pending").update_all({"priority": 9}, user=ALICE)
    assert count == 3
    updates = logs(rr, action="update")
    assert sorted(changes(e)["priority"] for e in updates) == [(0, 9), (1, 9), (2, 9)]
    assert len({e.transaction_id for e in updates}) == 1
    assert sorted(e.entity_id for e in updates) == sorted(str(j.id) for j in jobs)
    assert rr.models.Job.where(priority=9).destroy_all(user=ALICE) == 3
    destroys = logs(rr, action="destroy")
    assert sorted(changes(e)["title"][0] for e in destroys) == ["Job 0", "Job 1", "Job 2"]


def test_cascaded_destroys_log_their_children_in_the_same_transaction(rr: ReactiveRecord) -> None:
    job = new_job(rr)
    for title in ("a", "b"):
        rr.models.Task.create({"job_id": job.id, "title": title}, user=ALICE)
    rr.models.Job.destroy(job.id, user=ALICE)
    destroys = logs(rr, action="destroy")
    assert sorted((e.entity_type, changes(e).get("title", (None,))[0]) for e in destroys) == [
        ("Job", "Fix"),
        ("Task", "a"),
        ("Task", "b"),
    ]
    assert len({e.transaction_id for e in destroys}) == 1
    created = logs(rr, action="create")
    assert len({e.transaction_id for e in created}) == 3


def test_one_transaction_shares_one_transaction_id(rr: ReactiveRecord) -> None:
    with rr.transaction():
        first = new_job(rr)
        rr.models.Job.update(first.id, {"status": "active"}, user=ALICE)
        new_job(rr, title="Other")
    assert len({e.transaction_id for e in logs(rr)}) == 1


def test_the_log_is_append_only_through_the_engine(rr: ReactiveRecord) -> None:
    new_job(rr)
    entry = logs(rr)[0]
    with pytest.raises(PermissionDenied, match="append-only"):
        rr.models.ActivityLog.update(entry.id, {"action": "forged"}, user=ALICE)
    with pytest.raises(PermissionDenied, match="append-only"):
        rr.models.ActivityLog.destroy(entry.id, user=SYSTEM)
    assert logs(rr)[0] == entry


def test_context_adds_metadata_and_renames_the_action(rr: ReactiveRecord) -> None:
    job = new_job(rr)
    with rr_activity.context(request_id="req-1", ip="10.0.0.1"):
        with rr_activity.context(action="assign", when=dt.date(2024, 1, 2)):
            rr.models.Job.update(job.id, {"priority": 5}, user=ALICE)
        rr.models.Job.update(job.id, {"priority": 4}, user=ALICE)
    rr.models.Job.update(job.id, {"priority": 3}, user=ALICE)
    assign, inner, outer = logs(rr)[1:]
    assert assign.action == "assign"
    assert assign.metadata["request_id"] == "req-1" and assign.metadata["when"] == "2024-01-02"
    assert inner.action == "update" and inner.metadata["ip"] == "10.0.0.1"
    assert outer.metadata["request_id"] is None and "ip" not in outer.metadata


# -- reading ----------------------------------------------------------------------------


def frozen_clock() -> Iterator[dt.datetime]:
    moment = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    while True:
        yield moment


def test_with_activity_logs_is_newest_first_even_in_one_instant(make_rr: Make, db_url: str) -> None:
    ticks = frozen_clock()
    rr = make_rr(db_url, MODELS, plugins_for(db_url), clock=lambda: next(ticks))
    job = new_job(rr)
    other = new_job(rr, title="Other")
    for priority in range(3, 8):
        rr.models.Job.update(job.id, {"priority": priority}, user=ALICE)
    found = rr.models.Job.with_activity_logs(limit=3).find(job.id).data
    assert [changes(e)["priority"][1] for e in found.activity_logs] == [7, 6, 5]
    every = rr.models.Job.includes("activity_logs").find(job.id).data.activity_logs
    assert [e.action for e in every] == ["update"] * 5 + ["create"]
    both = rr.models.Job.with_activity_logs(limit=2).order("id").all()
    assert [len(j.activity_logs) for j in both] == [2, 1]
    assert both[1].activity_logs[0].entity_id == str(other.id)
    assert rr.models.Job.with_activity_logs().find(job.id).data.activity_logs == every
    with pytest.raises(InvalidQuery):
        rr.models.Job.with_activity_logs(limit=-1)


def test_history_is_newest_first_and_survives_the_record(rr: ReactiveRecord) -> None:
    job = new_job(rr)
    rr.models.Job.update(job.id, {"status": "active"}, user=ALICE)
    rr.models.Job.destroy(job.id, user=ALICE)
    entries = rr_activity.history(rr, "Job", job.id)
    assert [e.action for e in entries] == ["destroy", "update", "create"]
    assert rr_activity.history(rr, rr.models.Job, str(job.id), limit=1) == entries[:1]
    with pytest.raises(InvalidQuery, match="does not keep an activity log"):
        rr_activity.history(rr, "Note", 1)


def test_where_on_the_log_and_entry_user(make_rr: Make, db_url: str) -> None:
    config = {"activity": {"user_model": "User"}, "system_writes": True}
    rr = make_rr(db_url, MODELS, plugins_for(db_url), config=config)
    alice = rr.models.User.create({"name": "alice", "client_id": 1})
    job = new_job(rr, user=alice)
    rr.models.Job.update(job.id, {"status": "active"}, user=SYSTEM)
    mine = rr.models.ActivityLog.where(user_id=str(alice.id)).all()
    assert [e.action for e in mine] == ["create"]
    assert mine[0].user.name == "alice"
    entries = rr.models.Job.with_activity_logs().find(job.id).data.activity_logs
    assert [e.user.name if e.user else None for e in entries] == [None, "alice"]


def test_entries_inherit_their_record_read_permission(make_rr: Make, db_url: str) -> None:
    pytest.importorskip("rr_testplugin")
    models = {name: dict(table) for name, table in MODELS.items()}
    models["Job"] = {
        **MODELS["Job"],
        "features": {"activity": True, "testplugin": True},
        "testplugin": {"deny": ["read"]},
    }
    rr = make_rr(db_url, models, plugins_for(db_url, "testplugin"))
    job = new_job(rr)
    rr.models.Task.create({"job_id": job.id, "title": "a"}, user=ALICE)
    visible = rr.models.ActivityLog.as_user(ALICE).all()
    assert [e.entity_type for e in visible] == ["Task"]
    assert rr_activity.history(rr, "Job", job.id, user=ALICE) == ()
    assert len(rr.models.ActivityLog.unscoped().all()) == 2


# -- versions ---------------------------------------------------------------------------


def test_version_at_rewinds_tracked_fields(rr: ReactiveRecord) -> None:
    job = new_job(rr, priority=1)
    moments = []
    for status in ("active", "done"):
        moments.append(logs(rr)[-1].created_at)
        rr.models.Job.update(job.id, {"status": status, "priority": 2}, user=ALICE)
    with rr.acting_as(ALICE):
        first = rr_activity.version_at(rr, "Job", job.id, moments[0])
        second = rr_activity.version_at(rr, "Job", job.id, moments[1])
        before = rr_activity.version_at(rr, "Job", job.id, moments[0] - dt.timedelta(days=1))
    assert (first.status, first.priority) == ("pending", 1)
    assert (second.status, second.priority) == ("active", 2)
    assert first.id == job.id and before is None


def test_revert_is_a_new_logged_change(rr: ReactiveRecord) -> None:
    job = new_job(rr)
    rr.models.Job.update(job.id, {"status": "active", "priority": 5}, user=ALICE)
    rr.models.Job.update(job.id, {"title": "Fixed"}, user=ALICE)
    created = logs(rr)[0]
    restored = rr_activity.revert(rr, "Job", job.id, to=created.id, user=BOB)
    assert (restored.title, restored.status, restored.priority) == ("Fix", "pending", 2)
    last = logs(rr)[-1]
    assert last.action == "revert" and last.user_id == "8"
    assert last.metadata["reverted_to"] == str(created.id)
    assert changes(last) == {
        "title": ("Fixed", "Fix"),
        "status": ("active", "pending"),
        "priority": (5, 2),
    }
    with pytest.raises(PermissionDenied):
        rr_activity.revert(rr, "Job", job.id, to=logs(rr)[1].id)
    with pytest.raises(RecordNotFound):
        rr_activity.revert(rr, "Job", job.id, to=uuid.uuid4(), user=BOB)


def test_revert_recreates_a_destroyed_record(rr: ReactiveRecord) -> None:
    job = new_job(rr, priority=4)
    rr.models.Job.destroy(job.id, user=ALICE)
    created, destroyed = logs(rr)
    with pytest.raises(rr_activity.RevertError):
        rr_activity.revert(rr, "Job", job.id, to=destroyed.id, user=ALICE)
    again = rr_activity.revert(rr, "Job", job.id, to=created.id, user=ALICE)
    assert (again.id, again.title, again.priority) == (job.id, "Fix", 4)
    assert logs(rr)[-1].action == "revert"


# -- the table --------------------------------------------------------------------------


def test_the_log_table_is_in_the_metadata_with_its_index(make_rr: Make, sql_db_url: str) -> None:
    rr = make_rr(sql_db_url, MODELS, plugins_for(sql_db_url))
    table = rr.metadata.tables["activity_logs"]
    assert {"id", "entity_type", "entity_id", "field_changes", "metadata", "hash"} <= set(
        table.columns.keys()
    )
    indexed = [tuple(c.name for c in index.columns) for index in table.indexes]
    # Only the declared index: the association's (entity_type, entity_id) lookups use it,
    # so no index of the association's own (each one costs every logged write).
    assert indexed == [("entity_type", "entity_id", "created_at")]
    import sqlalchemy as sa  # only where a SQL store is installed (not in core-only runs)

    found = sa.inspect(rr.store.engine)  # type: ignore[attr-defined]
    assert [ix["column_names"] for ix in found.get_indexes("activity_logs")] == [
        ["entity_type", "entity_id", "created_at"]
    ]


def test_records_keyed_by_uuid(make_rr: Make, db_url: str) -> None:
    models = {
        "Device": {
            "primary_key": "uuid",
            "fields": {"uuid": {"type": "uuid", "primary_key": True}, "name": "string"},
            "features": {"activity": True},
        }
    }
    rr = make_rr(db_url, models, plugins_for(db_url))
    key = uuid.UUID("0190f3a2-0000-7000-8000-000000000001")
    rr.models.Device.create({"uuid": key, "name": "pump"}, user=ALICE)
    rr.models.Device.update(key, {"name": "valve"}, user=ALICE)
    entries = rr.models.Device.with_activity_logs().find(key).data.activity_logs
    assert [e.action for e in entries] == ["update", "create"]
    assert {(e.entity_id, e.entity_uuid) for e in entries} == {(str(key), key)}
    assert rr_activity.history(rr, "Device", str(key)) == entries


def test_the_log_and_with_activity_logs_are_live(rr: ReactiveRecord) -> None:
    job = new_job(rr)
    counts: list[int] = []
    included: list[list[str]] = []
    stop_log = rr.models.ActivityLog.unscoped().subscribe(lambda s: counts.append(len(s.data)))
    query = rr.models.Job.with_activity_logs(limit=2).where(id=job.id)
    stop_job = query.subscribe(
        lambda s: included.append([e.action for e in s.data[0].activity_logs])
    )
    rr.models.Job.update(job.id, {"status": "active"}, user=ALICE)
    entry = rr_activity.generate(rr, job, {"title": "Fixed"}, ALICE, "assign")
    rr_activity.validate(rr, entry, ALICE)
    stop_log()
    stop_job()
    assert counts == [1, 2, 3]
    assert included == [["create"], ["update", "create"], ["assign", "update"]]


def test_history_versions_and_revert_take_the_models_handle(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    job = new_job(rr)
    jobs.update(job.id, {"status": "active"}, user=ALICE)
    entries = rr_activity.history(jobs, job.id, user=ALICE)
    assert entries == rr_activity.history(rr, "Job", job.id, user=ALICE)
    created = entries[-1]
    with rr.acting_as(ALICE):
        assert rr_activity.version_at(jobs, job.id, created.created_at).status == "pending"
    restored = rr_activity.revert(jobs, job.id, to=created.id, user=ALICE)
    assert restored.status == "pending"
    with pytest.raises(TypeError, match="model handle"):
        rr_activity.history("Job", job.id)
    with pytest.raises(TypeError, match="1 more argument"):
        rr_activity.history(jobs, job.id, 3)
