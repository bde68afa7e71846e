"""rr-permissions on the SQL store: the tenant predicate is in the statement that runs,
pages are exact with Python rules, and every refused write leaves the database unchanged
(rows, and activity log entries when rr-activity is installed).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("rr_permissions")
pytest.importorskip("rr_sqlalchemy")

from reactive_record import (
    SYSTEM,
    PermissionDenied,
    ReactiveRecord,
    ReactiveRecordError,
    RecordNotFound,
)

ACTIVITY = importlib.util.find_spec("rr_activity") is not None
#: Only the plugins under test (rr-activity when installed, to count its log entries).
PLUGINS = ["sqlalchemy", "permissions", *(["activity"] if ACTIVITY else [])]
RULES_MODULE = "rr_permissions_sql_rules"
ALICE = {"id": 1, "role": "admin", "client_id": 1}
MARIA = {"id": 2, "role": "manager", "client_id": 1}
TOM = {"id": 3, "role": "technician", "client_id": 1}
RAJ = {"id": 4, "role": "technician", "client_id": 2}
TENANT = {"type": "client_member"}


def even_priority(user: Any, record: Mapping[str, Any]) -> bool:
    """A rule only Python can decide (for the page-size test)."""
    del user
    return record["priority"] is not None and record["priority"] % 2 == 0


@pytest.fixture(autouse=True)
def rules_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module holding the custom rule, so config can name it as "module:function"."""
    module = types.ModuleType(RULES_MODULE)
    module.even_priority = even_priority  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, RULES_MODULE, module)


def models(read: Any = TENANT) -> dict[str, Any]:
    features = {"permissions": True, **({"activity": True} if ACTIVITY else {})}
    job: dict[str, Any] = {
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "null": False},
            "status": {"type": "string", "default": "pending"},
            "priority": "integer",
            "client_id": "integer",
            "user_id": "integer",
        },
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
        "indexes": [["client_id", "status"]],
        "features": features,
        "permissions": {
            "read": read,
            "create": {"all": [TENANT, {"type": "role_based", "roles": ["admin", "manager"]}]},
            "update": {
                "all": [TENANT, {"type": "role_based", "roles": ["admin", "manager", "technician"]}]
            },
            "destroy": {"all": [TENANT, {"type": "role_based", "roles": ["admin", "manager"]}]},
            "permitted_fields": {"update": {"technician": ["status"]}},
        },
    }
    if ACTIVITY:
        job["activity"] = {"track_fields": ["title", "status", "priority", "client_id"]}
    task = {
        "fields": {"title": "string", "job_id": "integer"},
        "belongs_to": {"job": {"model": "Job", "foreign_key": "job_id"}},
        "features": {"permissions": True},
        "permissions": {
            "read": {"job": {"any": TENANT_CONDITION}},
            "destroy": {"job": {"any": TENANT_CONDITION}},
        },
    }
    return {"Job": job, "Task": task}


TENANT_CONDITION = {"client_id": {"user": "client_id"}}


def seed(rr: ReactiveRecord, count: int) -> None:
    with rr.transaction(), rr.acting_as(SYSTEM):
        for number in range(count):
            job = rr.models.Job.create(
                {
                    "title": f"job {number}",
                    "status": ("pending", "active")[number % 2],
                    "priority": number % 5,
                    "client_id": number % 3 + 1,
                    "user_id": number % 4 + 1,
                }
            )
            rr.models.Task.create({"title": f"task {number}", "job_id": job.id})


@pytest.fixture
def rr(sql_db_url: str, make_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    made = make_rr(sql_db_url, models(), PLUGINS, config={"system_writes": True})
    seed(made, 30)
    return made


@contextmanager
def statements(rr: ReactiveRecord) -> Iterator[list[str]]:
    """The SQL text of every statement the store runs outside transactions, in order."""
    store: Any = rr.store
    ran: list[str] = []
    original = store.run

    def run(what: str, statement: Any, values: Any) -> Any:
        ran.append(statement.sql)
        return original(what, statement, values)

    store.run = run
    try:
        yield ran
    finally:
        del store.run


def test_the_tenant_predicate_is_in_the_statement(rr: ReactiveRecord) -> None:
    query = rr.models.Job.with_permissions(TOM).where(status="active").limit(20)
    plan = rr.engine.plan(query.spec)
    assert plan.post_filters == []
    statement, values = rr.store.select_for(plan)  # type: ignore[attr-defined]
    assert re.search(r"client_id\W*\s*=\s*(\?|%s|%\(|:)", statement.sql), statement.sql
    assert TOM["client_id"] in values
    with statements(rr) as ran:
        found = query.all()
        counted = rr.models.Job.with_permissions(TOM).count()
    assert ran == [statement.sql, ran[1]] and "client_id" in ran[1]
    assert found and {job.client_id for job in found} == {1}
    assert counted == rr.models.Job.unscoped().where(client_id=1).count()
    # the same statement as the hand-written WHERE: one shape, built once and reused
    hand = rr.models.Job.unscoped().where(status="active", client_id=1).limit(20)
    hand_statement, _ = rr.store.select_for(rr.engine.plan(hand.spec))  # type: ignore[attr-defined]
    assert hand_statement.sql == statement.sql


def test_association_rules_become_exists(rr: ReactiveRecord) -> None:
    plan = rr.engine.plan(rr.models.Task.with_permissions(RAJ).spec)
    statement, _ = rr.store.select_for(plan)  # type: ignore[attr-defined]
    assert "EXISTS" in statement.sql.upper()
    tasks = rr.models.Task.with_permissions(RAJ).includes("job").all()
    assert tasks and all(task.job.client_id == 2 for task in tasks)


def test_pages_are_exact_with_python_rules(
    sql_db_url: str, make_rr: Callable[..., ReactiveRecord]
) -> None:
    custom = {"all": [TENANT, {"type": "custom", "function": f"{RULES_MODULE}:even_priority"}]}
    rr = make_rr(sql_db_url, models(read=custom), PLUGINS, config={"system_writes": True})
    seed(rr, 240)
    expected = [
        job.id
        for job in rr.models.Job.unscoped().order("id").all()
        if job.client_id == 1 and job.priority % 2 == 0
    ]
    assert len(expected) > 40
    query = rr.models.Job.with_permissions(ALICE).order("id")
    pages = [query.limit(7).offset(start).all() for start in range(0, len(expected) + 7, 7)]
    assert [len(page) for page in pages[:-2]] == [7] * (len(pages) - 2)
    assert [job.id for page in pages for job in page] == expected
    assert query.count() == len(expected)
    assert query.limit(5).count() == 5


def counts(rr: ReactiveRecord) -> dict[str, Any]:
    found: dict[str, Any] = {
        name: [dict(r) for r in rr.models[name].unscoped().order("id").all()]
        for name in ("Job", "Task")
    }
    if ACTIVITY:
        found["ActivityLog"] = rr.models.ActivityLog.unscoped().count()
    return found


def refused_writes(
    rr: ReactiveRecord, unattended: ReactiveRecord
) -> list[tuple[str, Callable[[], Any], type[Exception]]]:
    """Refused writes; ``unattended`` shares the database with ``system_writes = false``."""
    jobs = rr.models.Job
    mine = jobs.unscoped().where(client_id=1).order("id").first()
    theirs = jobs.unscoped().where(client_id=2).order("id").first()
    assert mine is not None and theirs is not None

    def in_transaction() -> None:
        with rr.transaction():
            jobs.update(mine.id, {"status": "active"}, user=TOM)
            jobs.create({"title": "fine", "client_id": 1}, user=MARIA)
            jobs.update(mine.id, {"client_id": 2}, user=MARIA)

    return [
        (
            "update another tenant's job",
            lambda: jobs.update(theirs.id, {"status": "x"}, user=ALICE),
            RecordNotFound,
        ),
        (
            "destroy another tenant's job",
            lambda: jobs.destroy(theirs.id, user=ALICE),
            RecordNotFound,
        ),
        (
            "move a job to another tenant",
            lambda: jobs.update(mine.id, {"client_id": 2}, user=ALICE),
            PermissionDenied,
        ),
        (
            "write a forbidden field",
            lambda: jobs.update(mine.id, {"priority": 4}, user=TOM),
            PermissionDenied,
        ),
        (
            "create with the wrong role",
            lambda: jobs.create({"title": "t", "client_id": 1}, user=TOM),
            PermissionDenied,
        ),
        (
            "create for another tenant",
            lambda: jobs.create({"title": "t", "client_id": 2}, user=MARIA),
            PermissionDenied,
        ),
        ("destroy with the wrong role", lambda: jobs.destroy(mine.id, user=TOM), PermissionDenied),
        (
            "write without a user",
            lambda: unattended.models.Job.update(mine.id, {"status": "active"}),
            PermissionDenied,
        ),
        (
            "bulk move",
            lambda: jobs.where(status="pending").update_all({"client_id": 3}, user=MARIA),
            PermissionDenied,
        ),
        (
            "bulk forbidden field",
            lambda: jobs.update_all({"priority": 1}, user=TOM),
            PermissionDenied,
        ),
        (
            "bulk destroy without a user",
            lambda: unattended.models.Job.where(client_id=1).destroy_all(),
            PermissionDenied,
        ),
        ("refusal after allowed writes in a transaction", in_transaction, PermissionDenied),
    ]


def test_every_refused_write_leaves_the_database_unchanged(
    rr: ReactiveRecord, sql_db_url: str, make_rr: Callable[..., ReactiveRecord]
) -> None:
    # Where system_writes = true a write naming no user is a SYSTEM write, so the
    # no-user refusals run on an instance of the same database without it.
    unattended = make_rr(sql_db_url, models(), PLUGINS, config={"system_writes": False})
    for name, attempt, error in refused_writes(rr, unattended):
        before = counts(rr)
        with pytest.raises(error):
            attempt()
        assert counts(rr) == before, name


def test_system_writes_are_refused_unless_configured(
    sql_db_url: str, make_rr: Callable[..., ReactiveRecord]
) -> None:
    rr = make_rr(sql_db_url, models(), PLUGINS, config={"system_writes": False})
    before = counts(rr)
    with pytest.raises(ReactiveRecordError, match="system_writes"):
        rr.models.Job.create({"title": "s", "client_id": 1}, user=SYSTEM)
    assert counts(rr) == before


def test_live_reads_follow_records_into_and_out_of_reach(rr: ReactiveRecord) -> None:
    seen: list[list[int]] = []
    query = rr.models.Job.with_permissions(TOM).order("id")
    unsubscribe = query.subscribe(lambda snapshot: seen.append([j.id for j in snapshot.data]))
    try:
        outsider = rr.models.Job.unscoped().where(client_id=2).order("id").first()
        insider = rr.models.Job.unscoped().where(client_id=1).order("id").first()
        assert outsider is not None and insider is not None
        rr.models.Job.update(outsider.id, {"client_id": 1}, user=SYSTEM)
        assert outsider.id in seen[-1]
        rr.models.Job.update(insider.id, {"client_id": 2}, user=SYSTEM)
        assert insider.id not in seen[-1]
        assert seen[-1] == [job.id for job in query.all()]
    finally:
        unsubscribe()
