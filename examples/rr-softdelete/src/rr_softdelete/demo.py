"""A step for ``reactive-record demo``: the demo's jobs and tasks go to the trash and back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactive_record import hookimpl

from .restore import restore
from .settings import DEFAULT_FIELD, FEATURE

#: The demo's Job and Task get a timestamp field and the feature.
SECTIONS = {
    name: {"fields": {DEFAULT_FIELD: "datetime"}, "features": {FEATURE: True}}
    for name in ("Job", "Task")
}


def show_soft_delete(demo: Any) -> None:
    """Destroy a job as its client's admin, find it in the trash, restore it."""
    rr = demo.rr
    jobs, tasks = rr.models.Job, rr.models.Task
    admin = demo.users["alice"]
    with rr.acting_as(admin):
        job = jobs.where(client_id=admin.client_id).order("id").first()
        if job is None:
            demo.say("alice's client has no jobs to delete")
            return
        demo.show("Job.count()", jobs.count())
        jobs.destroy(job.id)
        demo.show(f"Job.destroy({job.id}); Job.count()", jobs.count())
        demo.fails(f"Job.find({job.id})", lambda: jobs.find(job.id))
        demo.show(
            "Job.only_deleted().all()",
            jobs.only_deleted().all(),
            ["id", "title", DEFAULT_FIELD],
        )
        demo.say("Its tasks went to the trash with it (Job.tasks is dependent = destroy):")
        demo.show(
            f"Task.only_deleted().where(job_id={job.id}).all()",
            tasks.only_deleted().where(job_id=job.id).all(),
            ["id", "job_id", "title", DEFAULT_FIELD],
        )
        demo.show(f"restore(Job, {job.id})", restore(jobs, job.id), ["id", "title", DEFAULT_FIELD])
        demo.show("Job.count()", jobs.count())


@hookimpl
def rr_demo_steps(register: Callable[..., None]) -> None:
    """Soft delete on the demo's jobs and tasks."""
    register("Soft delete (rr-softdelete, a third-party plugin)", show_soft_delete, SECTIONS)
