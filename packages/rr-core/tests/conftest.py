"""Fixtures of rr-core's own tests: a small field-service schema on the MemoryStore.

The core's tests select no plugins (``plugins=[]``), so they test the core alone
whatever else is installed; tests that need the throwaway test plugin select it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from reactive_record import ReactiveRecord

#: Clients, users with roles, jobs, tasks and notes: the seed's domain.
MODELS: dict[str, Any] = {
    "Client": {
        "fields": {"name": {"type": "string", "null": False}},
        "has_many": {
            "jobs": {"model": "Job", "foreign_key": "client_id", "dependent": "destroy"},
            "users": {"model": "User", "foreign_key": "client_id"},
        },
    },
    "User": {
        "fields": {"name": "string", "role": "string", "client_id": "integer"},
        "belongs_to": {"client": {"model": "Client"}},
    },
    "Job": {
        "fields": {
            "title": {"type": "string", "length": 200, "null": False},
            "status": {"type": "string", "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "client_id": "integer",
            "user_id": "integer",
            "due_date": "date",
            "created_at": "datetime",
            "amount": {"type": "decimal", "precision": 12, "scale": 2},
            "ref": "uuid",
            "payload": "json",
            "code": "string",
            "lock_version": "integer",
        },
        "belongs_to": {"client": {"model": "Client"}, "user": {"model": "User"}},
        "has_many": {
            "tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"},
            "workers": {"model": "User", "through": "tasks", "foreign_key": "user_id"},
            "notes": {"model": "Note", "through": "tasks", "foreign_key": "task_id"},
        },
        "scopes": {
            "active": {"where": {"status": "active"}},
            "by_client": {"params": ["client_id"], "where": {"client_id": {"param": "client_id"}}},
            "urgent": {"where": {"priority": {"gte": 3}}, "order": ["-priority"]},
            "between_priorities": {
                "params": ["low", "high"],
                "where": {"priority": {"between": [{"param": "low"}, {"param": "high"}]}},
            },
        },
        "validations": {
            "status": {"inclusion": ["pending", "active", "completed", "cancelled"]},
            "priority": {"numericality": {"only_integer": True, "gte": 1, "lte": 5}},
            "code": {"format": "^[A-Z]{2}-[0-9]+$"},
            "title": {"length": {"min": 2}},
        },
    },
    "Task": {
        "fields": {
            "job_id": "integer",
            "user_id": "integer",
            "title": "string",
            "status": {"type": "string", "default": "open"},
        },
        "belongs_to": {"job": {"model": "Job"}, "user": {"model": "User"}},
        "has_many": {"notes": {"model": "Note", "foreign_key": "task_id", "dependent": "destroy"}},
    },
    "Note": {
        "fields": {"task_id": "integer", "body": "text"},
        "belongs_to": {"task": {"model": "Task"}},
    },
}

NOON = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


class Clock:
    """An injectable clock the tests move by hand."""

    def __init__(self, now: dt.datetime = NOON) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """A clock standing at noon, 1 June 2024 UTC."""
    return Clock()


@pytest.fixture
def build_rr(clock: Clock) -> Iterator[Callable[..., ReactiveRecord]]:
    """Build instances (core alone, MemoryStore, tables created); closed at the end."""
    made: list[ReactiveRecord] = []

    def make(models: dict[str, Any] | None = None, **kwargs: Any) -> ReactiveRecord:
        kwargs.setdefault("plugins", [])
        kwargs.setdefault("clock", clock)
        rr = ReactiveRecord(kwargs.pop("database", "memory://"), models or MODELS, **kwargs)
        rr.create_tables()
        made.append(rr)
        return rr

    yield make
    for rr in made:
        rr.close()


@pytest.fixture(scope="module")
def static_rr() -> Iterator[ReactiveRecord]:
    """One empty instance per module, for tests that only build queries (hypothesis)."""
    with ReactiveRecord("memory://", MODELS, plugins=[]) as rr:
        rr.create_tables()
        yield rr


@pytest.fixture
def rr(build_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    """The field-service schema, empty."""
    return build_rr()


@pytest.fixture
def seeded(rr: ReactiveRecord) -> ReactiveRecord:
    """Two clients, three users, four jobs, four tasks and two notes."""
    m = rr.models
    acme = m.Client.create({"name": "Acme"})
    globex = m.Client.create({"name": "Globex"})
    ann = m.User.create({"name": "Ann", "role": "admin", "client_id": acme.id})
    bob = m.User.create({"name": "Bob", "role": "technician", "client_id": acme.id})
    m.User.create({"name": "Cy", "role": "technician", "client_id": globex.id})
    fix = m.Job.create(
        {"title": "Fix boiler", "status": "active", "priority": 3, "client_id": acme.id}
    )
    m.Job.create({"title": "Paint hall", "status": "pending", "priority": 1, "client_id": acme.id})
    m.Job.create({"title": "Audit", "status": "active", "priority": 5, "client_id": globex.id})
    m.Job.create({"title": "Sweep", "status": "completed", "client_id": globex.id})
    t1 = m.Task.create({"job_id": fix.id, "user_id": ann.id, "title": "Order part"})
    m.Task.create({"job_id": fix.id, "user_id": bob.id, "title": "Fit part", "status": "done"})
    t3 = m.Task.create({"job_id": fix.id + 1, "user_id": bob.id, "title": "Buy paint"})
    m.Task.create({"job_id": fix.id + 2, "title": "Count"})
    m.Note.create({"task_id": t1.id, "body": "ordered"})
    m.Note.create({"task_id": t3.id, "body": "white"})
    return rr
