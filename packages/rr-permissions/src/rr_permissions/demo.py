"""The demo's permissions step: two users of different tenants and roles, one refused update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactive_record import PermissionDenied

from .config import FEATURE

CLIENT_MEMBER = {"type": "client_member"}

#: The demo's Job rules: tenants see their own jobs; technicians change status and notes.
JOB_PERMISSIONS = {
    "read": CLIENT_MEMBER,
    "create": {"all": [CLIENT_MEMBER, {"type": "role_based", "roles": ["admin", "manager"]}]},
    "update": {
        "all": [CLIENT_MEMBER, {"type": "role_based", "roles": ["admin", "manager", "technician"]}]
    },
    "destroy": {"all": [CLIENT_MEMBER, {"type": "role_based", "roles": ["admin", "manager"]}]},
    "permitted_fields": {"update": {"technician": ["status", "description"]}},
    "hidden_fields": {"technician": ["lock_version"]},
}


def register_steps(register: Callable[..., None]) -> None:
    """Register the step and switch permissions on for the demo's jobs."""
    register(
        "Permissions: each user sees their tenant's jobs; writes are checked",
        step,
        models={"Job": {"features": {FEATURE: True}, FEATURE: JOB_PERMISSIONS}},
    )


def step(demo: Any) -> None:
    """Show two users' views of the jobs, and updates the rules refuse."""
    jobs = demo.rr.models.Job
    maria, raj, tom = demo.users["maria"], demo.users["raj"], demo.users["tom"]
    demo.say("Job enables permissions: read = client_member; technicians may update only")
    demo.say("status and description. Every read must say who is reading.")
    demo.fails("jobs.count()", jobs.count)
    columns = ["id", "title", "status", "client_id"]
    demo.say(f"maria is a {maria.role} at client {maria.client_id}:")
    demo.show(
        'jobs.with_permissions(maria, "read").all()', jobs.with_permissions(maria).all(), columns
    )
    demo.say(f"raj is a {raj.role} at client {raj.client_id}:")
    demo.show('jobs.with_permissions(raj, "read").all()', jobs.with_permissions(raj).all(), columns)
    job = jobs.with_permissions(tom).order("id").first()
    demo.say(
        f"tom, a technician at client {tom.client_id}, may change a job's status, not its priority:"
    )
    demo.show(
        f'jobs.update({job.id}, {{"status": "active"}}, user=tom).status',
        jobs.update(job.id, {"status": "active"}, user=tom).status,
    )
    error = demo.fails(
        f'jobs.update({job.id}, {{"priority": 5}}, user=tom)',
        lambda: jobs.update(job.id, {"priority": 5}, user=tom),
    )
    assert isinstance(error, PermissionDenied) and error.field == "priority"
    demo.say("Moving a job to another tenant is refused against the row as it would be written:")
    demo.fails(
        f'jobs.update({job.id}, {{"client_id": {raj.client_id}}}, user=maria)',
        lambda: jobs.update(job.id, {"client_id": raj.client_id}, user=maria),
    )
    demo.say("And raj cannot even see that job, so for him it does not exist:")
    demo.fails(
        f"jobs.with_permissions(raj).find({job.id})",
        lambda: jobs.with_permissions(raj).find(job.id),
    )
