"""Pundit-style policies in Python: ``class JobPolicy(Policy)`` with one method per action.

A method sees ``self.user`` and ``self.record`` and returns a bool, or a condition (data in
the condition language) that goes into SQL like a configured rule. When a list is
planned there is no record: a method that returns a condition without reading
``self.record`` filters in SQL; one that reads ``self.record`` is called per record
after fetching. ``scope(self, query)`` narrows every read of the model (Pundit's Scope),
and ``permitted_fields(self, action)`` (or Pundit's ``permitted_fields_for_<action>``)
limits the fields a write may touch.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reactive_record import Query
from reactive_record import conditions as cond

from . import grants as g
from .rules import Rule, Setting

#: Names a Policy uses itself, so they cannot be actions.
RESERVED = frozenset({"user", "record", "scope", "permitted_fields"})


class RecordRequiredError(Exception):
    """A policy method read ``self.record`` while a list was planned (there is none)."""


class Policy:
    """Base class of policies: subclass it as ``<Model>Policy`` and define action methods.

    ::

        class JobPolicy(Policy):
            def read(self):
                return {"client_id": {"user": "client_id"}}   # data: goes into SQL

            def update(self):
                return self.user.role == "admin" or self.record.user_id == self.user.id

            def scope(self, query):
                return query.where(status=["active", "pending"])

            def permitted_fields(self, action):
                return ["status"] if self.user.role == "technician" else None

    An action without a method (and without a configured rule) is denied.
    """

    def __init__(self, user: Any, record: Mapping[str, Any] | None = None) -> None:
        self.user = user
        self._record = record

    @property
    def record(self) -> Mapping[str, Any]:
        """The record being checked (none while a list is planned)."""
        if self._record is None:
            raise RecordRequiredError
        return self._record

    def permitted_fields(self, action: str) -> Iterable[str] | None:
        """The fields ``action`` may write, or None for no limit (the default)."""
        del action
        return None


def has_method(policy: type[Policy], name: str) -> bool:
    """Whether ``policy`` defines a method ``name`` (an action, ``scope``, ``permitted_fields``)."""
    found = getattr(policy, name, None)
    return callable(found) and found is not getattr(Policy, name, None)


def policy_fields(policy: Policy, action: str) -> Iterable[str] | None:
    """The fields a policy lets ``action`` write (None: no limit).

    ``permitted_fields_for_<action>(self)`` wins (Pundit's naming); else
    ``permitted_fields(self, action)``, or ``permitted_fields(self)`` for every action.
    """
    specific = getattr(policy, f"permitted_fields_for_{action}", None)
    if callable(specific):
        return specific()  # type: ignore[no-any-return]
    method = policy.permitted_fields
    try:
        inspect.signature(method).bind(action)
    except TypeError:
        return method()  # type: ignore[call-arg]
    return method(action)


def answer_grant(
    answer: Any, setting: Setting, user: Any, now: dt.datetime, source: str
) -> g.Grant:
    """A policy method's answer (a bool or a condition) as a grant."""
    if isinstance(answer, bool):
        return g.ALLOW if answer else g.DENY
    if isinstance(answer, Mapping):
        node = cond.parse(answer, setting.model, setting.lookup)
        return g.condition_grant(node, setting.model, setting.lookup, user, now)
    raise TypeError(f"{source} returned {answer!r}; return True, False or a condition (a dict)")


@dataclass(frozen=True, eq=False)
class PolicyMethod(Rule):
    """The policy's method for one action, as a rule."""

    policy: type[Policy]
    action: str

    @property
    def source(self) -> str:
        """``JobPolicy.update``."""
        return f"{self.policy.__name__}.{self.action}"

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """The method's answer without a record; per record if it needs one."""
        try:
            answer = getattr(self.policy(user), self.action)()
        except RecordRequiredError:
            return g.Grant(cond.TRUE, self._per_record(setting, user, now))
        return answer_grant(answer, setting, user, now, self.source)

    def _per_record(self, setting: Setting, user: Any, now: dt.datetime) -> g.Test:
        def test(record: Mapping[str, Any]) -> bool:
            answer = getattr(self.policy(user, record), self.action)()
            grant = answer_grant(answer, setting, user, now, self.source)
            return grant.allows(record, setting.evaluation)

        return test

    @property
    def summary(self) -> str:
        """The method's name."""
        return self.source


@dataclass(frozen=True, eq=False)
class PolicyScope(Rule):
    """The policy's ``scope(query)``: its conditions narrow every read of the model."""

    policy: type[Policy]

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """The conditions of the query ``scope`` returns, bound to ``user``."""
        base = setting.rr.models[setting.model.name].unscoped()
        try:
            narrowed = self.policy(user).scope(base)  # type: ignore[attr-defined]
        except RecordRequiredError:
            raise TypeError(
                f"{self.policy.__name__}.scope read self.record; a scope narrows lists, "
                "which have no record"
            ) from None
        if not isinstance(narrowed, Query) or narrowed.model is not setting.model:
            raise TypeError(
                f"{self.policy.__name__}.scope must return a query of {setting.model.name} "
                f"(query.where(...)), not {narrowed!r}"
            )
        return g.condition_grant(narrowed.spec.where, setting.model, setting.lookup, user, now)

    @property
    def summary(self) -> str:
        """The scope's name."""
        return f"{self.policy.__name__}.scope"
