"""The demo's field-service app: its models (the TOML models table as data) and seed rows.

``examples/fieldservice/pyproject.toml`` holds the same models as TOML, for users to copy;
a test keeps the two in step. Features are not switched on here: each installed plugin
switches on its own through ``rr_demo_steps(register)``'s ``models`` argument.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import ReactiveRecord
    from .records import Record

JOB_STATUSES = ["pending", "active", "completed", "cancelled"]
ROLES = ["admin", "manager", "technician"]

MODELS: dict[str, dict[str, Any]] = {
    "Client": {
        "table": "clients",
        "fields": {
            "name": {"type": "string", "length": 100, "null": False},
            "city": "string",
        },
        "has_many": {
            "users": {"model": "User", "foreign_key": "client_id"},
            "jobs": {"model": "Job", "foreign_key": "client_id"},
        },
        "validations": {"name": {"presence": True, "length": {"min": 2, "max": 100}}},
    },
    "User": {
        "table": "users",
        "fields": {
            "name": {"type": "string", "length": 100, "null": False},
            "email": {"type": "string", "length": 200, "null": False},
            "role": {"type": "string", "null": False, "default": "technician"},
            "client_id": "integer",
        },
        "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "user_id"}},
        "indexes": [["email"]],
        "scopes": {"with_role": {"params": ["role"], "where": {"role": {"param": "role"}}}},
        "validations": {
            "email": {"format": "^[^@\\s]+@[^@\\s]+$"},
            "role": {"inclusion": ROLES},
        },
    },
    "Job": {
        "table": "jobs",
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "length": 200, "null": False},
            "description": "text",
            "status": {"type": "string", "default": "pending", "null": False},
            "priority": {"type": "integer", "default": 2, "null": False},
            "client_id": {"type": "integer", "null": False},
            "user_id": "integer",
            "due_date": "date",
            "created_at": "datetime",
            "lock_version": {"type": "integer", "default": 0, "null": False},
        },
        "belongs_to": {
            "client": {"model": "Client", "foreign_key": "client_id"},
            "user": {"model": "User", "foreign_key": "user_id"},
        },
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
        "indexes": [["status", "priority"], ["client_id", "status"]],
        "scopes": {
            "active": {"where": {"status": "active"}},
            "open": {"where": {"status": ["pending", "active"]}},
            "by_client": {"params": ["client_id"], "where": {"client_id": {"param": "client_id"}}},
            "due_before": {"params": ["day"], "where": {"due_date": {"lt": {"param": "day"}}}},
            "urgent": {"where": {"priority": {"gte": 4}}, "order": ["-priority", "due_date"]},
        },
        "validations": {
            "title": {"presence": True, "length": {"min": 3, "max": 200}},
            "status": {"inclusion": JOB_STATUSES},
            "priority": {"numericality": {"only_integer": True, "gte": 1, "lte": 5}},
        },
    },
    "Task": {
        "table": "tasks",
        "fields": {
            "title": {"type": "string", "length": 200, "null": False},
            "status": {"type": "string", "default": "open", "null": False},
            "job_id": {"type": "integer", "null": False},
            "position": {"type": "integer", "default": 1, "null": False},
        },
        "belongs_to": {"job": {"model": "Job", "foreign_key": "job_id"}},
        "indexes": [["job_id", "position"]],
        "validations": {"status": {"inclusion": ["open", "done"]}},
    },
}

CLIENTS = [
    {"name": "Acme Facilities", "city": "Leeds"},
    {"name": "Northwind Property", "city": "Bristol"},
    {"name": "Globex Hospital", "city": "York"},
]

#: (name, role, client name)
USERS = [
    ("alice", "admin", "Acme Facilities"),
    ("maria", "manager", "Acme Facilities"),
    ("tom", "technician", "Acme Facilities"),
    ("nina", "manager", "Northwind Property"),
    ("raj", "technician", "Northwind Property"),
    ("omar", "technician", "Globex Hospital"),
]

#: (title, status, priority, client name, assignee or None, days until due or None, tasks)
JOBS: list[tuple[str, str, int, str, str | None, int | None, list[str]]] = [
    (
        "Replace boiler pressure valve",
        "active",
        4,
        "Acme Facilities",
        "tom",
        2,
        ["Isolate supply", "Swap valve", "Pressure test"],
    ),
    (
        "Annual HVAC inspection",
        "pending",
        2,
        "Acme Facilities",
        None,
        14,
        ["Check filters", "Log readings"],
    ),
    (
        "Fix leaking roof drain",
        "active",
        5,
        "Acme Facilities",
        "tom",
        -1,
        ["Clear gutter", "Reseal outlet"],
    ),
    (
        "Service lift motor",
        "completed",
        3,
        "Acme Facilities",
        "tom",
        -10,
        ["Lubricate", "Load test"],
    ),
    (
        "Rewire server room",
        "pending",
        3,
        "Northwind Property",
        "raj",
        7,
        ["Survey cabling", "Order parts", "Install", "Certify"],
    ),
    ("Repair fire door closer", "active", 4, "Northwind Property", "raj", 1, ["Replace closer"]),
    ("Paint stairwell", "cancelled", 1, "Northwind Property", None, None, []),
    (
        "Install backup generator",
        "pending",
        5,
        "Globex Hospital",
        "omar",
        3,
        ["Site survey", "Pour base", "Connect transfer switch"],
    ),
    ("Check emergency lighting", "active", 2, "Globex Hospital", "omar", 5, ["Test each fitting"]),
    ("Unblock kitchen drain", "pending", 3, "Globex Hospital", None, None, ["Jet the drain"]),
]


def seed(rr: ReactiveRecord) -> dict[str, Record]:
    """Write the seed rows through the engine in one transaction; the users by name.

    Due dates are relative to today on ``rr.clock``, so the demo reads the same any day.
    """
    now = rr.clock()
    today = now.date()
    models = rr.models
    with rr.transaction():
        clients = {row["name"]: models.Client.create(row) for row in CLIENTS}
        users = {
            name: models.User.create(
                {
                    "name": name,
                    "email": f"{name}@{client.split()[0].lower()}.example",
                    "role": role,
                    "client_id": clients[client].id,
                }
            )
            for name, role, client in USERS
        }
        for age, (title, status, priority, client, assignee, due, tasks) in enumerate(JOBS):
            job = models.Job.create(
                {
                    "title": title,
                    "status": status,
                    "priority": priority,
                    "client_id": clients[client].id,
                    "user_id": users[assignee].id if assignee else None,
                    "due_date": today + dt.timedelta(days=due) if due is not None else None,
                    "created_at": now - dt.timedelta(days=len(JOBS) - age),
                }
            )
            for position, task in enumerate(tasks, start=1):
                done = status == "completed" or (status == "active" and position == 1)
                models.Task.create(
                    {
                        "title": task,
                        "status": "done" if done else "open",
                        "job_id": job.id,
                        "position": position,
                    }
                )
    return users
