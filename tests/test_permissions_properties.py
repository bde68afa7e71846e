"""A record appears in a scoped read exactly when the per-record check allows it.

Random users, records (with tasks) and rule sets built from every rule kind — data rules
(into SQL), role rules (decided before SQL), custom functions and per-record policy
methods (Python), combined with all / any / not — on every enabled database. Pages
(``limit`` / ``offset``) and counts must agree too.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("rr_permissions")

import rr_permissions
from reactive_record import SYSTEM, ReactiveRecord
from rr_permissions import Policy

MODULE = "rr_permissions_property_rules"
ROLES = ["admin", "manager", "technician"]
STATUSES = ["pending", "active", "done"]


def even_priority(user: Any, record: Mapping[str, Any]) -> bool:
    """A custom rule decided in Python: jobs with an even priority."""
    del user
    return record["priority"] is not None and record["priority"] % 2 == 0


class JobPolicy(Policy):
    """``update`` decided per record in Python (it reads ``self.record``)."""

    def update(self) -> bool:
        return bool(self.record["status"] != "done" or self.user["role"] == "admin")


@pytest.fixture(autouse=True)
def rules_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module holding the custom rule, so config can name it as "module:function"."""
    module = types.ModuleType(MODULE)
    module.even_priority = even_priority  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)


LEAVES = st.one_of(
    st.just({"type": "client_member"}),
    st.just({"type": "owner"}),
    st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True).map(
        lambda roles: {"type": "role_based", "roles": roles}
    ),
    st.sampled_from(STATUSES).map(lambda status: {"where": {"status": status}}),
    st.integers(1, 4).map(lambda n: {"priority": {"gte": n}}),
    st.just({"priority": None}),
    st.just({"tasks": {"any": {"done": True}}}),
    st.just({"type": "custom", "function": f"{MODULE}:even_priority"}),
    st.booleans(),
)
RULES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda items: {"all": items}),
        st.lists(inner, min_size=1, max_size=3).map(lambda items: {"any": items}),
        inner.map(lambda item: {"not": item}),
    ),
    max_leaves=5,
)
USERS = st.fixed_dictionaries(
    {
        "id": st.integers(1, 4),
        "role": st.sampled_from([*ROLES, "viewer"]),
        "client_id": st.one_of(st.none(), st.integers(1, 3)),
    }
)
JOBS = st.lists(
    st.fixed_dictionaries(
        {
            "client_id": st.one_of(st.none(), st.integers(1, 3)),
            "user_id": st.one_of(st.none(), st.integers(1, 4)),
            "status": st.sampled_from(STATUSES),
            "priority": st.one_of(st.none(), st.integers(1, 4)),
            "tasks": st.lists(st.booleans(), max_size=2),
        }
    ),
    max_size=8,
)


def models(read: Any, update: Any, with_policy: bool) -> dict[str, Any]:
    section: dict[str, Any] = {"read": read, "update": update}
    if with_policy:
        section["policy"] = JobPolicy
    return {
        "Job": {
            "tenant_field": "client_id",
            "fields": {
                "title": "string",
                "status": "string",
                "priority": "integer",
                "client_id": "integer",
                "user_id": "integer",
            },
            "has_many": {"tasks": {"model": "PTask", "foreign_key": "job_id"}},
            "features": {"permissions": True},
            "permissions": section,
        },
        "PTask": {"fields": {"job_id": "integer", "done": "boolean"}},
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    read=RULES,
    update=RULES,
    with_policy=st.booleans(),
    users=st.lists(USERS, min_size=1, max_size=3),
    jobs=JOBS,
)
def test_scoped_reads_match_per_record_checks(
    db_url: str,
    read: Any,
    update: Any,
    with_policy: bool,
    users: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
) -> None:
    plugins = ["permissions"] if db_url == "memory://" else ["permissions", "sqlalchemy"]
    with ReactiveRecord(
        database=db_url,
        models=models(read, update, with_policy),
        plugins=plugins,
        config={"system_writes": True},
    ) as rr:
        rr.create_tables()
        with rr.transaction(), rr.acting_as(SYSTEM):
            rr.models.PTask.unscoped().destroy_all()
            rr.models.Job.unscoped().destroy_all()
            for number, job in enumerate(jobs):
                values = {k: v for k, v in job.items() if k != "tasks"}
                made = rr.models.Job.create({"title": f"job {number}", **values})
                for done in job["tasks"]:
                    rr.models.PTask.create({"job_id": made.id, "done": done})
        every = rr.models.Job.unscoped().order("id").all()
        for user in users:
            for action in ("read", "update"):
                expected = [
                    job.id for job in every if rr_permissions.allowed(rr, user, action, "Job", job)
                ]
                query = rr.models.Job.with_permissions(user, action).order("id")
                assert [job.id for job in query.all()] == expected
                assert query.count() == len(expected)
                assert [job.id for job in query.offset(1).limit(2).all()] == expected[1:3]
