"""Fault injection: a failure in any write phase, or in the store, leaves every row as it was.

The test plugin raises in the hook its config names (``fail_in``), for the model it names,
after letting ``fail_after`` calls through, so failures land after earlier rows of the
same transaction were written: a cascade's children, a bulk write's first rows, the
plugin's own audit rows. No notification is sent for a write that did not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import (
    ReactiveRecord,
    ReactiveRecordError,
    StaleRecord,
    StoreError,
    ValidationError,
)

plugin = pytest.importorskip("rr_testplugin")

MODELS: dict[str, Any] = {
    "Client": {
        "fields": {"name": {"type": "string", "length": 50, "null": False}},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "client_id", "dependent": "destroy"}},
    },
    "Job": {
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20},
            "client_id": "integer",
            "lock_version": "integer",
        },
        "belongs_to": {"client": {"model": "Client"}},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
    },
    "Task": {
        "fields": {"job_id": "integer", "title": {"type": "string", "length": 50}},
        "belongs_to": {"job": {"model": "Job"}},
    },
}

WRITE_PHASES = (
    "rr_rewrite_change",
    "rr_fill_change",
    "rr_validate_change",
    "rr_authorize_change",
    "rr_on_write",
)

Make = Callable[..., ReactiveRecord]


def build(make_rr: Make, db_url: str, **settings: Any) -> ReactiveRecord:
    """A seeded instance on ``db_url`` with the test plugin recording, auditing and ``settings``."""
    plugins = ["testplugin"] if db_url.startswith("memory") else ["testplugin", "sqlalchemy"]
    rr = make_rr(db_url, MODELS, plugins, config={"testplugin": {"record": True, "audit": True}})
    with rr.transaction():
        for name, jobs in (("Acme", ("Fix", "Paint")), ("Globex", ("Audit",))):
            client = rr.models.Client.create({"name": name})
            for title in jobs:
                job = rr.models.Job.create(
                    {"title": title, "status": "open", "client_id": client.id}
                )
                for n in range(2 if title != "Audit" else 1):
                    rr.models.Task.create({"job_id": job.id, "title": f"{title} {n}"})
    state = plugin.state_of(rr)
    state.reconfigure(**settings)  # armed once the seed rows are in
    state.calls.clear()
    return rr


def rows(rr: ReactiveRecord) -> dict[str, list[dict[str, Any]]]:
    """Every row of every model (the audit model included), in key order."""
    return {name: [dict(r) for r in rr.models[name].unscoped().all()] for name in rr.models}


def id_of(rr: ReactiveRecord, model: str, **where: Any) -> Any:
    record = rr.models[model].where(where).one()
    return record.id


#: operation -> (what it does, the model and number of calls let through before failing)
OPERATIONS: dict[str, tuple[Callable[[ReactiveRecord], Any], str, int]] = {
    "create": (lambda rr: rr.models.Job.create({"title": "New", "client_id": 1}), "Job", 0),
    "update": (
        lambda rr: rr.models.Job.update(id_of(rr, "Job", title="Fix"), {"status": "done"}),
        "Job",
        0,
    ),
    # The second Task of the cascade fails: the first Task is already gone in the transaction.
    "destroy-cascade-child": (
        lambda rr: rr.models.Client.destroy(id_of(rr, "Client", name="Acme")),
        "Task",
        1,
    ),
    # The Client itself fails, after its whole cascade ran.
    "destroy-cascade-parent": (
        lambda rr: rr.models.Client.destroy(id_of(rr, "Client", name="Acme")),
        "Client",
        0,
    ),
    "update_all": (
        lambda rr: rr.models.Job.where(status="open").update_all({"status": "done"}),
        "Job",
        1,
    ),
    "destroy_all": (lambda rr: rr.models.Client.destroy_all(), "Client", 1),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_failing_phase_leaves_rows_as_they_were(
    make_rr: Make, db_url: str, operation: str
) -> None:
    run, model, after = OPERATIONS[operation]
    rr = build(make_rr, db_url)
    state = plugin.state_of(rr)
    before = rows(rr)
    # Every phase on the same rows: each failure must leave them as they were.
    for hook in WRITE_PHASES:
        state.reconfigure(fail_in=hook, fail_model=model, fail_after=after)
        state.calls.clear()
        with pytest.raises(plugin.InjectedError, match=hook):
            run(rr)
        recorded = [(call_hook, name) for call_hook, name, _ in state.calls]
        assert rows(rr) == before, hook
        assert "rr_after_commit" not in {call_hook for call_hook, _ in recorded}, hook
        if after:
            # The failure came after earlier rows of the same transaction were written.
            assert ("rr_on_write", model) in recorded, hook


def test_the_instance_works_after_a_failure(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url, fail_in="rr_on_write", fail_model="Job", fail_after=1)
    rr.models.Job.create({"title": "One", "client_id": 1})  # the second Job call: fails
    with pytest.raises(plugin.InjectedError):
        rr.models.Job.create({"title": "Two", "client_id": 1})
    assert rr.models.Client.create({"name": "Initech"}).name == "Initech"
    assert rr.models.Job.where(title=["One", "Two"]).pluck("title") == ["One"]


# -- the store itself refuses ----------------------------------------------------------


def test_create_refused_by_not_null(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url, clear_after_validate="title")
    before = rows(rr)
    with pytest.raises(StoreError):
        rr.models.Job.create({"title": "Valid until cleared", "client_id": 1})
    assert rows(rr) == before


def test_update_refused_by_not_null(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url, clear_after_validate="title")
    before = rows(rr)
    with pytest.raises(StoreError):
        rr.models.Job.update(id_of(rr, "Job", title="Fix"), {"status": "done"})
    assert rows(rr) == before


def test_update_all_refused_by_not_null(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url, clear_after_validate="title")
    before = rows(rr)
    with pytest.raises(StoreError):
        rr.models.Job.where(status="open").update_all({"status": "done"})
    assert rows(rr) == before


def test_create_refused_by_a_duplicate_primary_key(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url)
    before = rows(rr)
    taken = id_of(rr, "Job", title="Fix")
    with pytest.raises(StoreError):
        rr.models.Job.create({"id": taken, "title": "Duplicate"})
    assert rows(rr) == before


def test_update_all_refused_by_a_stale_lock_version(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url)
    paint = id_of(rr, "Job", title="Paint")
    rr.models.Job.update(paint, {"status": "open"})  # lock_version 0 -> 1
    before = rows(rr)
    with pytest.raises(StaleRecord) as raised:
        # Fix (lock_version 0) is written first; Paint (now 1) is stale.
        rr.models.Job.where(status="open").update_all({"status": "done", "lock_version": 0})
    assert raised.value.key == paint
    assert rows(rr) == before


def test_a_failed_transaction_block_writes_nothing(make_rr: Make, db_url: str) -> None:
    rr = build(make_rr, db_url, fail_in="rr_validate_change", fail_model="Task")
    before = rows(rr)
    with pytest.raises(plugin.InjectedError), rr.transaction():
        rr.models.Client.create({"name": "Initech"})
        rr.models.Job.update(id_of(rr, "Job", title="Fix"), {"status": "done"})
        rr.models.Job.where(title="Audit").destroy_all()  # its Task fails
    assert rows(rr) == before


# -- a failed write caught inside rr.transaction() -------------------------------------


@pytest.mark.parametrize("operation", ["create", "destroy-cascade-child", "update_all"])
def test_a_caught_failure_after_writing_rolls_the_transaction_back(
    make_rr: Make, db_url: str, operation: str
) -> None:
    run, model, after = OPERATIONS[operation]
    rr = build(make_rr, db_url, fail_in="rr_on_write", fail_model=model, fail_after=after)
    before = rows(rr)
    broken = pytest.raises(ReactiveRecordError, match="the transaction was rolled back")
    with broken as raised, rr.transaction():
        rr.models.Client.create({"name": "Initech"})
        with pytest.raises(plugin.InjectedError):
            run(rr)  # caught here: its rows must not commit with the others
        with pytest.raises(ReactiveRecordError, match="rolled back"):
            rr.models.Client.create({"name": "Later"})
    assert isinstance(raised.value.__cause__, plugin.InjectedError)
    assert rows(rr) == before


def test_a_caught_exception_from_a_nested_block_that_wrote_rolls_everything_back(
    make_rr: Make, db_url: str
) -> None:
    # No savepoints: the nested block's rows cannot be kept apart from the outer ones,
    # so the outer transaction can only roll back, loudly, at its next write or its end.
    rr = build(make_rr, db_url)
    before = rows(rr)
    broken = pytest.raises(ReactiveRecordError, match="the transaction was rolled back")
    with broken as raised, rr.transaction():
        rr.models.Client.create({"name": "Initech"})
        with pytest.raises(KeyError), rr.transaction():
            rr.models.Client.create({"name": "Inner"})
            raise KeyError("inner")
    assert isinstance(raised.value.__cause__, KeyError)
    assert rows(rr) == before


def test_a_nested_block_that_raised_before_writing_leaves_the_outer_usable(
    make_rr: Make, db_url: str
) -> None:
    rr = build(make_rr, db_url)
    with rr.transaction():
        rr.models.Client.create({"name": "Initech"})
        with pytest.raises(KeyError), rr.transaction():
            rr.models.Client.where(name="Initech").count()
            raise KeyError("read only")
        rr.models.Client.create({"name": "Later"})
    assert rr.models.Client.where(name=["Initech", "Later"]).count() == 2


def test_a_caught_refusal_before_writing_leaves_the_transaction_usable(
    make_rr: Make, db_url: str
) -> None:
    rr = build(make_rr, db_url)
    with rr.transaction():
        rr.models.Client.create({"name": "Initech"})
        with pytest.raises(ValidationError):
            rr.models.Job.create({"title": None})
        rr.models.Client.create({"name": "Later"})
    assert rr.models.Client.where(name=["Initech", "Later"]).count() == 2
