"""Fixtures of rr-permissions' own tests: a small field-service schema, users and seeds.

``build(section, ...)`` makes an instance (memory store unless ``url`` says otherwise)
whose ``Job`` enables permissions with ``section`` as its rules.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from reactive_record import SYSTEM, ReactiveRecord

HERE = Path(__file__).parent

ALICE = {"id": 1, "role": "admin", "client_id": 1}
MARIA = {"id": 2, "role": "manager", "client_id": 1}
TOM = {"id": 3, "role": "technician", "client_id": 1}
RAJ = {"id": 4, "role": "technician", "client_id": 2}
VIEWER = {"id": 5, "role": "viewer", "client_id": 1}

TENANT_READ = {"type": "client_member"}
STANDARD = {
    "read": TENANT_READ,
    "create": {"all": [TENANT_READ, {"type": "role_based", "roles": ["admin", "manager"]}]},
    "update": {
        "all": [TENANT_READ, {"type": "role_based", "roles": ["admin", "manager", "technician"]}]
    },
    "destroy": {"all": [TENANT_READ, {"type": "role_based", "roles": ["admin", "manager"]}]},
}


def job_models(
    section: Mapping[str, Any] | None, task_section: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Client, Job (tenant client_id, owner user_id) and Task; Job enables permissions."""
    job: dict[str, Any] = {
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "null": False},
            "status": {"type": "string", "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "client_id": "integer",
            "user_id": "integer",
            "description": "text",
            "secret_note": "text",
        },
        "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id"}},
    }
    if section is not None:
        job["features"] = {"permissions": True}
        job["permissions"] = dict(section)
    task: dict[str, Any] = {
        "fields": {"title": "string", "job_id": "integer", "done": "boolean"},
        "belongs_to": {"job": {"model": "Job", "foreign_key": "job_id"}},
    }
    if task_section is not None:
        task["features"] = {"permissions": True}
        task["permissions"] = dict(task_section)
    return {"Client": {"fields": {"name": "string"}}, "Job": job, "Task": task}


@pytest.fixture
def build() -> Iterator[Callable[..., ReactiveRecord]]:
    """``build(section, url="memory://", task_section=None, **config)``: a fresh instance
    holding clients 1-3."""
    made: list[ReactiveRecord] = []

    def make(
        section: Mapping[str, Any] | None,
        url: str = "memory://",
        task_section: Mapping[str, Any] | None = None,
        **config: Any,
    ) -> ReactiveRecord:
        settings = {"system_writes": True, **config}
        rr = ReactiveRecord(
            database=url,
            models=job_models(section, task_section),
            plugins=["permissions"],
            config=settings,
        )
        made.append(rr)
        rr.create_tables()
        with rr.transaction() as tx:  # the tenants every job belongs to (a foreign key)
            for number in (1, 2, 3):
                tx.insert(rr.model_definition("Client"), {"id": number, "name": f"client {number}"})
        return rr

    yield make
    for rr in made:
        rr.close()


def seed(rr: ReactiveRecord, count: int = 12) -> None:
    """``count`` jobs over clients 1-3, owners 1-5, priorities 1-4; two tasks each."""
    with rr.transaction(), rr.acting_as(SYSTEM):
        for number in range(1, count + 1):
            job = rr.models.Job.create(
                {
                    "title": f"job {number}",
                    "status": ("pending", "active", "completed")[number % 3],
                    "priority": number % 4 + 1,
                    "client_id": (number // 3) % 3 + 1,
                    "user_id": number % 5 + 1,
                    "secret_note": f"note {number}",
                }
            )
            for step in (1, 2):
                rr.models.Task.create(
                    {"title": f"task {number}.{step}", "job_id": job.id, "done": step == 1}
                )


@pytest.fixture
def policies_on_path() -> Iterator[str]:
    """Make ``tests/policies`` importable as the package ``policies``."""
    sys.path.insert(0, str(HERE))
    try:
        yield "policies"
    finally:
        sys.path.remove(str(HERE))
        for name in [m for m in sys.modules if m == "policies" or m.startswith("policies.")]:
            del sys.modules[name]
