"""The demo's defaults step: a new-job form pre-filled from the schema, before any save."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from .api import describe, populate_form, server_generated
from .commands import row
from .config import FEATURE

#: The demo's Job defaults: the schema's, plus a due date a week after the record is made.
JOB_DEFAULTS = {"computed": {"due_date": "rr_defaults.demo:due_in_a_week"}}


def due_in_a_week(record: Mapping[str, Any], user: Any) -> dt.date:
    """A computed default: seven days after today (UTC)."""
    return dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=7)


def register_steps(register: Callable[..., None]) -> None:
    """Register the step and switch defaults on for the demo's jobs."""
    register(
        "Defaults: a new-job form pre-filled from the schema",
        step,
        models={"Job": {"features": {FEATURE: True}, FEATURE: JOB_DEFAULTS}},
    )


def step(demo: Any) -> None:
    """Show where each Job default comes from, a pre-filled form, and that saving agrees."""
    rr = demo.rr
    jobs = rr.models.Job
    maria = demo.users["maria"]
    demo.say("Job enables defaults: the database's column defaults, read by reflection, and a")
    demo.say("computed due date. `reactive-record defaults show Job` prints the same table:")
    demo.table([row(entry) for entry in describe(jobs)], max_width=None)
    generated = ", ".join(sorted(server_generated(jobs)))
    demo.say(f"Server-generated, so forms leave them out: {generated}")
    form: dict[str, str] = {"title": "Service the lift"}
    populate_form(form, jobs)
    demo.say("A new-job form, pre-filled before anything is saved (values are form strings):")
    demo.show('populate_form({"title": "Service the lift"}, rr.models.Job)', form)
    unsaved = jobs.new(title="Service the lift", client_id=maria.client_id)
    demo.show(f'Job.new(title="Service the lift", client_id={maria.client_id})', unsaved)
    saved = jobs.create({"title": "Service the lift", "client_id": maria.client_id}, user=maria)
    demo.show(f'Job.create({{"title": "Service the lift", "client_id": {maria.client_id}}})', saved)
    same = [name for name in ("status", "priority", "due_date") if saved[name] == unsaved[name]]
    demo.say(f"What the form showed is what was stored: {', '.join(same)} agree.")
    assert len(same) == 3, "new() and create() disagree on a default"
