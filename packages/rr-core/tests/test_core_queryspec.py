"""QuerySpec: immutable data with a canonical fingerprint and a JSON form."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactive_record import QuerySpec, ReactiveRecord

#: Keyword conditions a query may be built from, each valid for Job.
TERMS: dict[str, Any] = {
    "status": "active",
    "priority": {"gte": 2, "lt": 5},
    "client_id": [1, 2],
    "user_id": None,
    "title": {"like": "Fix%"},
    "created_at": {"gt": {"ago": "1d"}},
    "tasks": {"any": {"status": "open"}},
}

terms = st.lists(st.sampled_from(sorted(TERMS)), min_size=1, unique=True)


def test_spec_and_query_are_immutable(rr: ReactiveRecord) -> None:
    query = rr.models.Job.where(status="active")
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.spec.limit = 3  # type: ignore[misc]
    limited = query.order("-priority").limit(3).offset(1).includes("tasks")
    assert query.spec.limit is None and query.spec.order == () and query.spec.includes == ()
    assert limited.spec.limit == 3 and limited.spec.offset == 1
    assert limited.spec.order == (("priority", True),)
    assert rr.models.Job.spec == QuerySpec("Job")


def test_to_data_is_the_json_query_payload(rr: ReactiveRecord) -> None:
    query = rr.models.Job.where(status="active").order("-priority").limit(20).includes("tasks")
    data = query.spec.to_data()
    assert data == {
        "model": "Job",
        "where": {"status": {"eq": "active"}},
        "order": ["-priority"],
        "limit": 20,
        "offset": 0,
        "includes": ["tasks"],
    }
    json.dumps(data)


@settings(max_examples=60, deadline=None)
@given(order=terms.flatmap(lambda names: st.tuples(st.just(names), st.permutations(names))))
def test_keyword_order_does_not_change_the_fingerprint(
    static_rr: ReactiveRecord, order: tuple[list[str], list[str]]
) -> None:
    rr = static_rr
    first, second = order
    a = rr.models.Job.where(**{name: TERMS[name] for name in first})
    b = rr.models.Job.where(**{name: TERMS[name] for name in second})
    assert a.spec.fingerprint == b.spec.fingerprint


@settings(max_examples=60, deadline=None)
@given(order=terms.flatmap(lambda names: st.tuples(st.just(names), st.permutations(names))))
def test_chained_where_order_does_not_change_the_fingerprint(
    static_rr: ReactiveRecord, order: tuple[list[str], list[str]]
) -> None:
    rr = static_rr
    first, second = order
    a, b = rr.models.Job.limit(5), rr.models.Job.limit(5)
    for name in first:
        a = a.where({name: TERMS[name]})
    for name in second:
        b = b.where({name: TERMS[name]})
    assert a.spec.fingerprint == b.spec.fingerprint


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 50), min_size=1, max_size=6), data=st.data())
def test_in_lists_and_nesting_are_canonical(
    static_rr: ReactiveRecord, values: list[int], data: st.DataObject
) -> None:
    jobs = static_rr.models.Job
    shuffled = data.draw(st.permutations(values))
    assert (
        jobs.where(priority=values).spec.fingerprint
        == jobs.where(priority=list(shuffled) + values[:1]).spec.fingerprint
    )
    chained = jobs.where(priority=values).where(status="active")
    nested = jobs.where({"and": [{"status": "active"}, {"and": [{"priority": shuffled}]}]})
    assert chained.spec.fingerprint == nested.spec.fingerprint
    assert (
        chained.spec.fingerprint
        != jobs.where({"or": [{"priority": values}, {"status": "active"}]}).spec.fingerprint
    )


@settings(max_examples=40, deadline=None)
@given(
    a=st.fixed_dictionaries({"id": st.integers(1, 5), "role": st.sampled_from(["admin", "tech"])}),
    b=st.fixed_dictionaries({"id": st.integers(1, 5), "role": st.sampled_from(["admin", "tech"])}),
)
def test_different_users_give_different_fingerprints(
    static_rr: ReactiveRecord, a: dict[str, Any], b: dict[str, Any]
) -> None:
    rr = static_rr
    query = rr.models.Job.where(status="active")
    same = query.as_user(a).spec.fingerprint == query.as_user(b).spec.fingerprint
    assert same is (a == b)
    with rr.acting_as(a):
        built_as_a = rr.models.Job.where(status="active")
    with rr.acting_as(b):
        built_as_b = rr.models.Job.where(status="active")
    assert (built_as_a.spec.fingerprint == built_as_b.spec.fingerprint) is (a == b)
    assert built_as_a.spec.fingerprint != query.spec.fingerprint


@dataclasses.dataclass(frozen=True, slots=True)
class SlotsUser:
    id: int
    role: str


class NamedUser(NamedTuple):
    user_id: int
    tenant_id: int


class PropertyUser:
    def __init__(self, id: int, roles: list[str]) -> None:
        self.id = id
        self._roles = roles

    @property
    def role(self) -> str:
        return self._roles[0]


class Lazy:
    """An ORM-style descriptor: reading it would run a query."""

    reads = 0

    def __get__(self, user: object, owner: type) -> list[str]:
        Lazy.reads += 1
        return ["a query's rows"]


class OrmUser:
    posts = Lazy()
    kind = "staff"  # a class attribute a rule may read

    def __init__(self, id: int) -> None:
        self.id = id


class Contractor(OrmUser):
    kind = "contractor"


def test_a_users_identity_reads_no_foreign_descriptor(static_rr: ReactiveRecord) -> None:
    query = static_rr.models.Job.where(status="active")
    staff, contractor = query.as_user(OrmUser(1)), query.as_user(Contractor(1))
    assert staff.spec.fingerprint != contractor.spec.fingerprint
    assert Lazy.reads == 0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (SlotsUser(1, "admin"), SlotsUser(1, "tech")),
        (NamedUser(1, 10), NamedUser(1, 20)),
        (PropertyUser(1, ["admin"]), PropertyUser(1, ["tech"])),
    ],
    ids=["slots-dataclass", "namedtuple", "property"],
)
def test_users_differing_only_in_slots_fields_or_properties_do_not_share(
    static_rr: ReactiveRecord, a: object, b: object
) -> None:
    query = static_rr.models.Job.where(status="active")
    assert query.as_user(a).spec.fingerprint != query.as_user(b).spec.fingerprint
    assert query.as_user(a).spec.fingerprint == query.as_user(a).spec.fingerprint


def test_meaning_changes_the_fingerprint(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    prints = {
        jobs.spec.fingerprint,
        jobs.where(status="active").spec.fingerprint,
        jobs.where(status="pending").spec.fingerprint,
        jobs.where(status="active").limit(1).spec.fingerprint,
        jobs.where(status="active").offset(1).spec.fingerprint,
        jobs.where(status="active").order("title").spec.fingerprint,
        jobs.where(status="active").order("-title").spec.fingerprint,
        jobs.where(status="active").includes("tasks").spec.fingerprint,
        jobs.where(status="active").unscoped().spec.fingerprint,
        rr.models.Task.spec.fingerprint,
    }
    assert len(prints) == 10


def test_presentation_options_do_not_change_the_fingerprint(rr: ReactiveRecord) -> None:
    query = rr.models.Job.where(status="active")
    assert query.with_ttl("5m").spec.fingerprint == query.spec.fingerprint
    labelled = query.with_computed({"label": lambda job: job.title})
    assert labelled.spec.fingerprint == query.spec.fingerprint
