"""The public functions: ask, require, explain and list permitted fields.

Each takes the instance first, because a process may hold several instances with
different rules: ``allowed(rr, alice, "update", rr.models.Job, job)``. ``model`` may be a
name, a :class:`~reactive_record.Model` or a handle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import PermissionDenied, Query
from reactive_record.actors import user_id
from reactive_record.model import Model

from .rules import Explanation
from .state import SYSTEM_WRITES, is_system, resolve_model, state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord

ModelRef = str | Model | Query[Any]


def allowed(
    rr: ReactiveRecord,
    user: Any,
    action: str,
    model: ModelRef,
    record: Mapping[str, Any] | None = None,
) -> bool:
    """Whether ``user`` may ``action`` ``record`` (None: any record of the model at all).

    A model without the permissions feature allows everything; no user allows nothing;
    an action the model does not declare is :class:`InvalidQuery` (a typo is not a deny).
    """
    definition = resolve_model(rr, model)
    state = state_of(rr)
    perms = state.of(definition)
    if perms is None:
        return True
    perms.require_action(action)
    if user is None:
        return False
    if is_system(user):
        return state.system_may(action)
    return perms.allows(user, action, record)


def authorize(
    rr: ReactiveRecord,
    user: Any,
    action: str,
    model: ModelRef,
    record: Mapping[str, Any] | None = None,
) -> None:
    """Raise :class:`PermissionDenied` (saying which rule refused) unless :func:`allowed`."""
    if allowed(rr, user, action, model, record):
        return
    definition = resolve_model(rr, model)
    perms = state_of(rr).of(definition)
    key = None if record is None else record.get(definition.primary_key)
    if user is None or perms is None:
        reason = "no acting user"
    elif is_system(user):
        reason = SYSTEM_WRITES
    else:
        reason = perms.reason(user, action, record, rr.clock())
    raise PermissionDenied(action, definition.name, key, user_id(user), reason)


def permitted_fields(
    rr: ReactiveRecord,
    user: Any,
    action: str,
    model: ModelRef,
    record: Mapping[str, Any] | None = None,
) -> frozenset[str]:
    """The fields ``user`` may write with ``action`` (every field when nothing limits it).

    Limited by ``permitted_fields.<action>.<role>`` in the model's section and by the
    policy's ``permitted_fields(action)``; pass ``record`` when the policy reads it.
    """
    definition = resolve_model(rr, model)
    perms = state_of(rr).of(definition)
    if perms is None or is_system(user):
        return frozenset(definition.fields)
    return perms.permitted_fields(user, perms.require_action(action), record)


def explain(
    rr: ReactiveRecord,
    user: Any,
    action: str,
    model: ModelRef,
    record: Mapping[str, Any] | None = None,
) -> Explanation:
    """Every rule ``action`` needs and its verdict on ``record``; ``str()`` prints it."""
    definition = resolve_model(rr, model)
    perms = state_of(rr).of(definition)
    if perms is None:
        return Explanation(f"{definition.name} does not enable permissions: allowed", True)
    if user is None:
        return Explanation(f"{action} {definition.name}: denied (no acting user)", False)
    if is_system(user):
        verdict = state_of(rr).system_may(action)
        why = "SYSTEM reads everything; it writes where system_writes = true"
        return Explanation(f"{action} {definition.name} as SYSTEM: {why}", verdict)
    return perms.explain(user, action, record, rr.clock())
