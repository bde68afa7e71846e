"""Building log entries (from an engine change, or from a client's data) and storing them."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import request_context
from .chain import link
from .codec import REDACTED, encode, json_safe
from .state import SYSTEM_ID, ActivityState, identity

if TYPE_CHECKING:
    from reactive_record import Change, Transaction

    from .settings import ModelActivity

#: Entry fields that are often empty (no UUID, no tenant, no chain).
OPTIONAL_FIELDS = ("entity_uuid", "client_id", "prev_hash")


def field_change(name: str, old: Any, new: Any, data_type: str, redact: bool) -> dict[str, Any]:
    """One ``{field_name, old_value, new_value, data_type}`` in its stored (JSON) form."""
    if redact:
        return {
            "field_name": name,
            "old_value": REDACTED,
            "new_value": REDACTED,
            "data_type": data_type,
        }
    return {
        "field_name": name,
        "old_value": encode(old, data_type),
        "new_value": encode(new, data_type),
        "data_type": data_type,
    }


def diff(
    activity: ModelActivity,
    operation: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The tracked fields that differ: all non-null ones for a create or a destroy."""
    types = activity.types
    redact = activity.redact
    old_row: Mapping[str, Any] = {} if before is None else before
    out = []
    if operation == "update":  # the common case first, with as little work as it needs
        for name in activity.tracked:
            if name in after:
                old, new = old_row.get(name), after[name]
                if old != new:
                    out.append(field_change(name, old, new, types[name], name in redact))
        return out
    for name in activity.tracked:
        if operation == "create":
            old, new = None, after.get(name)
            if new is None:
                continue
        else:
            old, new = old_row.get(name), None
            if old is None:
                continue
        out.append(field_change(name, old, new, types[name], name in redact))
    return out


def base_metadata(
    state: ActivityState, created_at: dt.datetime, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Where and when an entry was made, plus what the application added."""
    metadata: dict[str, Any] = {
        "client_generated": False,
        "timestamp": created_at.isoformat(),
        "host": state.host,
        "process": os.getpid(),
        "request_id": None,
    }
    if extra:
        metadata.update(json_safe(dict(extra), "metadata"))
    return metadata


def now(state: ActivityState) -> dt.datetime:
    """The instance clock's time as aware UTC."""
    moment = state.rr.clock()
    if moment.tzinfo is dt.timezone.utc:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def entry_for_change(
    state: ActivityState, activity: ModelActivity, change: Change, tx: Transaction
) -> dict[str, Any] | None:
    """The entry one written change logs, or None when no tracked field changed."""
    operation = change.operation
    after = change.after
    changes = diff(activity, operation, change.before, after)
    if operation == "update" and not changes:
        return None
    before = change.before
    row: Mapping[str, Any] = after if operation != "destroy" else ({} if before is None else before)
    action, extra = request_context.current()
    created_at = now(state)
    entry_id = state.new_id()
    entry = {
        "id": entry_id,
        "entity_type": activity.model.name,
        "entity_id": str(change.key),
        "client_id": state.client_id(activity, row),
        "user_id": identity(change.user) or SYSTEM_ID,
        "action": action or operation,
        "field_changes": changes,
        "metadata": base_metadata(state, created_at, extra),
        "transaction_id": state.transaction_id(tx, entry_id),
        "created_at": created_at,
    }
    if activity.uuid_field:
        entry["entity_uuid"] = row.get(activity.uuid_field)
    return entry


def append(
    state: ActivityState,
    tx: Transaction,
    activity: ModelActivity,
    entry: dict[str, Any],
    read_back: bool = True,
) -> dict[str, Any]:
    """Store ``entry`` in ``tx``; on a chained model, link it to the record's chain first.

    Empty optional fields are left out of the INSERT (they are NULL all the same). With
    ``read_back=False`` the entry is not read back (every value of it is made here): the
    return value is the entry as sent.
    """
    if activity.chain:
        link(state, tx, entry)
    for name in OPTIONAL_FIELDS:
        if entry.get(name, 0) is None:
            del entry[name]
    return tx.insert(state.log_model, entry, read_back=read_back)
