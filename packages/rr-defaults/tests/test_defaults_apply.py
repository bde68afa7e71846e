"""Defaults on new(), create, with_defaults() reads and defaults_for, on the memory store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import rr_defaults
from reactive_record import ReactiveRecord, ReactiveRecordError
from reactive_record.plugins import call_order

Build = Callable[..., ReactiveRecord]
ALICE = {"id": 1, "role": "admin"}
CHAIN = {
    "values": {"priority": 2},
    "computed": {
        "due": "rr_defaults_testfuncs:due_after_priority",
        "code": "rr_defaults_testfuncs:code_from_due",
    },
}


def test_new_returns_an_unsaved_record_with_every_default(build: Build) -> None:
    rr = build({"values": {"priority": 2, "meta": {"tags": []}}, "overrides": {"done": False}})
    job = rr.models.Job.new(title="Fix", client_id=7)
    assert dict(job) == {
        "id": None,
        "title": "Fix",
        "status": "pending",
        "priority": 2,
        "due": None,
        "code": None,
        "meta": {"tags": []},
        "ratio": None,
        "done": False,
        "client_id": 7,
    }
    assert rr.models.Job.count() == 0


def test_overrides_win_over_field_defaults(build: Build) -> None:
    rr = build({"overrides": {"status": "draft"}})
    assert rr.models.Job.new().status == "draft"
    assert rr.models.Job.create({"title": "x"}).status == "draft"


def test_computed_defaults_run_in_order_after_literals_and_see_the_user(build: Build) -> None:
    rr = build(CHAIN)  # puts the tests' folder (the project root) on sys.path
    from rr_defaults_testfuncs import CALLS  # type: ignore[import-not-found]

    CALLS.clear()
    job = rr.models.Job.new(title="Fix")
    assert job.due == dt.date(2024, 1, 3)
    assert job.code == "Fix-2024-01-03-nobody"
    assert [name for name, _, _ in CALLS] == ["due", "code"]
    assert CALLS[0][1]["priority"] == 2 and "due" not in CALLS[0][1]
    with rr.acting_as(ALICE):
        assert rr.models.Job.new(title="Fix").code == "Fix-2024-01-03-1"
    created = rr.models.Job.create({"title": "Fix", "priority": 5}, user=ALICE)
    assert (created.due, created.code) == (dt.date(2024, 1, 6), "Fix-2024-01-06-1")


def test_given_values_are_kept_and_explicit_none_stays_none(build: Build) -> None:
    rr = build(CHAIN)
    job = rr.models.Job.new(priority=9, due=None, code="mine")
    assert (job.priority, job.due, job.code, job.status) == (9, None, "mine", "pending")


@pytest.mark.parametrize(
    ("missing", "given", "filled"),
    [
        (["absent"], {"status": None, "title": ""}, {"status": None, "title": ""}),
        (["none"], {"status": None, "title": ""}, {"status": "pending", "title": ""}),
        (["empty"], {"status": None, "title": ""}, {"status": None, "title": "untitled"}),
        (
            ["none", "empty"],
            {"status": None, "title": ""},
            {"status": "pending", "title": "untitled"},
        ),
    ],
)
def test_what_counts_as_missing_is_configured(
    build: Build, missing: list[str], given: dict[str, object], filled: dict[str, object]
) -> None:
    rr = build({"missing": missing, "overrides": {"title": "untitled"}})
    job = rr.models.Job.new(given)
    assert {name: job[name] for name in filled} == filled


def test_create_stores_what_new_showed(build: Build) -> None:
    rr = build({**CHAIN, "values": {"priority": 2, "ratio": "0.50", "meta": {"a": [1]}}})
    unsaved = rr.models.Job.new(title="Fix", client_id=7)
    saved = rr.models.Job.create({"title": "Fix", "client_id": 7})
    assert {**dict(saved), "id": None} == dict(unsaved)
    assert saved.ratio == Decimal("0.50")


def test_json_defaults_are_fresh_for_each_record(build: Build) -> None:
    rr = build({"values": {"meta": {"tags": ["a"]}}})
    first, second = rr.models.Job.new(), rr.models.Job.new()
    first.meta["tags"].append("changed")
    assert second.meta == {"tags": ["a"]}
    assert rr.models.Job.new().meta == {"tags": ["a"]}


def test_apply_on_creation_false_leaves_new_and_create_to_the_core(build: Build) -> None:
    rr = build({"values": {"priority": 2}, "apply_on_creation": False})
    assert rr.models.Job.new().priority is None
    assert rr.models.Job.new().status == "pending"  # the field's own default, filled by the core
    assert rr.models.Job.create({"title": "x"}).priority is None
    assert rr.models.Job.with_defaults().new().priority == 2


def test_a_model_without_the_feature_gets_defaults_only_when_asked(build: Build) -> None:
    rr = build({"values": {"priority": 2}}, features={})
    assert rr.models.Job.new().priority is None
    assert rr.models.Job.create({"title": "x"}).priority is None
    assert rr.models.Job.with_defaults().new().priority == 2
    assert rr_defaults.defaults_for(rr.models.Job)["priority"] == 2


def test_updates_are_not_filled(build: Build) -> None:
    rr = build({"values": {"priority": 2}})
    job = rr.models.Job.create({"title": "x", "priority": 4})
    assert rr.models.Job.update(job.id, {"priority": None}).priority is None


def test_with_defaults_reads_fill_nulls(build: Build) -> None:
    rr = build({"values": {"priority": 2}, "apply_on_creation": False})
    job = rr.models.Job.create({"title": "x"})
    assert rr.models.Job.find(job.id).data.priority is None  # type: ignore[union-attr]
    [read] = rr.models.Job.with_defaults().where(id=job.id).all()
    assert read.priority == 2 and read.title == "x"
    assert rr.models.Job.with_defaults().find(job.id).data.priority == 2  # type: ignore[union-attr]


def test_defaults_for_and_describe(build: Build) -> None:
    rr = build({**CHAIN, "overrides": {"done": True}})
    assert rr_defaults.defaults_for(rr.models.Job) == {
        "status": "pending",
        "priority": 2,
        "done": True,
        "due": dt.date(2024, 1, 3),
        "code": "untitled-2024-01-03-nobody",
    }
    sources = {entry.field: entry.source for entry in rr_defaults.describe(rr.models.Job)}
    assert sources == {
        "status": "config",
        "priority": "config",
        "due": "computed",
        "code": "computed",
        "done": "override",
    }
    assert rr_defaults.server_generated(rr.models.Job) == frozenset()


def test_a_failing_computed_default_is_named(build: Build) -> None:
    rr = build({"computed": {"due": "rr_defaults_testfuncs:broken"}})
    with pytest.raises(
        ReactiveRecordError, match=r"Job\.due \(rr_defaults_testfuncs:broken\) failed"
    ):
        rr.models.Job.new()
    rr = build({"computed": {"due": "rr_defaults_testfuncs:wrong_type"}})
    with pytest.raises(ReactiveRecordError, match="not a valid date"):
        rr.models.Job.create({"title": "x"})
    assert rr.models.Job.count() == 0


def test_defaults_fill_before_the_core_fills_field_defaults(build: Build) -> None:
    rr = build({})
    order = call_order(rr.plugin_manager, "rr_fill_change")
    assert order[0] == "defaults" and "core.validation" in order


def test_instances_keep_their_own_defaults(build: Build) -> None:
    one = build({"values": {"priority": 1}})
    two = build({"values": {"priority": 2}})
    assert (one.models.Job.new().priority, two.models.Job.new().priority) == (1, 2)
    assert one.extensions["defaults"] is not two.extensions["defaults"]
