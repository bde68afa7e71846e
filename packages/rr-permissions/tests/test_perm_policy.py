"""Policies: methods returning bools or conditions, per-record methods, scope, fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import rr_permissions
from reactive_record import PermissionDenied, ReactiveRecord
from rr_permissions import Policy

from .conftest import ALICE, RAJ, TOM, seed

Build = Callable[..., ReactiveRecord]


@pytest.fixture
def rr(build: Build, policies_on_path: str) -> ReactiveRecord:
    made = build({"policy": f"{policies_on_path}:JobPolicy"})
    seed(made, 30)
    return made


def test_a_condition_method_and_the_scope_go_into_the_plan(rr: ReactiveRecord) -> None:
    plan = rr.engine.plan(rr.models.Job.with_permissions(ALICE).spec)
    assert plan.post_filters == []
    where = plan.where
    assert "client_id" in repr(where) and "pending" in repr(where)
    every = rr.models.Job.unscoped().all()
    expected = {j.id for j in every if j.client_id == 1 and j.status in ("pending", "active")}
    assert {j.id for j in rr.models.Job.with_permissions(ALICE).all()} == expected


def test_a_method_reading_the_record_is_applied_per_record(rr: ReactiveRecord) -> None:
    plan = rr.engine.plan(rr.models.Job.with_permissions(TOM, "update").spec)
    assert len(plan.post_filters) == 1
    mine = rr.models.Job.with_permissions(TOM, "update").all()
    assert mine and {(j.client_id, j.user_id) for j in mine} == {(1, 3)}
    assert all(j.status in ("pending", "active") for j in mine)


def test_policy_refusal_names_the_method(rr: ReactiveRecord) -> None:
    job = rr.models.Job.with_permissions(TOM).where(user_id=ALICE["id"]).first()
    assert job is not None
    with pytest.raises(PermissionDenied) as caught:
        rr.models.Job.update(job.id, {"status": "active"}, user=TOM)
    assert caught.value.rule == "requires JobPolicy.update"
    with pytest.raises(PermissionDenied, match=r"JobPolicy\.destroy"):
        rr.models.Job.destroy(job.id, user=TOM)
    assert rr.models.Job.update(job.id, {"title": "renamed"}, user=ALICE).title == "renamed"


def test_an_action_without_method_or_rule_is_denied(rr: ReactiveRecord) -> None:
    with pytest.raises(PermissionDenied, match="no rule grants create on Job"):
        rr.models.Job.create({"title": "x", "client_id": 1}, user=ALICE)


def test_policy_permitted_fields(rr: ReactiveRecord) -> None:
    assert rr_permissions.permitted_fields(rr, TOM, "update", "Job") == {"status", "description"}
    assert "priority" in rr_permissions.permitted_fields(rr, ALICE, "update", rr.models.Job)
    job = rr.models.Job.with_permissions(TOM, "update").first()
    assert job is not None
    with pytest.raises(PermissionDenied) as caught:
        rr.models.Job.update(job.id, {"title": "x"}, user=TOM)
    assert caught.value.field == "title"


def test_config_rules_and_policy_methods_must_both_allow(build: Build) -> None:
    class Strict(Policy):
        def read(self) -> Any:
            return {"status": "active"}

    rr = build({"policy": Strict, "read": {"type": "client_member"}})
    seed(rr, 30)
    found = rr.models.Job.with_permissions(RAJ).all()
    assert found and all(j.client_id == 2 and j.status == "active" for j in found)
    every = rr.models.Job.unscoped().all()
    assert len(found) == sum(1 for j in every if j.client_id == 2 and j.status == "active")


def test_a_bad_answer_is_a_clear_type_error(build: Build) -> None:
    class Broken(Policy):
        def read(self) -> Any:
            return 3

    rr = build({"policy": Broken})
    with pytest.raises(
        TypeError, match=r"Broken.read returned 3; return True, False or a condition"
    ):
        rr.models.Job.with_permissions(ALICE).all()


def test_permitted_fields_in_pundits_shapes(build: Build) -> None:
    class PerAction(Policy):
        def read(self) -> bool:
            return True

        def permitted_fields_for_update(self) -> list[str]:
            return ["status"]

    class EveryAction(Policy):
        def permitted_fields(self) -> list[str]:  # type: ignore[override]
            return ["title"]

    per_action = build({"policy": PerAction})
    assert rr_permissions.permitted_fields(per_action, ALICE, "update", "Job") == {"status"}
    assert "title" in rr_permissions.permitted_fields(per_action, ALICE, "create", "Job")
    every = build({"policy": EveryAction})
    assert rr_permissions.permitted_fields(every, ALICE, "create", "Job") == {"title"}


def test_a_scope_reading_the_record_is_a_clear_type_error(build: Build) -> None:
    class Confused(Policy):
        def scope(self, query: Any) -> Any:
            return query.where(client_id=self.record["client_id"])

    rr = build({"policy": Confused})
    with pytest.raises(TypeError, match=r"Confused.scope read self.record"):
        rr.models.Job.with_permissions(ALICE).all()
