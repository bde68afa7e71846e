"""One model's compiled permissions: grants per user and action, decisions, fields.

An action on an existing record (``update``, ``destroy``, custom actions) needs the
``read`` rule too: a user can only act on what they can see. ``create`` and ``read``
stand alone. Grants are cached per user (keyed by every attribute of the user) and
decisions per user, action and record (keyed by the record's values, so a new version
is a new key); the rule set is fixed for the life of the instance that holds the caches.
Both caches are size-bounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import InvalidQuery, Record
from reactive_record.actors import plain_instance, user_identity
from reactive_record.conditions import user_attribute

from . import grants as g
from .cache import BoundedCache
from .config import ModelConfig
from .policy import PolicyMethod, PolicyScope, RecordRequiredError, has_method, policy_fields
from .relations import related_rows
from .rules import All, Explanation, NoRule, Rule, Setting

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Model

#: Actions that do not act on an existing record, so they do not also need ``read``.
STANDALONE = frozenset({"read", "create"})
#: The role entry that applies to every role not listed (field permissions).
OTHER_ROLES = "*"


def user_key(user: Any) -> Hashable:
    """A key that changes whenever any attribute of ``user`` changes.

    For an object: every attribute a rule may read as the core's fingerprints see them
    (``__slots__`` and named-tuple fields, properties, class values), and its private
    instance data too, so two users never share a cached grant or decision.
    """
    own = getattr(user, "__dict__", {})
    if isinstance(user, Mapping):
        items = user.items()
    elif plain_instance(type(user)):  # everything a rule reads is in __dict__
        items = own.items()
    else:
        return (type(user), user_identity(user), repr(sorted(own.items(), key=_first)))
    try:
        return (type(user), frozenset(items))
    except TypeError:  # unhashable values (a list of roles): their text
        return (type(user), repr(sorted(items, key=_first)))


def _first(item: tuple[Any, Any]) -> str:
    return str(item[0])


def record_key(record: Mapping[str, Any]) -> Hashable | None:
    """A key for one version of ``record`` (its values), or None when they do not hash."""
    try:
        key: Hashable = record if isinstance(record, Record) else frozenset(record.items())
        hash(key)
    except TypeError:  # JSON values: such a record is checked, not cached
        return None
    return key


def user_roles(user: Any) -> tuple[Any, ...]:
    """The user's roles: its ``role``, or each of them when it is a collection."""
    role = user_attribute(user, "role")
    if isinstance(role, (list, tuple, set, frozenset)):
        return tuple(role)
    return (role,)


class ModelPermissions:
    """The permissions of one model of one instance."""

    def __init__(
        self, rr: ReactiveRecord, model: Model, config: ModelConfig, cache_size: int
    ) -> None:
        self.model = model
        self.config = config
        self.actions = config.actions
        self.policy = config.policy
        self.setting = Setting(
            rr, model, rr.model_definition, g.Evaluation(model, related_rows(rr))
        )
        self.rules: dict[str, Rule] = {action: self._rule(action) for action in self.actions}
        self.grants: BoundedCache[g.Grant] = BoundedCache(cache_size)
        self.decisions: BoundedCache[bool] = BoundedCache(cache_size)

    def _rule(self, action: str) -> Rule:
        parts: list[Rule] = []
        configured = self.config.rules.get(action)
        if configured is not None:
            parts.append(configured)
        if self.policy is not None and has_method(self.policy, action):
            parts.append(PolicyMethod(self.policy, action))
        if action == "read" and self.policy is not None and has_method(self.policy, "scope"):
            parts.append(PolicyScope(self.policy))
        if not parts:
            return NoRule(action, self.model.name)
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def steps(self, action: str) -> tuple[tuple[str, Rule], ...]:
        """The rules ``action`` must pass, in order: ``read`` first for existing records."""
        own = (action, self.rules[action])
        if action in STANDALONE:
            return (own,)
        return (("read", self.rules["read"]), own)

    def require_action(self, action: Any) -> str:
        """``action`` if the model declares it; InvalidQuery naming the actions otherwise."""
        if action not in self.actions:
            raise InvalidQuery(
                f"{self.model.name} has no action {action!r}; its actions are "
                f"{', '.join(self.actions)} (declare custom ones in `actions`)",
                model=self.model.name,
            )
        return str(action)

    # -- grants and decisions -----------------------------------------------------------

    def grant(self, user: Any, action: str, now: dt.datetime | None = None) -> g.Grant:
        """What ``user`` may ``action``: a condition for SQL and an optional Python test."""
        return self._grant_for(user_key(user), user, action, now)

    def _grant_for(self, key: Hashable, user: Any, action: str, now: dt.datetime | None) -> g.Grant:
        cache_key = (key, action)
        grant = self.grants.get(cache_key)
        if grant is None:
            grant = self._compose(user, action, now)
            self.grants.put(cache_key, grant)
        if not grant.timeless:  # relative times: bind them to this moment instead
            return self._compose(user, action, now)
        return grant

    def _compose(self, user: Any, action: str, now: dt.datetime | None) -> g.Grant:
        moment = now or self.setting.rr.clock()
        return g.all_of([rule.grant(self.setting, user, moment) for _, rule in self.steps(action)])

    def allows(
        self,
        user: Any,
        action: str,
        record: Mapping[str, Any] | None,
        now: dt.datetime | None = None,
    ) -> bool:
        """Whether ``user`` may ``action`` ``record`` (None: whether any record at all).

        Data rules are evaluated in memory from the user's cached grant (cheaper than any
        cache lookup); decisions that involve Python tests are cached per user, action
        and record version, unless they also depend on other rows or the clock.
        """
        if action not in self.actions:
            return False
        key = user_key(user)
        grant = self._grant_for(key, user, action, now)
        if grant.nothing:
            return False
        if record is None or grant.everything:
            return True
        if grant.test is None or not grant.pure:
            return grant.allows(record, self.setting.evaluation)
        version = record_key(record)
        if version is None:
            return grant.allows(record, self.setting.evaluation)
        cache_key = (key, action, version)
        decision = self.decisions.get(cache_key)
        if decision is None:
            decision = grant.allows(record, self.setting.evaluation)
            self.decisions.put(cache_key, decision)
        return decision

    def reason(
        self, user: Any, action: str, record: Mapping[str, Any] | None, now: dt.datetime
    ) -> str:
        """Why ``user`` may not ``action`` ``record``: the first rule that refuses, in words."""
        if action not in self.actions:
            return f"{self.model.name} has no action {action!r}"
        for _, rule in self.steps(action):
            if not rule.allows(self.setting, user, now, record):
                return rule.reason(self.setting, user, now, record)
        return "refused"

    def explain(
        self, user: Any, action: str, record: Mapping[str, Any] | None, now: dt.datetime
    ) -> Explanation:
        """Every rule ``action`` needs, with its verdict on ``record``."""
        self.require_action(action)
        parts = tuple(
            Explanation(
                f"{step} rule",
                rule.allows(self.setting, user, now, record),
                (rule.explain(self.setting, user, now, record),),
            )
            for step, rule in self.steps(action)
        )
        allowed = self.allows(user, action, record, now)
        key = None if record is None else record.get(self.model.primary_key)
        target = self.model.name if key is None else f"{self.model.name} {key}"
        verdict = "allowed" if allowed else "denied"
        return Explanation(f"{action} {target}: {verdict}", allowed, parts)

    # -- fields -------------------------------------------------------------------------

    def permitted_fields(
        self, user: Any, action: str, record: Mapping[str, Any] | None
    ) -> frozenset[str]:
        """The fields ``user`` may write with ``action`` (config by role, then policy)."""
        allowed = frozenset(self.model.fields)
        listed = self._for_roles(self.config.permitted.get(action, {}), user)
        if listed is not None:
            allowed &= listed
        if self.policy is not None:
            try:
                names = policy_fields(self.policy(user, record), action)
            except RecordRequiredError:
                raise InvalidQuery(
                    f"{self.policy.__name__}.permitted_fields reads the record: pass record=",
                    model=self.model.name,
                ) from None
            if names is not None:
                allowed &= frozenset(names)
        return allowed

    def hidden_fields(self, user: Any) -> frozenset[str]:
        """The fields hidden from ``user`` on reads (by role)."""
        hidden: frozenset[str] = frozenset()
        by_role = self.config.hidden
        for role in user_roles(user):
            names = by_role.get(role) if role in by_role else by_role.get(OTHER_ROLES)
            if names:
                hidden |= names
        return hidden

    @staticmethod
    def _for_roles(by_role: Mapping[str, frozenset[str]], user: Any) -> frozenset[str] | None:
        # A role without an entry (and no "*" entry) is not limited; several roles add up.
        if not by_role:
            return None
        found: list[frozenset[str]] = []
        for role in user_roles(user):
            names = by_role.get(role) if role in by_role else by_role.get(OTHER_ROLES)
            if names is None:
                return None
            found.append(names)
        return frozenset().union(*found)


def field_names(names: Iterable[str]) -> str:
    """``a, b, c`` (sorted), or ``none``."""
    return ", ".join(sorted(names)) or "none"
