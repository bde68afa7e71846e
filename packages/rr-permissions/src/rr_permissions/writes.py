"""Writes: authorized inside the transaction, against the row before and after.

An update or destroy of a record the user cannot read is ``RecordNotFound`` (no
existence leak); one the user can read but not change is ``PermissionDenied``. The row as
it will be written must pass the action's rules too (PostgreSQL's WITH CHECK), so a job
cannot be moved to another tenant. Fields the user may not write are refused by name.
"""

from __future__ import annotations

from reactive_record import SYSTEM, Change, PermissionDenied, RecordNotFound
from reactive_record.actors import user_id

from .authority import ModelPermissions, field_names
from .state import SYSTEM_WRITES, is_system, state_of

#: ``change.meta`` key: the fields the caller asked to write, before defaults were filled.
REQUESTED = "permissions.requested"
AFTER_CHECK = "checked against the record as it would be written"


def remember_requested(change: Change) -> None:
    """Note which fields the caller wrote, before rewrites and defaults add others."""
    change.meta[REQUESTED] = frozenset(change.after)


def authorize_change(change: Change) -> None:
    """Refuse the change unless the user's rules allow it before and after; fields too."""
    state = state_of(change.rr)
    perms = state.of(change.model)
    if perms is None:
        return
    action, name, key, user = change.operation, change.model.name, change.key, change.user
    if user is None:
        raise PermissionDenied(
            action, name, key, None, "no acting user; pass user= or use rr.acting_as(user)"
        )
    if is_system(user):
        if state.system_writes:
            return
        raise PermissionDenied(
            action,
            name,
            key,
            SYSTEM.id,
            SYSTEM_WRITES,
        )
    now = change.rr.clock()
    uid = user_id(user)
    before = change.before
    if before is not None:
        if not perms.allows(user, "read", before, now):
            raise RecordNotFound(name, key)
        if not perms.allows(user, action, before, now):
            raise PermissionDenied(action, name, key, uid, perms.reason(user, action, before, now))
    if action == "destroy":
        return
    row = change.row
    if not perms.allows(user, action, row, now):
        reason = perms.reason(user, action, row, now)
        if before is not None:
            reason = f"{reason} ({AFTER_CHECK})"
        raise PermissionDenied(action, name, key, uid, reason)
    _check_fields(perms, change)


def _check_fields(perms: ModelPermissions, change: Change) -> None:
    written = set(change.changed_fields)
    requested = change.meta.get(REQUESTED)
    if requested is not None:
        written &= requested
    if not written:
        return
    record = change.before if change.before is not None else change.row
    permitted = perms.permitted_fields(change.user, change.operation, record)
    forbidden = sorted(written - permitted)
    if forbidden:
        raise PermissionDenied(
            change.operation,
            change.model.name,
            change.key,
            user_id(change.user),
            f"may not write {forbidden[0]} (may write: {field_names(permitted)})",
            field=forbidden[0],
        )
