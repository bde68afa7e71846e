"""rr-activity: a field-level activity log, atomic with every change, tamper-evident.

Install it and set ``features = { activity = true }`` on a model: every create, update
and destroy through the engine writes an ``ActivityLog`` entry in the same transaction.
A record is named by its model's handle (which knows its instance) or by the instance
and a model name; client entries take the instance first, since one process may hold
several::

    import rr_activity

    Job = rr.models.Job
    rr_activity.history(Job, 42)                                # newest first
    rr_activity.version_at(Job, 42, when)                       # tracked fields then
    rr_activity.revert(Job, 42, to=entry_id, user=alice)        # a new, logged change
    entry = rr_activity.generate(rr, job_before, {"status": "active"}, alice)
    rr_activity.validate(rr, entry, authenticated_user)         # on the authority's side
    with rr_activity.context(request_id="r-17"): ...            # metadata of entries
"""

from reactive_record import ActivityRejected

from .chain import ChainProblem, VerifyReport, verify
from .client import BatchReport, EntryResult, generate, validate, validate_batch
from .codec import REDACTED
from .errors import BatchRejected, MalformedEntry, RevertError
from .history import history, revert, version_at
from .logmodel import LOG_MODEL
from .request_context import context
from .schema import EntrySchema, FieldChangeSchema

__all__ = [
    "LOG_MODEL",
    "REDACTED",
    "ActivityRejected",
    "BatchRejected",
    "BatchReport",
    "ChainProblem",
    "EntryResult",
    "EntrySchema",
    "FieldChangeSchema",
    "MalformedEntry",
    "RevertError",
    "VerifyReport",
    "context",
    "generate",
    "history",
    "revert",
    "validate",
    "validate_batch",
    "verify",
    "version_at",
]
