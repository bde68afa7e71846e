"""Client-generated entries: ``generate`` where the change happens, ``validate`` on the server.

Each refusal is an ``ActivityRejected`` with a reason, and a refused entry stores nothing.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import SYSTEM, ActivityRejected, ReactiveRecord, Record

rr_activity = pytest.importorskip("rr_activity")

MODELS: dict[str, Any] = {
    "Job": {
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20},
            "priority": "integer",
            "client_id": "integer",
            "secret": {"type": "string", "length": 50},
            "note": {"type": "string", "length": 50},
        },
        "features": {"activity": True},
        "activity": {
            "track_fields": ["title", "status", "priority", "secret"],
            "redact": ["secret"],
            "actions": ["assign"],
        },
    },
    "Note": {"fields": {"body": {"type": "string", "length": 50}}},
}

ALICE = {"id": 7, "client_id": 1}
BOB = {"id": 8, "client_id": 1}

Make = Callable[..., ReactiveRecord]


def plugins_for(url: str, *extra: str) -> list[str]:
    """The store (for SQL), activity, and ``extra``."""
    return ["activity", *extra] + ([] if url.startswith("memory") else ["sqlalchemy"])


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """An instance with the activity plugin and one job."""
    rr = make_rr(db_url, MODELS, plugins_for(db_url))
    rr.models.Job.create({"title": "Fix", "status": "pending", "client_id": 1}, user=ALICE)
    return rr


def job(rr: ReactiveRecord) -> Record:
    """The job, as the client read it."""
    found: Record = rr.models.Job.order("id").first()
    return found


def entry_count(rr: ReactiveRecord) -> int:
    """How many entries the log holds."""
    return int(rr.models.ActivityLog.unscoped().count())


def made(rr: ReactiveRecord, user: Any = ALICE, **changes: Any) -> dict[str, Any]:
    """A generated update entry, as it arrives over the wire (through JSON)."""
    entry = rr_activity.generate(rr, job(rr), changes or {"status": "active"}, user)
    assert entry is not None
    wire: dict[str, Any] = json.loads(json.dumps(entry))
    return wire


def test_generate_then_validate_stores_the_entry(rr: ReactiveRecord) -> None:
    before = entry_count(rr)
    entry = made(rr, status="active", priority=3, note="untracked", secret="s")
    assert entry["metadata"]["client_generated"] is True
    assert {c["field_name"] for c in entry["field_changes"]} == {"status", "priority", "secret"}
    stored = rr_activity.validate(rr, entry, ALICE)
    assert entry_count(rr) == before + 1
    assert str(stored.id) == entry["id"] and stored.user_id == "7"
    assert stored.metadata["client_generated"] is True
    assert stored.client_id == 1 and stored.transaction_id is not None
    history = rr_activity.history(rr, "Job", job(rr).id)
    assert history[0] == stored
    assert {c["field_name"]: c["new_value"] for c in history[0].field_changes} == {
        "status": "active",
        "priority": 3,
        "secret": "[REDACTED]",
    }


def test_generate_logs_nothing_for_a_no_op(rr: ReactiveRecord) -> None:
    assert rr_activity.generate(rr, job(rr), {"status": "pending", "note": "x"}, ALICE) is None


def test_generated_entries_round_trip_through_the_schema(rr: ReactiveRecord) -> None:
    entry = made(rr, priority=4)
    schema = rr_activity.EntrySchema()
    assert schema.dump(schema.load(entry)) == {
        **entry,
        **{k: None for k in ("sequence", "prev_hash", "hash")},
    }


def refused(rr: ReactiveRecord, entry: Any, user: Any = ALICE) -> ActivityRejected:
    """Validate ``entry``, which must be refused without storing anything."""
    before = entry_count(rr)
    with pytest.raises(ActivityRejected) as caught:
        rr_activity.validate(rr, entry, user)
    assert entry_count(rr) == before
    return caught.value


def test_refuses_another_users_attribution(rr: ReactiveRecord) -> None:
    error = refused(rr, made(rr, user=BOB))
    assert "attributed to user '8'" in error.reason and "'7'" in error.reason
    refused(rr, made(rr), user=None)


def test_refuses_an_unknown_entity(rr: ReactiveRecord) -> None:
    entry = made(rr)
    assert "no Job 999" in refused(rr, {**entry, "entity_id": "999"}).reason
    assert "no Job abc" in refused(rr, {**entry, "entity_id": "abc"}).reason
    assert "unknown entity type 'Ghost'" in refused(rr, {**entry, "entity_type": "Ghost"}).reason
    assert "does not keep" in refused(rr, {**entry, "entity_type": "Note"}).reason


def test_refuses_an_entity_the_user_cannot_read(make_rr: Make, db_url: str) -> None:
    pytest.importorskip("rr_testplugin")
    models = copy.deepcopy(MODELS)
    models["Job"]["features"]["testplugin"] = True
    models["Job"]["testplugin"] = {"deny": ["read"]}
    rr = make_rr(db_url, models, plugins_for(db_url, "testplugin"))
    rr.models.Job.create({"title": "Fix", "client_id": 1}, user=ALICE)
    error = refused(rr, made(rr))
    assert error.reason == f"user '7' may not read Job {job(rr).id}"


def test_refuses_untracked_and_unknown_fields_and_wrong_types(rr: ReactiveRecord) -> None:
    entry = made(rr)
    change = entry["field_changes"][0]
    untracked = {**entry, "field_changes": [{**change, "field_name": "note"}]}
    assert refused(rr, untracked).reason == "field 'note' of Job is not tracked"
    unknown = {**entry, "field_changes": [{**change, "field_name": "nope"}]}
    assert refused(rr, unknown).reason == "Job has no field 'nope'"
    as_int = {**change, "data_type": "integer", "old_value": 1, "new_value": 3}
    typed = {**entry, "field_changes": [as_int]}
    assert "is string, not integer" in refused(rr, typed).reason
    twice = {**entry, "field_changes": [change, change]}
    assert "changed twice" in refused(rr, twice).reason
    empty = {**entry, "field_changes": []}
    assert "must change a tracked field" in refused(rr, empty).reason


def test_refuses_malformed_entries_with_marshmallows_messages(rr: ReactiveRecord) -> None:
    entry = made(rr)
    missing = {k: v for k, v in entry.items() if k != "action"}
    error = refused(rr, missing)
    assert isinstance(error, rr_activity.MalformedEntry)
    assert error.messages == {"action": ["Missing data for required field."]}
    assert "action: Missing data for required field." in error.reason
    bad_type = copy.deepcopy(entry)
    bad_type["field_changes"][0]["data_type"] = "colour"
    error = refused(rr, bad_type)
    assert "field_changes.0.data_type: Must be one of" in error.reason
    bad_value = copy.deepcopy(entry)
    bad_value["field_changes"][0].update(data_type="date", new_value="soon")
    assert "Not a valid date." in refused(rr, bad_value).reason
    assert "Unknown field." in refused(rr, {**entry, "extra": 1}).reason
    assert "Not a valid UUID." in refused(rr, {**entry, "id": "x"}).reason
    refused(rr, ["not", "a", "mapping"])


def test_refuses_unknown_actions_and_duplicate_ids(rr: ReactiveRecord) -> None:
    entry = made(rr)
    assert "unknown action 'erase'" in refused(rr, {**entry, "action": "erase"}).reason
    rr_activity.validate(rr, {**entry, "action": "assign"}, ALICE)
    assert "already exists" in refused(rr, entry).reason


def test_the_server_owns_tenant_time_and_redaction(rr: ReactiveRecord) -> None:
    entry = made(rr, secret="visible")
    for change in entry["field_changes"]:
        if change["field_name"] == "secret":
            change["new_value"] = "leaked by the client"
    forged = {
        **entry,
        "client_id": 99,
        "created_at": "2000-01-01T00:00:00+00:00",
        "transaction_id": str(uuid.uuid4()),
        "metadata": {"client_generated": False, "device": "phone"},
    }
    stored = rr_activity.validate(rr, forged, ALICE)
    assert stored.client_id == 1
    assert stored.created_at.year > 2000
    assert str(stored.transaction_id) != forged["transaction_id"]
    assert stored.metadata == {"client_generated": True, "device": "phone"}
    secret = next(c for c in stored.field_changes if c["field_name"] == "secret")
    assert secret["new_value"] == "[REDACTED]"


def test_system_entries_need_system_writes(rr: ReactiveRecord) -> None:
    entry = made(rr, user=SYSTEM)
    assert entry["user_id"] == "system"
    assert "system_writes" in refused(rr, entry, user=SYSTEM).reason


def test_destroy_entries_are_about_records_that_existed(rr: ReactiveRecord) -> None:
    before = job(rr)
    entry = rr_activity.generate(rr, before, {}, ALICE, "destroy")
    rr.models.Job.destroy(before.id, user=ALICE)
    stored = rr_activity.validate(rr, json.loads(json.dumps(entry)), ALICE)
    assert stored.action == "destroy" and stored.client_id == 1
    ghost = {**entry, "id": str(uuid.uuid4()), "entity_id": "12345"}
    assert "no Job 12345" in refused(rr, ghost).reason


def test_a_batch_is_all_or_nothing(rr: ReactiveRecord) -> None:
    good = [made(rr, priority=n) for n in (1, 2)]
    bad = {**made(rr), "user_id": "8"}
    before = entry_count(rr)
    with pytest.raises(rr_activity.BatchRejected) as caught:
        rr_activity.validate_batch(rr, [good[0], bad, good[1]], ALICE)
    report = caught.value.report
    assert entry_count(rr) == before and not report.stored
    assert [r.accepted for r in report] == [True, False, True]
    assert "attributed to user '8'" in (report.results[1].reason or "")
    assert "#1:" in caught.value.reason


def test_a_partial_batch_stores_the_accepted_and_reports_the_rest(rr: ReactiveRecord) -> None:
    good = [made(rr, priority=n) for n in (1, 2)]
    bad = {**made(rr), "entity_id": "404"}
    before = entry_count(rr)
    report = rr_activity.validate_batch(rr, [good[0], bad, good[1]], ALICE, all_or_nothing=False)
    assert report.stored and entry_count(rr) == before + 2
    assert [r.index for r in report.rejected] == [1]
    assert [str(r.record.id) for r in report.accepted if r.record] == [g["id"] for g in good]
    assert len({r.record.transaction_id for r in report.accepted if r.record}) == 1
