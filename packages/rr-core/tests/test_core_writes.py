"""Writes: create/update/destroy, validations, cascades, transactions, acting users, SYSTEM."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import (
    SYSTEM,
    InvalidQuery,
    PermissionDenied,
    ReactiveRecord,
    RecordNotFound,
    StaleRecord,
    StoreError,
    UnknownField,
    ValidationError,
)

ALICE = {"id": 1, "role": "admin", "client_id": 1}
BOB = {"id": 2, "role": "technician", "client_id": 1}


def rows(rr: ReactiveRecord) -> dict[str, list[dict[str, Any]]]:
    """Every row of every model, as plain dicts."""
    return {name: [dict(r) for r in rr.models[name].all()] for name in rr.models}


# -- create, update, destroy ------------------------------------------------------------


def test_create_returns_the_stored_row(rr: ReactiveRecord) -> None:
    rr.models.Client.create({"id": 7, "name": "Acme"})
    job = rr.models.Job.create({"title": "Fix", "client_id": "7"})
    assert job.id == 1 and job.client_id == 7
    assert job.status == "pending" and job.priority == 2 and job.lock_version == 0
    assert rr.models.Job.find(1).data == job
    assert rr.models.Job.create({"title": "Next"}).id == 2


def test_update_returns_the_stored_row_and_moves_lock_version(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    updated = jobs.update(1, {"status": "completed"})
    assert updated.status == "completed" and updated.title == "Fix boiler"
    assert updated.lock_version == 1
    assert jobs.update("1", {"priority": 4}).lock_version == 2
    refreshed = jobs.update(1, {"lock_version": 2, "priority": 1})
    assert refreshed.lock_version == 3 and jobs.find(1).data == refreshed


def test_stale_lock_version_raises_and_writes_nothing(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    jobs.update(1, {"status": "completed"})
    before = rows(seeded)
    with pytest.raises(StaleRecord) as raised:
        jobs.update(1, {"status": "cancelled", "lock_version": 0})
    error = raised.value
    assert (error.model, error.key, error.expected, error.actual) == ("Job", 1, 0, 1)
    assert "Job 1 is stale: written with lock_version 0, but it is now 1" in str(error)
    assert rows(seeded) == before


def test_destroy(seeded: ReactiveRecord) -> None:
    seeded.models.Note.destroy(1)
    assert seeded.models.Note.pluck("id") == [2]
    with pytest.raises(RecordNotFound, match="no Note with key 1"):
        seeded.models.Note.destroy(1)
    with pytest.raises(RecordNotFound, match="no Job with key 99"):
        seeded.models.Job.update(99, {"title": "x"})


def test_write_arguments_are_checked(rr: ReactiveRecord) -> None:
    with pytest.raises(UnknownField, match="Job has no field 'titel'"):
        rr.models.Job.create({"titel": "x"})
    with pytest.raises(InvalidQuery, match="takes a mapping of values"):
        rr.models.Job.create([("title", "x")])  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery, match="'x' is not a valid integer"):
        rr.models.Job.update("x", {"title": "y"})
    assert rows(rr)["Job"] == []


def test_new_fills_defaults_and_writes_nothing(rr: ReactiveRecord) -> None:
    job = rr.models.Job.new(client_id=7)
    assert (job.id, job.status, job.priority, job.client_id) == (None, "pending", 2, 7)
    assert rr.models.Job.count() == 0


# -- validations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "messages"),
    [
        ({}, {"title": ["can't be blank"]}),
        ({"title": None}, {"title": ["can't be blank"]}),
        ({"title": "   "}, {"title": ["can't be blank"]}),
        ({"title": "x"}, {"title": ["Length must be between 2 and 200."]}),
        ({"title": "x" * 201}, {"title": ["Length must be between 2 and 200."]}),
        (
            {"title": "ok", "status": "bogus"},
            {"status": ["Must be one of: pending, active, completed, cancelled."]},
        ),
        ({"title": "ok", "priority": 0}, {"priority": ["must be greater than or equal to 1"]}),
        ({"title": "ok", "priority": 6}, {"priority": ["must be less than or equal to 5"]}),
        ({"title": "ok", "code": "ab-1"}, {"code": ["is invalid (must match ^[A-Z]{2}-[0-9]+$)"]}),
        ({"title": "ok", "priority": "high"}, {"priority": ["'high' is not a valid integer"]}),
        (
            {"title": "ok", "amount": "12,50", "due_date": 5},
            {"amount": ["'12,50' is not a valid decimal"], "due_date": ["5 is not a valid date"]},
        ),
        (
            {"title": None, "status": "bogus", "code": "nope"},
            {
                "title": ["can't be blank"],
                "status": ["Must be one of: pending, active, completed, cancelled."],
                "code": ["is invalid (must match ^[A-Z]{2}-[0-9]+$)"],
            },
        ),
    ],
)
def test_validations_map_fields_to_messages(
    rr: ReactiveRecord, values: dict[str, Any], messages: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationError) as raised:
        rr.models.Job.create(values)
    assert raised.value.messages == messages
    assert raised.value.model == "Job"
    for field in messages:
        assert f"{field}: " in str(raised.value)
    assert rr.models.Job.count() == 0


def test_valid_values_pass(rr: ReactiveRecord) -> None:
    job = rr.models.Job.create(
        {"title": "ok", "status": "active", "priority": 5, "code": "AB-12", "amount": "3.50"}
    )
    assert job.code == "AB-12"


def test_update_validates_the_merged_row(seeded: ReactiveRecord) -> None:
    with pytest.raises(ValidationError) as raised:
        seeded.models.Job.update(1, {"title": None})
    assert raised.value.messages == {"title": ["can't be blank"]}
    assert raised.value.key == 1 and "invalid Job 1: title: can't be blank" in str(raised.value)
    seeded.models.Job.update(1, {"priority": 4})  # other fields stay valid


def test_a_given_primary_key_is_validated_like_any_field(
    build_rr: Callable[..., ReactiveRecord],
) -> None:
    region = {"primary_key": "code", "fields": {"code": {"type": "string", "length": 3}}}
    regions = build_rr({"Region": region}).models.Region
    with pytest.raises(ValidationError) as raised:
        regions.create({"code": "NORTH"})
    assert raised.value.messages == {"code": ["Longer than maximum length 3."]}
    assert regions.count() == 0
    assert regions.create({"code": "NW"}).code == "NW"


def test_a_nullable_field_without_rules_accepts_null(seeded: ReactiveRecord) -> None:
    assert seeded.models.Job.update(1, {"client_id": None}).client_id is None


# -- associations -------------------------------------------------------------------------


def test_dependent_destroy_cascades(seeded: ReactiveRecord) -> None:
    m = seeded.models
    before = rows(seeded)
    # has_many without dependent: its rows are left alone, so while they point at the
    # client (a foreign key) it cannot go, and the cascade already run is undone.
    with pytest.raises(StoreError, match="still referenced by User 1"):
        m.Client.destroy(1)
    assert rows(seeded) == before
    m.User.where(client_id=1).update_all({"client_id": None})
    m.Client.destroy(1)
    assert m.Job.pluck("title") == ["Audit", "Sweep"]
    assert m.Task.pluck("title") == ["Count"]
    assert m.Note.count() == 0
    assert m.User.count() == 3


def test_each_cascaded_destroy_runs_the_pipeline(build_rr: Callable[..., ReactiveRecord]) -> None:
    plugin = pytest.importorskip("rr_testplugin")
    rr = build_rr(plugins=["testplugin"], config={"testplugin": {"record": True}})
    client = rr.models.Client.create({"name": "Acme"})
    job = rr.models.Job.create({"title": "Fix", "client_id": client.id})
    task = rr.models.Task.create({"job_id": job.id})
    rr.models.Note.create({"task_id": task.id, "body": "n"})
    state = plugin.state_of(rr)
    state.calls.clear()
    rr.models.Client.destroy(client.id)
    written = [(model, hook) for hook, model, op in state.calls if hook == "rr_on_write"]
    assert written == [
        ("Note", "rr_on_write"),
        ("Task", "rr_on_write"),
        ("Job", "rr_on_write"),
        ("Client", "rr_on_write"),
    ]
    for model in ("Note", "Task", "Job", "Client"):
        phases = [hook for hook, m, op in state.calls if m == model and op == "destroy"]
        assert phases == [
            "rr_rewrite_change",
            "rr_fill_change",
            "rr_validate_change",
            "rr_authorize_change",
            "rr_on_write",
            "rr_after_commit",
        ]


def test_a_refused_cascade_writes_nothing(seeded: ReactiveRecord) -> None:
    before = rows(seeded)
    with pytest.raises(PermissionDenied):
        seeded.models.Client.destroy(1, user=SYSTEM)
    assert rows(seeded) == before


# -- transactions ---------------------------------------------------------------------------


def test_reads_inside_a_transaction_see_its_writes(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    with seeded.transaction():
        job = jobs.create({"title": "Inside"})
        jobs.update(1, {"status": "completed"})
        assert jobs.find(job.id).data == job
        assert jobs.where(status="completed").pluck("title") == ["Fix boiler", "Sweep"]
        assert jobs.count() == 5
    assert jobs.count() == 5


def test_a_transaction_rolls_back_on_exception(seeded: ReactiveRecord) -> None:
    before = rows(seeded)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), seeded.transaction():
        seeded.models.Job.create({"title": "Inside"})
        seeded.models.Job.update(1, {"status": "completed"})
        seeded.models.Job.destroy(3)  # and its task, by cascade
        with seeded.transaction():  # nested: joins the outer one
            seeded.models.Note.destroy(1)
        raise Boom
    assert rows(seeded) == before


def test_other_threads_do_not_see_uncommitted_writes(seeded: ReactiveRecord) -> None:
    seen: list[int] = []
    with seeded.transaction():
        seeded.models.Job.create({"title": "Inside"})
        reader = threading.Thread(target=lambda: seen.append(seeded.models.Job.count()))
        reader.start()
        reader.join()
    assert seen == [4]
    assert seeded.models.Job.count() == 5


def test_update_all_and_destroy_all(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    assert jobs.where(status="active").update_all({"status": "completed"}) == 2
    assert jobs.where(status="completed").pluck("title") == ["Fix boiler", "Audit", "Sweep"]
    assert jobs.where(client_id=1).destroy_all() == 2
    assert jobs.pluck("title") == ["Audit", "Sweep"]
    assert seeded.models.Task.pluck("title") == ["Count"]  # dependents went too
    assert jobs.where(status="nope").update_all({"status": "active"}) == 0


def test_destroy_all_over_a_self_referencing_cascade(
    build_rr: Callable[..., ReactiveRecord],
) -> None:
    tree = {
        "Node": {
            "fields": {"parent_id": "integer", "name": "string"},
            "has_many": {
                "children": {"model": "Node", "foreign_key": "parent_id", "dependent": "destroy"}
            },
        }
    }
    rr = build_rr(tree)
    root = rr.models.Node.create({"name": "root"})
    child = rr.models.Node.create({"name": "child", "parent_id": root.id})
    rr.models.Node.create({"name": "grandchild", "parent_id": child.id})
    rr.models.Node.create({"name": "other"})
    # The root's cascade takes its descendants before the bulk write reaches them.
    assert rr.models.Node.where(name={"ne": "other"}).destroy_all() == 3
    assert rr.models.Node.pluck("name") == ["other"]


def test_update_all_is_one_transaction(seeded: ReactiveRecord) -> None:
    before = rows(seeded)
    with pytest.raises(ValidationError):
        # The first row (priority 3 -> 5) passes, the second (5 -> 7) does not.
        seeded.models.Job.where(status="active").update_all({"priority": 7})
    assert rows(seeded) == before


# -- acting users -------------------------------------------------------------------------


def test_acting_as_is_the_default_user(seeded: ReactiveRecord) -> None:
    with seeded.acting_as(ALICE):
        assert seeded.models.Job.where(status="x").spec.option("user") == ALICE
        with seeded.acting_as(BOB):
            assert seeded.models.Job.where(status="x").spec.option("user") == BOB
        assert seeded.models.Job.where(status="x").spec.option("user") == ALICE
    assert seeded.models.Job.where(status="x").spec.option("user") is None


def test_acting_as_is_isolated_across_threads(seeded: ReactiveRecord) -> None:
    barrier = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def work(name: str, user: Any) -> None:
        with seeded.acting_as(user):
            barrier.wait()
            try:
                outcome[name] = seeded.models.Note.create({"body": name}).body
            except PermissionDenied as exc:
                outcome[name] = exc
            outcome[name + " user"] = seeded.models.Note.where(body=name).spec.option("user")

    threads = [
        threading.Thread(target=work, args=("alice", ALICE)),
        threading.Thread(target=work, args=("system", SYSTEM)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome["alice"] == "alice" and outcome["alice user"] == ALICE
    assert isinstance(outcome["system"], PermissionDenied) and outcome["system user"] is SYSTEM
    assert seeded.models.Note.pluck("body") == ["ordered", "white", "alice"]


def test_acting_as_is_isolated_across_asyncio_tasks(seeded: ReactiveRecord) -> None:
    async def work(user: Any, delay: float) -> Any:
        with seeded.acting_as(user):
            await asyncio.sleep(delay)
            query = seeded.models.Job.where(status="active")
            await asyncio.sleep(0)
            return query.spec.option("user")

    async def main() -> list[Any]:
        return list(await asyncio.gather(work(ALICE, 0.01), work(BOB, 0), work(SYSTEM, 0.005)))

    assert asyncio.run(main()) == [ALICE, BOB, SYSTEM]


def test_acting_as_is_per_instance(build_rr: Callable[..., ReactiveRecord]) -> None:
    first, second = build_rr(), build_rr()
    with first.acting_as(SYSTEM):
        second.models.Job.create({"title": "allowed"})
        with pytest.raises(PermissionDenied):
            first.models.Job.create({"title": "refused"})
    assert first.models.Job.count() == 0 and second.models.Job.count() == 1


def test_an_explicit_user_beats_acting_as(seeded: ReactiveRecord) -> None:
    with seeded.acting_as(SYSTEM):
        seeded.models.Job.update(1, {"status": "completed"}, user=ALICE)
    assert seeded.models.Job.find(1).data.status == "completed"  # type: ignore[union-attr]


# -- SYSTEM ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda m: m.Job.create({"title": "sys"}, user=SYSTEM),
        lambda m: m.Job.update(1, {"status": "completed"}, user=SYSTEM),
        lambda m: m.Job.destroy(4, user=SYSTEM),
        lambda m: m.Job.where(status="active").update_all({"priority": 1}, user=SYSTEM),
        lambda m: m.Job.where(status="active").destroy_all(user=SYSTEM),
    ],
)
def test_system_writes_are_refused_by_default(
    seeded: ReactiveRecord, write: Callable[[Any], Any]
) -> None:
    before = rows(seeded)
    with pytest.raises(PermissionDenied) as raised:
        write(seeded.models)
    assert "system_writes = true" in str(raised.value)
    assert raised.value.user_id == "system"
    assert rows(seeded) == before


def test_system_writes_are_allowed_when_configured(build_rr: Callable[..., ReactiveRecord]) -> None:
    rr = build_rr(config={"system_writes": True})
    job = rr.models.Job.create({"title": "sys"}, user=SYSTEM)
    with rr.acting_as(SYSTEM):
        rr.models.Job.update(job.id, {"status": "active"})
        rr.models.Job.destroy(job.id)
    assert rr.models.Job.count() == 0
