"""The demo step: an update of a job, the no-op save that logs nothing, and the history."""

from __future__ import annotations

from typing import Any

from reactive_record import Record

from .cli import show_value
from .history import version_at

#: The demo's Job logs its activity; the rest of its sections stay the core's.
MODELS: dict[str, Any] = {
    "Job": {
        "features": {"activity": True},
        "activity": {
            "track_fields": ["title", "description", "status", "priority", "user_id", "due_date"]
        },
    }
}


def _changes(entry: Record) -> str:
    return ", ".join(
        f"{c['field_name']}: {show_value(c['old_value'])} -> {show_value(c['new_value'])}"
        for c in entry["field_changes"]
    )


def show_history(demo: Any) -> None:
    """Update a job as its client's manager, save it again unchanged, print its history."""
    rr = demo.rr
    maria = demo.users["maria"]
    jobs = rr.models.Job
    with rr.acting_as(maria):
        job = jobs.where(client_id=maria["client_id"], status="pending").order("id").first()
        demo.say(f"maria, a manager at client {maria['client_id']}, starts job {job['id']}:")
        jobs.update(job["id"], {"status": "active", "priority": 4})
        jobs.update(job["id"], {"status": "active"})
        demo.say("Saving the same status again changed nothing, so it logged nothing.")
        found = jobs.with_activity_logs(limit=5).find(job["id"]).data
        entries = found.activity_logs
        demo.say(f">>> Job.with_activity_logs(limit=5).find({job['id']}).data.activity_logs")
        demo.table(
            [
                {
                    "created_at": e["created_at"],
                    "action": e["action"],
                    "user_id": e["user_id"],
                    "changes": _changes(e),
                }
                for e in entries
            ],
            max_width=None,
        )
        first = entries[-1]
        before = version_at(jobs, job["id"], first["created_at"])
        demo.show(
            f"rr_activity.version_at(Job, {job['id']}, <time of the first entry>)",
            before,
            ["id", "status", "priority"],
        )
