"""Problems for ``reactive-record check``.

Start-up already refuses what is plainly wrong (a rule naming an unknown field, an
undeclared action, a function that does not import: ConfigError, which ``check``
reports). These are the problems an instance can start with but should not: actions that
nothing grants, policy methods whose names look like misspelt actions, and functions
or methods that cannot be called the way the plugin calls them.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .authority import ModelPermissions
from .config import FEATURE
from .policy import RESERVED, Policy
from .rules import Custom, NoRule, Rule
from .state import state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord


def problems(rr: ReactiveRecord) -> list[str]:
    """Every problem of every permissions-enabled model of ``rr``."""
    found: list[str] = []
    for perms in state_of(rr).models.values():
        path = f"{rr.config_prefix}.models.{perms.model.name}.{FEATURE}"
        found.extend(_unruled(perms, path))
        found.extend(_misspelt_methods(perms, path))
        found.extend(_uncallable(perms, path))
    return found


def _unruled(perms: ModelPermissions, path: str) -> Iterator[str]:
    for action, rule in perms.rules.items():
        if isinstance(rule, NoRule):
            yield (
                f"{path}: action {action!r} has no rule and no policy method, so it is denied "
                f"to everyone (write `{action} = false` if that is intended)"
            )


def _misspelt_methods(perms: ModelPermissions, path: str) -> Iterator[str]:
    policy = perms.policy
    if policy is None:
        return
    for name, _ in inspect.getmembers(policy, callable):
        if name.startswith("_") or name in RESERVED or name in perms.actions:
            continue
        if hasattr(Policy, name):
            continue
        close = difflib.get_close_matches(name, perms.actions, n=1, cutoff=0.75)
        if close:
            yield (
                f"{path}.policy: {policy.__name__}.{name} is not an action of "
                f"{perms.model.name}; did you mean {close[0]!r}? (declare custom actions "
                "in `actions`)"
            )


def _uncallable(perms: ModelPermissions, path: str) -> Iterator[str]:
    for action, rule in perms.rules.items():
        for custom in _customs(rule):
            if not _accepts(custom.function, 2):
                yield (
                    f"{path}.{action}: {custom.reference} cannot be called as "
                    "function(user, record)"
                )
    policy = perms.policy
    if policy is None:
        return
    for action in perms.actions:
        method = getattr(policy, action, None)
        if callable(method) and not _accepts(method, 1):
            yield f"{path}.policy: {policy.__name__}.{action} must take only self"


def _customs(rule: Rule) -> Iterator[Custom]:
    if isinstance(rule, Custom):
        yield rule
    for part in rule.parts:
        yield from _customs(part)


def _accepts(function: Callable[..., Any], count: int) -> bool:
    try:
        inspect.signature(function).bind(*([None] * count))
    except TypeError:
        return False
    except ValueError:  # no signature to inspect (a builtin): assume it fits
        return True
    return True
