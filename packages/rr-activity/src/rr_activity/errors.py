"""rr-activity's refusals: every one is a :class:`reactive_record.ActivityRejected`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import ActivityRejected, ReactiveRecordError

if TYPE_CHECKING:
    from .client import BatchReport


class MalformedEntry(ActivityRejected):
    """The entry does not match :class:`EntrySchema`; ``messages`` are marshmallow's."""

    def __init__(self, messages: Mapping[str, Any], text: str, entry: Any = None) -> None:
        self.messages = dict(messages)
        super().__init__(f"malformed entry: {text}", entry)


class BatchRejected(ActivityRejected):
    """``validate_batch(..., all_or_nothing=True)`` refused the batch; nothing was stored.

    ``report`` says, entry by entry, which were acceptable and why the others were not.
    """

    def __init__(self, report: BatchReport) -> None:
        self.report = report
        refused = report.rejected
        detail = "; ".join(f"#{r.index}: {r.reason}" for r in refused)
        super().__init__(f"{len(refused)} of {len(report)} entries refused, none stored: {detail}")


class RevertError(ReactiveRecordError):
    """``revert`` cannot restore the requested version (the entry is of another record...)."""
