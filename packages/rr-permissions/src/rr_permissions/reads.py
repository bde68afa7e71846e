"""Reads: every read of a permissions-enabled model is scoped to its user, or refused.

Rules that are data become conditions of the plan, so the database filters and
``limit``, ``offset`` and counts are exact; Python rules become post-filters, which the
engine applies while still filling the limit. ``unscoped()`` is the explicit way out.
"""

from __future__ import annotations

from reactive_record import PermissionDenied, Plan, Record, RecordBatch
from reactive_record import conditions as cond

from .state import is_system, permissions_for

NO_USER = (
    "no acting user; use with_permissions(user, action), rr.acting_as(user), "
    "or unscoped() for a deliberate system read"
)


def scope_plan(plan: Plan) -> None:
    """AND the user's grant into ``plan`` (condition and post-filter), or refuse the read."""
    perms = permissions_for(plan.rr, plan.model)
    if perms is None or plan.unscoped:
        return
    action = perms.require_action(plan.action)
    user = plan.user
    if user is None:
        raise PermissionDenied(action, plan.model.name, rule=NO_USER)
    if is_system(user):
        return
    grant = perms.grant(user, action, plan.now)
    if grant.condition != cond.TRUE:
        plan.add_condition(grant.condition)
    if grant.test is not None:
        plan.add_post_filter(grant.test)


def hide_fields(plan: Plan, records: RecordBatch) -> None:
    """Drop the fields the user's role may not see from each record, in place."""
    perms = permissions_for(plan.rr, plan.model)
    if perms is None or plan.unscoped or plan.user is None or is_system(plan.user):
        return
    hidden = perms.hidden_fields(plan.user)
    if not hidden:
        return
    for position, record in enumerate(records):
        kept = {name: value for name, value in record.items() if name not in hidden}
        records[position] = Record(record.model_name, kept, record.extra or None)
