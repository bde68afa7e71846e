"""Declarative rules: owner, client_member, role_based, custom, conditions and combinators.

Every rule answers two questions for one user: :meth:`Rule.grant` (what it allows, as a
:class:`~rr_permissions.grants.Grant` — data for SQL plus an optional Python test) and
:meth:`Rule.explain` (which part allowed or refused a given record, in words). The
explanation is computed from the same grants, so it always agrees with the decision.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reactive_record import conditions as cond
from reactive_record.model import Model

from . import grants as g
from .wording import render, roles_text

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord


@dataclass(frozen=True)
class Setting:
    """Where rules of one model are resolved: the instance, the model, evaluation."""

    rr: ReactiveRecord
    model: Model
    lookup: cond.ModelLookup
    evaluation: g.Evaluation


@dataclass(frozen=True)
class Explanation:
    """Why a rule allowed or refused: its description, the verdict and its parts."""

    text: str
    allowed: bool
    parts: tuple[Explanation, ...] = field(default=())

    def lines(self, depth: int = 0) -> list[str]:
        """The explanation as indented lines, one per rule, marked allow / deny."""
        mark = "allow" if self.allowed else "deny "
        out = [f"{'  ' * depth}[{mark}] {self.text}"]
        for part in self.parts:
            out.extend(part.lines(depth + 1))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class Rule(ABC):
    """One node of a model's rule tree."""

    @abstractmethod
    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """What this rule allows ``user``."""

    @property
    @abstractmethod
    def summary(self) -> str:
        """What the rule requires, as a phrase ("role admin or manager")."""

    def describe(self) -> str:
        """The rule as a sentence fragment ("requires role admin or manager")."""
        return f"requires {self.summary}"

    @property
    def parts(self) -> tuple[Rule, ...]:
        """The rules this one combines (none for a leaf)."""
        return ()

    def allows(
        self, setting: Setting, user: Any, now: dt.datetime, record: Mapping[str, Any] | None
    ) -> bool:
        """Whether the rule allows ``record`` (None: whether it allows anything at all)."""
        grant = self.grant(setting, user, now)
        if record is None:
            return not grant.nothing
        return grant.allows(record, setting.evaluation)

    def explain(
        self, setting: Setting, user: Any, now: dt.datetime, record: Mapping[str, Any] | None
    ) -> Explanation:
        """The verdict on ``record`` with the verdict of every part."""
        return Explanation(
            self.describe(),
            self.allows(setting, user, now, record),
            tuple(part.explain(setting, user, now, record) for part in self.parts),
        )

    def reason(
        self, setting: Setting, user: Any, now: dt.datetime, record: Mapping[str, Any] | None
    ) -> str:
        """Why the rule refuses ``record``: the innermost part that refused it."""
        return self.describe()

    def conditions(self) -> tuple[cond.Node, ...]:
        """The unbound conditions of this rule and its parts (for checks)."""
        return tuple(node for part in self.parts for node in part.conditions())


@dataclass(frozen=True, eq=False)
class Constant(Rule):
    """``read = true`` or ``destroy = false``: everyone, or no one."""

    value: bool
    action: str

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """Everything or nothing, whoever asks."""
        return g.ALLOW if self.value else g.DENY

    @property
    def summary(self) -> str:
        """``anyone`` or ``no one``."""
        return "anyone" if self.value else "no one"

    def describe(self) -> str:
        """The rule as a sentence fragment."""
        return f"{self.action} is {'allowed' if self.value else 'denied'} to everyone"


@dataclass(frozen=True, eq=False)
class NoRule(Rule):
    """No rule and no policy method grants the action: deny by default."""

    action: str
    model: str

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """Nothing: an action nobody granted is denied."""
        return g.DENY

    @property
    def summary(self) -> str:
        """A rule that does not exist."""
        return f"a rule for {self.action}"

    def describe(self) -> str:
        """The rule as a sentence fragment."""
        return f"no rule grants {self.action} on {self.model} (denied by default)"


@dataclass(frozen=True, eq=False)
class Condition(Rule):
    """A condition in the condition language, with ``{"user": ...}`` references.

    ``owner`` and ``client_member`` are conditions too, with their own wording.
    """

    node: cond.Node
    label: str | None = None

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """The condition bound to ``user`` (and ``now`` for relative times)."""
        return g.condition_grant(self.node, setting.model, setting.lookup, user, now)

    @property
    def summary(self) -> str:
        """The condition in words."""
        return self.label or render(self.node)

    def conditions(self) -> tuple[cond.Node, ...]:
        """This rule's condition."""
        return (self.node,)


def owner(field_name: str, model: Model, lookup: cond.ModelLookup) -> Condition:
    """``{ type = "owner" }``: the record's owner field equals the user's id."""
    node = cond.parse({field_name: {"user": "id"}}, model, lookup)
    return Condition(node, f"{field_name} to be the user's id")


def client_member(
    tenant_field: str, user_field: str, model: Model, lookup: cond.ModelLookup
) -> Condition:
    """``{ type = "client_member" }``: the record's tenant field equals the user's."""
    node = cond.parse({tenant_field: {"user": user_field}}, model, lookup)
    return Condition(node, f"{tenant_field} to equal the user's {user_field}")


@dataclass(frozen=True, eq=False)
class Role(Rule):
    """``{ type = "role_based", roles = [...] }``: the user's ``role`` is one of them.

    A user whose ``role`` is a collection (several roles) passes when any of them is listed.
    """

    roles: tuple[str, ...]

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """Everything for a listed role, nothing otherwise (decided before any SQL)."""
        return g.ALLOW if has_role(user, self.roles) else g.DENY

    @property
    def summary(self) -> str:
        """``role admin, manager or technician``."""
        return f"role {roles_text(self.roles)}"


def has_role(user: Any, roles: Sequence[str]) -> bool:
    """Whether ``user``'s ``role`` (a name or a collection of names) is among ``roles``."""
    role = cond.user_attribute(user, "role")
    if isinstance(role, (list, tuple, set, frozenset)):
        return any(r in roles for r in role)
    return role in roles


@dataclass(frozen=True, eq=False)
class Custom(Rule):
    """``{ type = "custom", function = "pkg.mod:func" }``: ``func(user, record) -> bool``.

    Decided in Python (after fetching, for reads). The function must decide from the user
    and the record alone: its answers are cached per user and record version.
    """

    reference: str
    function: Callable[[Any, Mapping[str, Any]], Any]

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """A Python test calling the function with ``user`` and each record."""
        function = self.function

        def test(record: Mapping[str, Any]) -> bool:
            return bool(function(user, record))

        return g.Grant(cond.TRUE, test)

    @property
    def summary(self) -> str:
        """The function's reference."""
        return self.reference


@dataclass(frozen=True, eq=False)
class All(Rule):
    """``{ all = [...] }``: every part must allow."""

    items: tuple[Rule, ...]

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """The parts' grants ANDed."""
        return g.all_of([item.grant(setting, user, now) for item in self.items])

    @property
    def summary(self) -> str:
        """The parts joined with "and"."""
        return " and ".join(item.summary for item in self.items) or "nothing"

    @property
    def parts(self) -> tuple[Rule, ...]:
        """The combined rules."""
        return self.items

    def reason(
        self, setting: Setting, user: Any, now: dt.datetime, record: Mapping[str, Any] | None
    ) -> str:
        """The reason of the first part that refuses."""
        for item in self.items:
            if not item.allows(setting, user, now, record):
                return item.reason(setting, user, now, record)
        return self.describe()


@dataclass(frozen=True, eq=False)
class AnyOf(Rule):
    """``{ any = [...] }``: some part must allow."""

    items: tuple[Rule, ...]

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """The parts' grants ORed (in SQL when all are data)."""
        return g.any_of([item.grant(setting, user, now) for item in self.items], setting.evaluation)

    @property
    def summary(self) -> str:
        """``one of: a; b``."""
        return "one of: " + "; ".join(item.summary for item in self.items)

    @property
    def parts(self) -> tuple[Rule, ...]:
        """The combined rules."""
        return self.items


@dataclass(frozen=True, eq=False)
class NoneOf(Rule):
    """``{ not = {...} }``: the part must not allow."""

    item: Rule

    def grant(self, setting: Setting, user: Any, now: dt.datetime) -> g.Grant:
        """The part's grant negated."""
        return g.none_of(self.item.grant(setting, user, now), setting.evaluation)

    @property
    def summary(self) -> str:
        """``not (...)``."""
        return f"not ({self.item.summary})"

    @property
    def parts(self) -> tuple[Rule, ...]:
        """The negated rule."""
        return (self.item,)
