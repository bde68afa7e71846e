"""Reading a record's history, and its versions: ``history``, ``version_at``, ``revert``.

Each names its record either by the model's handle, which knows its instance
(``history(rr.models.Job, 42)``), or by the instance and a model name
(``history(rr, "Job", 42)``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, overload

from reactive_record import (
    InvalidQuery,
    ModelHandle,
    Query,
    ReactiveRecord,
    Record,
    RecordNotFound,
)

from . import request_context
from .codec import REDACTED
from .errors import RevertError
from .logmodel import NEWEST_FIRST
from .settings import ModelActivity
from .state import ActivityState, model_name, state_of

_ORDER = tuple(("-" if descending else "") + name for name, descending in NEWEST_FIRST)


def _activity(state: ActivityState, model: Any) -> ModelActivity:
    name = model_name(model)
    activity = state.activity(name)
    if activity is None:
        state.rr.model_definition(name)  # an unknown model is a ConfigError naming the models
        raise InvalidQuery(f"{name} does not keep an activity log (features.activity is off)")
    return activity


def _target(
    function: str, args: tuple[Any, ...], rest: int
) -> tuple[ReactiveRecord, Any, tuple[Any, ...]]:
    """``(rr.models.Job, *rest)`` or ``(rr, model, *rest)`` as (instance, model, rest)."""
    if args and isinstance(args[0], Query):
        rr, model, tail = args[0].rr, args[0], args[1:]
    elif len(args) > 1 and isinstance(args[0], ReactiveRecord):
        rr, model, tail = args[0], args[1], args[2:]
    else:
        raise TypeError(f"{function}() takes a model handle (rr.models.Job), or rr and a model")
    if len(tail) != rest:
        raise TypeError(f"{function}() takes the model, then {rest} more argument(s)")
    return rr, model, tail


def _handle_user(target: tuple[Any, ...], user: Any) -> Any:
    """``user``, else the user a handle was bound to (``rr.models.Job.as_user(alice)``)."""
    if user is None and target and isinstance(target[0], Query):
        return target[0].spec.option("user")
    return user


def _key(activity: ModelActivity, key: Any) -> Any:
    model = activity.model
    return model.field(model.primary_key).coerce(key, model.name)


@overload
def history(
    model: Query[Any],
    key: Any,
    /,
    *,
    limit: int | None = None,
    user: Any = None,
    unscoped: bool = False,
) -> tuple[Record, ...]: ...


@overload
def history(
    rr: ReactiveRecord,
    model: Any,
    key: Any,
    /,
    *,
    limit: int | None = None,
    user: Any = None,
    unscoped: bool = False,
) -> tuple[Record, ...]: ...


def history(
    *target: Any,
    limit: int | None = None,
    user: Any = None,
    unscoped: bool = False,
) -> tuple[Record, ...]:
    """The entries of one record, newest first: ``history(rr.models.Job, 42)``.

    :param target: The model's handle and the record's key, or ``rr``, the model (a name,
        :class:`Model` or handle) and the key. The record may since have been destroyed.
    :param limit: At most this many entries.
    :param user: Read as this user (default: the ``acting_as`` user); entries are
        scoped by the record's read permission when a permissions plugin is installed.
    :param unscoped: An operator's read that bypasses read scoping.
    """
    rr, model, (key,) = _target("history", target, 1)
    user = _handle_user(target, user)
    unscoped = unscoped or (isinstance(model, Query) and bool(model.spec.option("unscoped")))
    state = state_of(rr)
    activity = _activity(state, model)
    query = state.logs.where(entity_type=activity.model.name, entity_id=str(_key(activity, key)))
    query = query.order(*_ORDER).limit(limit)
    if user is not None:
        query = query.as_user(user)
    return (query.unscoped() if unscoped else query).all()


def _undo(
    activity: ModelActivity, version: dict[str, Any] | None, entry: Mapping[str, Any], key: Any
) -> dict[str, Any] | None:
    """The record's tracked fields just before ``entry`` (None: it did not exist)."""
    action = entry["action"]
    if action == "create":
        return None
    if action == "destroy" or version is None:
        version = {activity.model.primary_key: key, **dict.fromkeys(activity.tracked)}
    for change in entry["field_changes"]:
        if change["field_name"] in version:
            version[change["field_name"]] = change["old_value"]
    return version


def _current(
    state: ActivityState, activity: ModelActivity, key: Any, user: Any
) -> dict[str, Any] | None:
    model = activity.model
    query = state.rr.models[model.name].where({model.primary_key: key})
    found = (query if user is None else query.as_user(user)).first()
    if found is None:
        return None
    # A field hidden from the reader is not in the record, nor in the entries it reads.
    return {name: found[name] for name in (model.primary_key, *activity.tracked) if name in found}


def _rewind(
    activity: ModelActivity,
    current: dict[str, Any] | None,
    newer: Sequence[Record],
    key: Any,
) -> dict[str, Any] | None:
    version = None if current is None else dict(current)
    for entry in newer:
        version = _undo(activity, version, entry, key)
    return version


@overload
def version_at(
    model: Query[Any], key: Any, when: dt.datetime, /, *, user: Any = None
) -> Record | None: ...


@overload
def version_at(
    rr: ReactiveRecord, model: Any, key: Any, when: dt.datetime, /, *, user: Any = None
) -> Record | None: ...


def version_at(*target: Any, user: Any = None) -> Record | None:
    """The record's tracked fields as they were at ``when`` (None: it did not exist then).

    ``version_at(rr.models.Job, 42, when)`` (or ``version_at(rr, "Job", 42, when)``).
    Reconstructed backwards from the record as it is now, undoing every entry written
    after ``when``, so it is exact for tracked fields even when logging began after the
    record was created. Redacted fields read ``"[REDACTED]"``. Reads as ``user`` (default:
    the ``acting_as`` user).
    """
    rr, model, (key, when) = _target("version_at", target, 2)
    user = _handle_user(target, user)
    state = state_of(rr)
    activity = _activity(state, model)
    key = _key(activity, key)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    entries = history(rr, activity.model.name, key, user=user)
    newer = [entry for entry in entries if entry.created_at > when]
    version = _rewind(activity, _current(state, activity, key, user), newer, key)
    return None if version is None else Record(activity.model.name, version)


@overload
def revert(model: Query[Any], key: Any, /, *, to: Any, user: Any = None) -> Record: ...


@overload
def revert(rr: ReactiveRecord, model: Any, key: Any, /, *, to: Any, user: Any = None) -> Record: ...


def revert(*target: Any, to: Any, user: Any = None) -> Record:
    """Restore the record's tracked fields as they were right after entry ``to``.

    ``revert(rr.models.Job, 42, to=entry.id, user=alice)`` (or ``revert(rr, "Job", ...)``).
    The restore is a new change through the engine, authorized and validated like any
    write and itself logged (action ``revert``, ``metadata.reverted_to``). A destroyed
    record is created again with its key. Redacted fields keep their current value.

    :returns: The record as stored after the revert.
    :raises RevertError: ``to`` is an entry of another record, or a destroy.
    """
    rr, model, (key,) = _target("revert", target, 1)
    user = _handle_user(target, user)
    state = state_of(rr)
    activity = _activity(state, model)
    key = _key(activity, key)
    name = activity.model.name
    entries = history(rr, name, key, user=user)
    position = next((i for i, e in enumerate(entries) if str(e["id"]) == str(to)), None)
    if position is None:
        raise RecordNotFound("ActivityLog", to)
    if entries[position]["action"] == "destroy":
        raise RevertError(f"entry {to} destroyed {name} {key}: there is no version to restore")
    current = _current(state, activity, key, user)
    restored = _rewind(activity, current, entries[:position], key) or {}
    handle: ModelHandle[Record] = rr.models[name]
    pk = activity.model.primary_key
    with request_context.context(action="revert", reverted_to=str(to)):
        if current is None:
            values = {f: v for f, v in restored.items() if v is not None and v != REDACTED}
            return handle.create({**values, pk: key}, user=user)
        values = {
            f: v for f, v in restored.items() if f != pk and v != REDACTED and current.get(f) != v
        }
        return handle.update(key, values, user=user)
