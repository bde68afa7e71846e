"""Grants: what one rule allows one user, as a condition for SQL plus an optional Python test.

A record is allowed by a grant exactly when it matches ``condition`` and passes ``test``.
Scoped reads put ``condition`` into the query (so the database filters) and ``test`` into a
post-filter; the per-record check evaluates the very same two parts in memory. Because
the in-memory evaluator is the specification the SQL compilers follow, the two paths can
never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reactive_record import conditions as cond

Test = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Evaluation:
    """What evaluating a condition needs: the model and a resolver for ``any`` (EXISTS)."""

    model: Any
    related: cond.Related


@dataclass(frozen=True)
class Grant:
    """Records matching ``condition`` (bound, data) for which ``test`` (Python) holds.

    ``timeless`` is False when the condition compares against relative times (its bound
    form moves with the clock); ``pure`` is False when the answer also depends on other
    rows (``any`` through an association) or the clock, so a decision cannot be cached.
    """

    condition: cond.Node = cond.TRUE
    test: Test | None = None
    timeless: bool = True
    pure: bool = True
    #: Whether the grant allows every record / no record at all (computed once).
    everything: bool = field(init=False, repr=False)
    nothing: bool = field(init=False, repr=False)
    _filters: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        filters = self.condition != cond.TRUE
        object.__setattr__(self, "_filters", filters)
        object.__setattr__(self, "everything", self.test is None and not filters)
        object.__setattr__(self, "nothing", self.condition == cond.FALSE)

    def allows(self, record: Mapping[str, Any], evaluation: Evaluation) -> bool:
        """Whether ``record`` is allowed: it matches the condition and passes the test."""
        if self._filters and not cond.matches(
            self.condition, record, evaluation.model, evaluation.related
        ):
            return False
        return self.test is None or bool(self.test(record))


ALLOW = Grant()
DENY = Grant(cond.FALSE)


def from_condition(node: cond.Node) -> Grant:
    """A grant of the records matching a bound condition."""
    if node == cond.TRUE:
        return ALLOW
    if node == cond.FALSE:
        return DENY
    return Grant(node, None, True, not _reads_other_rows(node))


def condition_grant(
    node: cond.Node, model: Any, lookup: cond.ModelLookup, user: Any, now: dt.datetime
) -> Grant:
    """A grant of the records matching ``node`` once bound to ``user`` and ``now``."""
    grant = from_condition(cond.bind(node, model, lookup, user=user, now=now))
    if cond.has_relative_time(node):
        return replace(grant, timeless=False, pure=False)
    return grant


def _reads_other_rows(node: cond.Node) -> bool:
    if isinstance(node, cond.Exists):
        return True
    if isinstance(node, (cond.And, cond.Or)):
        return any(_reads_other_rows(item) for item in node.items)
    if isinstance(node, cond.Not):
        return _reads_other_rows(node.item)
    return False


def all_of(grants: Sequence[Grant]) -> Grant:
    """Allowed by every grant: conditions ANDed for SQL, tests ANDed after fetching."""
    if any(g.nothing for g in grants):
        return DENY
    kept = [g for g in grants if not g.everything]
    if not kept:
        return ALLOW
    if len(kept) == 1:
        return kept[0]
    # The same condition twice (read and update both "client_member") is ANDed once.
    conditions: list[cond.Node] = []
    for grant in kept:
        if grant.condition != cond.TRUE and grant.condition not in conditions:
            conditions.append(grant.condition)
    tests = [g.test for g in kept if g.test is not None]
    condition = cond.conjoin(*conditions) if conditions else cond.TRUE
    test: Test | None = None
    if len(tests) == 1:
        test = tests[0]
    elif tests:
        test = _every(tuple(tests))
    return Grant(condition, test, all(g.timeless for g in kept), all(g.pure for g in kept))


def _every(tests: tuple[Test, ...]) -> Test:
    def every(record: Mapping[str, Any]) -> bool:
        return all(test(record) for test in tests)

    return every


def any_of(grants: Sequence[Grant], evaluation: Evaluation) -> Grant:
    """Allowed by some grant: one OR in SQL when all are data, else a Python test."""
    if any(g.everything for g in grants):
        return ALLOW
    kept = [g for g in grants if not g.nothing]
    if not kept:
        return DENY
    if len(kept) == 1:
        return kept[0]
    timeless = all(g.timeless for g in kept)
    pure = all(g.pure for g in kept)
    if all(g.test is None for g in kept):
        return Grant(cond.Or(tuple(g.condition for g in kept)), None, timeless, pure)
    options = tuple(kept)

    def some(record: Mapping[str, Any]) -> bool:
        return any(g.allows(record, evaluation) for g in options)

    return Grant(cond.TRUE, some, timeless, pure)


def none_of(grant: Grant, evaluation: Evaluation) -> Grant:
    """Allowed where ``grant`` is not: NOT in SQL for data, else a Python test."""
    if grant.everything:
        return DENY
    if grant.nothing:
        return ALLOW
    if grant.test is None:
        return Grant(cond.Not(grant.condition), None, grant.timeless, grant.pure)

    def refused(record: Mapping[str, Any]) -> bool:
        return not grant.allows(record, evaluation)

    return Grant(cond.TRUE, refused, grant.timeless, grant.pure)
