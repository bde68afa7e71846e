"""Who is acting: the SYSTEM actor, ``acting_as`` and a user's identity for fingerprints."""

from __future__ import annotations

import contextvars
import functools
import inspect
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .conditions import canonical_json, user_attribute


class SystemActor:
    """The core's system actor: writes as SYSTEM need ``system_writes = true``."""

    id = "system"
    role = "system"

    def __repr__(self) -> str:
        return "SYSTEM"

    def __reduce__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()

# One variable for all instances: each instance keys its own user by its id, so two
# instances in one process never see each other's acting user.
_acting: contextvars.ContextVar[Mapping[int, Any] | None] = contextvars.ContextVar(
    "reactive_record_acting", default=None
)


@contextmanager
def acting_as(owner: object, user: Any) -> Iterator[Any]:
    """Make ``user`` the default user of ``owner``'s writes and scoped reads in this context."""
    current = dict(_acting.get() or {})
    current[id(owner)] = user
    token = _acting.set(current)
    try:
        yield user
    finally:
        _acting.reset(token)


def current_user(owner: object) -> Any:
    """The user bound by ``acting_as`` for ``owner`` in this context, or None."""
    acting = _acting.get()
    return acting.get(id(owner)) if acting else None


def user_id(user: Any) -> Any:
    """The ``id`` of a user object or mapping (None for no user)."""
    return user_attribute(user, "id")


def user_identity(user: Any) -> str | None:
    """A canonical text for a user: its id and every attribute rules may read.

    Part of a query's fingerprint, so two users (or one user whose role changed) never
    share a cached or live result.
    """
    if user is None:
        return None
    if user is SYSTEM:
        return "system"
    attributes = dict(user) if isinstance(user, Mapping) else _public_attributes(user)
    return canonical_json({str(k): _plain(v) for k, v in attributes.items()})


def _public_attributes(user: object) -> dict[str, Any]:
    """Every public, non-callable attribute of ``user`` a rule could read.

    Not only ``vars``: a rule may read a property, a ``__slots__`` field, a named tuple's
    field or a class attribute, and a user who differs only there must not share a
    result. Another library's descriptor (an ORM relationship not yet loaded) is left
    alone: reading it could run a query.
    """
    own = getattr(user, "__dict__", {})
    if plain_instance(type(user)):
        return {name: value for name, value in own.items() if not name.startswith("_")}
    fields = getattr(user, "_fields", ()) if isinstance(user, tuple) else ()
    attributes: dict[str, Any] = {}
    for name in dir(user):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(user, name, None)
        foreign = hasattr(type(static), "__get__") and not isinstance(static, _READABLE)
        if foreign and name not in own and name not in fields:
            continue
        try:
            value = getattr(user, name)
        except Exception:  # a property that cannot answer is not something rules read
            continue
        if not callable(value):
            attributes[name] = value
    return attributes


#: Descriptors whose value is the user's own data: properties and ``__slots__`` fields.
_READABLE = (property, functools.cached_property, types.MemberDescriptorType)
_METHODS = (types.FunctionType, staticmethod, classmethod)


def plain_instance(kind: type) -> bool:
    """Whether every public attribute of a ``kind`` instance is in its ``__dict__``: no
    slots, no named-tuple fields, no properties, descriptors or values on the class (its
    methods apart). Such a user is read from ``vars`` alone, the cheap way."""
    return _plain_kind(kind)


@functools.cache
def _plain_kind(kind: type) -> bool:
    if issubclass(kind, tuple):
        return False
    for klass in kind.__mro__[:-1]:  # object itself holds nothing a rule reads
        if "__slots__" in vars(klass):
            return False
        for name, value in vars(klass).items():
            if not name.startswith("_") and not isinstance(value, _METHODS):
                return False
    return True


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    return repr(value)
