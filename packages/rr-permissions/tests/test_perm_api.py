"""The public functions, rr_authorize for other plugins, validate_query, and the caches."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
import rr_permissions
from reactive_record import SYSTEM, InvalidQuery, PermissionDenied, ReactiveRecord
from rr_permissions import Permitted, Refused

from .conftest import ALICE, MARIA, RAJ, STANDARD, TOM, VIEWER, seed

Build = Callable[..., ReactiveRecord]


@pytest.fixture
def rr(build: Build) -> ReactiveRecord:
    made = build({**STANDARD, "hidden_fields": {"technician": ["secret_note"]}})
    seed(made)
    return made


def test_hook_rr_authorize_agrees_with_allowed(rr: ReactiveRecord) -> None:
    job_model = rr.model_definition("Job")
    for job in rr.models.Job.unscoped().all():
        for user in (ALICE, TOM, RAJ, VIEWER):
            for action in ("read", "update", "destroy"):
                expected = job.client_id == user["client_id"] and (
                    action == "read"
                    or user["role"]
                    in ("admin", "manager", "technician")[: 3 if action == "update" else 2]
                )
                assert rr_permissions.allowed(rr, user, action, "Job", job) is expected
                assert rr.authorize(user, action, job_model, job) is expected
    assert rr.authorize(None, "read", job_model, None) is False
    assert rr.authorize(SYSTEM, "read", job_model, None) is True
    assert rr.authorize(TOM, "create", job_model, None) is False
    assert rr.authorize(MARIA, "create", job_model, None) is True
    assert rr.authorize(TOM, "no_such_action", job_model, None) is False
    assert rr.authorize(TOM, "update", rr.model_definition("Task"), None) is True


def test_authorize_raises_with_the_reason(rr: ReactiveRecord) -> None:
    job = rr.models.Job.unscoped().where(client_id=1).first()
    with pytest.raises(
        PermissionDenied, match=r"not allowed to destroy Job \d+: requires role admin or manager"
    ):
        rr_permissions.authorize(rr, TOM, "destroy", rr.models.Job, job)
    rr_permissions.authorize(rr, ALICE, "destroy", rr.models.Job, job)


def test_explain_names_the_refusing_rule(rr: ReactiveRecord) -> None:
    job = rr.models.Job.unscoped().where(client_id=1).first()
    text = str(rr_permissions.explain(rr, VIEWER, "update", "Job", job))
    assert text.splitlines()[0] == f"[deny ] update Job {job.id}: denied"
    assert "[allow] read rule" in text
    assert "[deny ] requires role admin, manager or technician" in text


def test_users_may_be_objects(rr: ReactiveRecord) -> None:
    tom = SimpleNamespace(**TOM)
    assert (
        rr.models.Job.with_permissions(tom).count() == rr.models.Job.with_permissions(TOM).count()
    )


class TupleUser(NamedTuple):
    id: int
    role: str
    client_id: int


class SubTupleUser(TupleUser):  # an empty __dict__ beside the tuple's fields
    pass


class SlotsBase:
    __slots__ = ("client_id", "id", "role")

    def __init__(self, id: int, role: str, client_id: int) -> None:
        self.id, self.role, self.client_id = id, role, client_id


class SlotsUser(SlotsBase):  # likewise: the attributes live in the base's slots
    pass


@pytest.mark.parametrize("make", [TupleUser, SubTupleUser, SlotsUser])
def test_users_with_attributes_outside_dict_never_share_a_grant(
    rr: ReactiveRecord, make: Callable[..., Any]
) -> None:
    alice, raj = make(**ALICE), make(**RAJ)
    jobs = rr.models.Job
    assert {j.client_id for j in jobs.with_permissions(alice).all()} == {1}
    assert {j.client_id for j in jobs.with_permissions(raj).all()} == {2}
    mine = jobs.unscoped().where(client_id=1).first()
    assert rr_permissions.allowed(rr, alice, "update", "Job", mine)
    assert not rr_permissions.allowed(rr, raj, "update", "Job", mine)


def test_decisions_are_never_stale(rr: ReactiveRecord) -> None:
    user = SimpleNamespace(id=9, role="technician", client_id=1)
    job = rr.models.Job.unscoped().where(client_id=1).first()
    assert rr_permissions.allowed(rr, user, "update", "Job", job)
    user.client_id = 2
    assert not rr_permissions.allowed(rr, user, "update", "Job", job)
    user.client_id, user.role = 1, "viewer"
    assert not rr_permissions.allowed(rr, user, "update", "Job", job)
    user.role = "technician"
    assert rr_permissions.allowed(rr, user, "update", "Job", job)
    moved = rr.models.Job.update(job.id, {"client_id": 2}, user=SYSTEM)
    assert not rr_permissions.allowed(rr, user, "update", "Job", moved)
    assert rr.models.Job.with_permissions(user).find_by(id=job.id).data is None


def test_caches_are_bounded_and_decisions_are_reused(build: Build, policies_on_path: str) -> None:
    import importlib

    asked = importlib.import_module(policies_on_path).ASKED
    custom = {"type": "custom", "function": f"{policies_on_path}:counted_even_priority"}
    rr = build({**STANDARD, "update": custom}, permissions={"cache_size": 4})
    seed(rr)
    perms = rr.extensions["permissions"].models["Job"]
    jobs = rr.models.Job.unscoped().all()
    for number in range(20):
        user = {"id": number, "role": "admin", "client_id": 1}
        for job in jobs:
            expected = job.client_id == 1 and job.priority % 2 == 0
            assert rr_permissions.allowed(rr, user, "update", "Job", job) is expected
    assert len(perms.grants) == 4
    assert len(perms.decisions) == 4
    asked.clear()
    for _ in range(3):
        rr_permissions.allowed(rr, ALICE, "update", "Job", jobs[0])
    assert len(asked) == 1
    changed = rr.models.Job.update(jobs[0].id, {"title": "new version"}, user=SYSTEM)
    rr_permissions.allowed(rr, ALICE, "update", "Job", changed)
    assert len(asked) == 2


def test_python_decisions_follow_new_record_versions(build: Build, policies_on_path: str) -> None:
    custom = {"type": "custom", "function": f"{policies_on_path}:even_priority"}
    rr = build({**STANDARD, "update": custom})
    job = rr.models.Job.create({"title": "x", "client_id": 1, "priority": 2}, user=SYSTEM)
    assert rr_permissions.allowed(rr, ALICE, "update", "Job", job)
    changed = rr.models.Job.update(job.id, {"priority": 3}, user=SYSTEM)
    assert not rr_permissions.allowed(rr, ALICE, "update", "Job", changed)
    with pytest.raises(PermissionDenied, match="even_priority"):
        rr.models.Job.update(job.id, {"title": "y"}, user=ALICE)


def test_validate_query_permits_with_the_rules_anded_in(rr: ReactiveRecord) -> None:
    payload = {"model": "Job", "where": {"status": "active"}, "order": ["-priority"], "limit": 2}
    result = rr_permissions.validate_query(rr, payload, TOM)
    assert isinstance(result, Permitted) and result.ok
    assert result.payload["where"] == {
        "and": [{"status": {"eq": "active"}}, {"client_id": {"eq": 1}}]
    }
    assert result.payload["limit"] == 2
    expected = (
        rr.models.Job.with_permissions(TOM).where(status="active").order("-priority").limit(2)
    )
    assert result.query.all() == expected.all()


@pytest.mark.parametrize(
    ("payload", "code", "path"),
    [
        ("Job", "invalid_payload", None),
        ({"model": "Job", "sql": "1=1"}, "invalid_payload", "sql"),
        ({"model": "Job", "user": 1}, "other_user", "user"),
        ({"model": "Job", "user": {"id": 3, "role": "admin"}}, "other_user", "user.role"),
        ({"model": "Nope"}, "unknown_model", "model"),
        ({"model": "Client"}, "not_protected", "model"),
        ({"model": "Job", "where": {"colour": "red"}}, "unknown_field", "where"),
        ({"model": "Job", "where": {"status": {"regex": "a"}}}, "unknown_operator", "where"),
        ({"model": "Job", "where": {"priority": "high"}}, "invalid_value", "where"),
        ({"model": "Job", "where": {"client_id": {"param": "c"}}}, "invalid_value", "where"),
        ({"model": "Job", "where": {"secret_note": "x"}}, "hidden_field", "where"),
        ({"model": "Job", "order": ["-secret_note"]}, "hidden_field", "order"),
        ({"model": "Job", "order": ["colour"]}, "unknown_field", "order"),
        ({"model": "Job", "limit": -1}, "invalid_value", "limit"),
        ({"model": "Job", "includes": ["workers"]}, "unknown_field", "includes"),
        ({"model": "Job", "includes": ["client"]}, "not_protected", "includes"),
    ],
)
def test_validate_query_refuses(
    rr: ReactiveRecord, payload: object, code: str, path: str | None
) -> None:
    result = rr_permissions.validate_query(rr, payload, TOM)
    assert isinstance(result, Refused) and not result.ok
    assert (result.code, result.path) == (code, path)
    assert result.to_data()["error"] == code


def test_validate_query_refuses_hidden_fields_inside_any(build: Build) -> None:
    # Counting the jobs whose tasks match would reveal a hidden value one bound at a time.
    rr = build(
        STANDARD,
        task_section={
            "read": {"type": "custom", "function": "builtins:bool"},
            "hidden_fields": {"technician": ["done"]},
        },
    )
    payload = {"model": "Job", "where": {"tasks": {"any": {"done": True}}}}
    result = rr_permissions.validate_query(rr, payload, TOM)
    assert isinstance(result, Refused) and result.code == "hidden_field"
    assert result.details["field"] == "tasks.done"
    nested = {"model": "Task", "where": {"job": {"any": {"tasks": {"any": {"done": True}}}}}}
    assert rr_permissions.validate_query(rr, nested, TOM).code == "hidden_field"  # type: ignore[union-attr]
    assert rr_permissions.validate_query(rr, payload, {**TOM, "role": "admin"}).ok


def test_validate_query_accepts_the_users_own_claim(rr: ReactiveRecord) -> None:
    assert rr_permissions.validate_query(rr, {"model": "Job", "user": 3}, TOM).ok
    assert rr_permissions.validate_query(rr, {"model": "Job", "user": dict(TOM)}, TOM).ok
    refused = rr_permissions.validate_query(rr, {"model": "Job"}, None)
    assert isinstance(refused, Refused) and refused.code == "no_user"
    denied = rr_permissions.validate_query(rr, {"model": "Job"}, VIEWER, "update")
    assert isinstance(denied, Refused) and denied.code == "denied"
    assert "requires role admin, manager or technician" in denied.message
    unknown = rr_permissions.validate_query(rr, {"model": "Job"}, VIEWER, "asign")
    assert isinstance(unknown, Refused) and unknown.code == "unknown_action"


def test_users_with_unhashable_or_slotted_attributes_are_keyed_by_every_attribute(
    rr: ReactiveRecord,
) -> None:
    class Slotted:
        __slots__ = ("client_id", "id", "role")

        def __init__(self, role: str) -> None:
            self.id, self.role, self.client_id = 9, role, 1

    job = rr.models.Job.unscoped().where(client_id=1).first()
    slotted = Slotted("technician")
    assert rr_permissions.allowed(rr, slotted, "update", "Job", job)
    slotted.role = "viewer"
    assert not rr_permissions.allowed(rr, slotted, "update", "Job", job)
    several = {"id": 9, "role": ["viewer"], "client_id": 1}
    assert not rr_permissions.allowed(rr, several, "update", "Job", job)
    several["role"].append("technician")
    assert rr_permissions.allowed(rr, several, "update", "Job", job)
    assert rr_permissions.allowed(rr, ALICE, "read", "Job", {**dict(job), "title": ["json"]})


def test_an_undeclared_action_is_a_mistake_not_a_deny(rr: ReactiveRecord) -> None:
    with pytest.raises(InvalidQuery, match="no action 'udpate'"):
        rr_permissions.allowed(rr, ALICE, "udpate", "Job")
    assert rr.authorize(ALICE, "udpate", rr.model_definition("Job"), None) is False


def test_plucking_a_hidden_field_is_permission_denied(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job.as_user(TOM)
    assert jobs.pluck("title")  # what the technician sees
    with pytest.raises(PermissionDenied, match=r"not allowed to read Job: secret_note") as caught:
        jobs.pluck("title", "secret_note")
    assert caught.value.field == "secret_note"
    assert rr.models.Job.as_user(ALICE).pluck("secret_note")  # not hidden from an admin


def test_hook_rr_hidden_fields_answers_by_role(rr: ReactiveRecord) -> None:
    job = rr.model_definition("Job")
    assert rr.hidden_fields(TOM, job) == {"secret_note"}
    assert rr.hidden_fields(ALICE, job) == frozenset()
    assert rr.hidden_fields(SYSTEM, job) == frozenset()
    assert rr.hidden_fields(TOM, rr.model_definition("Client")) == frozenset()


def test_a_hidden_field_cannot_be_summed(build: Build) -> None:
    # Summing it over filtered rows would reveal each value.
    rr = build({**STANDARD, "hidden_fields": {"technician": ["priority"]}})
    seed(rr)
    with pytest.raises(PermissionDenied, match="priority is hidden"):
        rr.models.Job.as_user(TOM).aggregate("sum", "priority")
    assert rr.models.Job.as_user(ALICE).aggregate("sum", "priority").data > 0
    assert rr.models.Job.as_user(TOM).aggregate("count").data > 0
