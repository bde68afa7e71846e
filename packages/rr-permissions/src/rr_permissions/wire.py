"""Queries that arrive as data (DESIGN.md §6), validated before anything runs.

``validate_query(rr, payload, user, action)`` checks a payload from an untrusted client
against the authenticated user: it refuses a payload that claims another user, names an
unknown model, field, association or operator, reads a model that does not enable
permissions, or filters or orders by a field hidden from the user. Otherwise it returns
the query to run — bound to the authenticated user, so the user's rules apply — and the
same query as data with the user's rules ANDed into ``where``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from reactive_record import InvalidQuery, Query, UnknownField
from reactive_record import conditions as cond
from reactive_record.actors import user_id
from reactive_record.query import parse_order

from .authority import ModelPermissions
from .state import is_system, state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Model

PAYLOAD_KEYS = ("model", "where", "order", "limit", "offset", "includes", "user")


@dataclass(frozen=True)
class Permitted:
    """A payload that may run: ``query`` (bound to the user) and ``payload`` (as data).

    ``payload["where"]`` is the client's condition ANDed with the user's rules that are
    data; ``python_rules`` says whether rules decided in Python also apply when it runs.
    """

    query: Query[Any]
    payload: dict[str, Any]
    python_rules: bool = False
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Refused:
    """A payload that may not run: a machine-readable ``code``, a message and where.

    Codes: ``invalid_payload``, ``other_user``, ``no_user``, ``unknown_model``,
    ``not_protected``, ``unknown_action``, ``unknown_field``, ``unknown_operator``,
    ``invalid_value``, ``hidden_field``, ``denied``.
    """

    code: str
    message: str
    path: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    ok: ClassVar[bool] = False

    def to_data(self) -> dict[str, Any]:
        """The refusal as JSON-able data, for the response to the client."""
        return {"error": self.code, "message": self.message, "path": self.path, **self.details}


class _RefusalError(Exception):
    def __init__(self, refused: Refused) -> None:
        self.refused = refused


def _refuse(code: str, message: str, path: str | None = None, **details: Any) -> _RefusalError:
    return _RefusalError(Refused(code, message, path, details))


def _hidden(model: Model, name: str, path: str, field: str) -> _RefusalError:
    """The refusal of a query that filters or orders by a field hidden from its user."""
    return _refuse(
        "hidden_field", f"{model.name}.{name} is hidden from this user", path, field=field
    )


def validate_query(
    rr: ReactiveRecord, payload: Any, user: Any, action: str = "read"
) -> Permitted | Refused:
    """Check a query payload for ``user`` (the authenticated one) and ``action``.

    :returns: :class:`Permitted` with the query to run, or :class:`Refused` saying why not.
    """
    try:
        return _validate(rr, payload, user, action)
    except _RefusalError as refusal:
        return refusal.refused


def _validate(rr: ReactiveRecord, payload: Any, user: Any, action: str) -> Permitted:
    if not isinstance(payload, Mapping):
        raise _refuse("invalid_payload", "a query payload is an object with a 'model'")
    unknown = sorted(str(k) for k in payload if k not in PAYLOAD_KEYS)
    if unknown:
        raise _refuse(
            "invalid_payload",
            f"unknown key {unknown[0]!r}; a query payload has {', '.join(PAYLOAD_KEYS)}",
            unknown[0],
        )
    if user is None:
        raise _refuse("no_user", "a query payload needs an authenticated user")
    _check_claim(payload.get("user"), user)
    model = _model(rr, payload.get("model"))
    perms = _protected(rr, model, "model")
    if action not in perms.actions:
        raise _refuse(
            "unknown_action",
            f"{model.name} has no action {action!r} ({', '.join(perms.actions)})",
            "action",
        )
    hidden = frozenset() if is_system(user) else perms.hidden_fields(user)
    where = _where(rr, model, payload.get("where"), hidden)
    if not is_system(user):
        _hidden_through_associations(rr, model, where, user)
    order = _order(model, payload.get("order"), hidden)
    limit = _count(payload.get("limit"), "limit", allow_none=True)
    offset = _count(payload.get("offset"), "offset", allow_none=False) or 0
    includes = _includes(rr, model, payload.get("includes"))
    now = rr.clock()
    grant = None if is_system(user) else perms.grant(user, action, now)
    if grant is not None and grant.nothing:
        reason = perms.reason(user, action, None, now)
        raise _refuse("denied", f"not allowed to {action} {model.name}: {reason}")
    query = rr.models[model.name].where(payload.get("where")).limit(limit).offset(offset)
    query = query.order(*order).includes(*includes).with_options(user=user, action=action)
    bound = cond.bind(where, model, rr.model_definition, user=user, now=now)
    rules = cond.TRUE if grant is None else grant.condition
    data = query.spec.to_data()
    data["where"] = cond.to_data(cond.conjoin(bound, rules))
    return Permitted(query, data, grant is not None and grant.test is not None)


def _check_claim(claim: Any, user: Any) -> None:
    if claim is None:
        return
    actual = user_id(user)
    claimed = claim.get("id") if isinstance(claim, Mapping) else claim
    if claimed != actual and str(claimed) != str(actual):
        raise _refuse(
            "other_user",
            f"the payload claims user {claimed!r}, but the request is authenticated as "
            f"user {actual!r}",
            "user",
        )
    if isinstance(claim, Mapping):
        for name, value in claim.items():
            if cond.user_attribute(user, name) != value:
                raise _refuse(
                    "other_user",
                    f"the payload claims user.{name} = {value!r}, which the authenticated "
                    "user does not have",
                    f"user.{name}",
                )


def _model(rr: ReactiveRecord, name: Any) -> Model:
    names = [m.name for m in rr.model_definitions()]
    if not isinstance(name, str) or name not in names:
        raise _refuse("unknown_model", f"unknown model {name!r}", "model")
    return rr.model_definition(name)


def _protected(rr: ReactiveRecord, model: Model, path: str) -> ModelPermissions:
    perms = state_of(rr).of(model)
    if perms is None:
        raise _refuse(
            "not_protected",
            f"{model.name} does not enable permissions, so it cannot be queried as data",
            path,
        )
    return perms


def _where(rr: ReactiveRecord, model: Model, data: Any, hidden: frozenset[str]) -> cond.Node:
    try:
        node = cond.parse(data, model, rr.model_definition)
        node = cond.bind(node, model, rr.model_definition, params={}, params_only=True)
    except UnknownField as exc:
        raise _refuse("unknown_field", str(exc), "where", field=exc.field) from None
    except InvalidQuery as exc:
        code = "unknown_operator" if "unknown operator" in str(exc) else "invalid_value"
        raise _refuse(code, str(exc), "where", field=exc.field) from None
    used = sorted(cond.fields_of(node) & hidden)
    if used:
        raise _hidden(model, used[0], "where", used[0])
    return node


def _hidden_through_associations(
    rr: ReactiveRecord, model: Model, node: cond.Node, user: Any, path: str = ""
) -> None:
    """Refuse a condition inside ``any`` on a field the target model hides from ``user``:
    otherwise counting matches would reveal the hidden values one comparison at a time."""
    if isinstance(node, (cond.And, cond.Or)):
        for item in node.items:
            _hidden_through_associations(rr, model, item, user, path)
    elif isinstance(node, cond.Not):
        _hidden_through_associations(rr, model, node.item, user, path)
    elif isinstance(node, cond.Exists):
        target = rr.model_definition(model.associations[node.association].model)
        perms = state_of(rr).of(target)
        hidden = frozenset() if perms is None else perms.hidden_fields(user)
        where = f"{path}{node.association}."
        used = sorted(cond.fields_of(node.condition) & hidden)
        if used:
            raise _hidden(target, used[0], "where", f"{where}{used[0]}")
        _hidden_through_associations(rr, target, node.condition, user, where)


def _order(model: Model, terms: Any, hidden: frozenset[str]) -> tuple[str, ...]:
    if terms is None:
        return ()
    if not isinstance(terms, list):
        raise _refuse("invalid_value", f"order is a list of field names, not {terms!r}", "order")
    try:
        parsed = parse_order(model, terms)
    except UnknownField as exc:
        raise _refuse("unknown_field", str(exc), "order", field=exc.field) from None
    except InvalidQuery as exc:
        raise _refuse("invalid_value", str(exc), "order") from None
    for name, _ in parsed:
        if name in hidden:
            raise _hidden(model, name, "order", name)
    return tuple(terms)


def _count(value: Any, name: str, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _refuse("invalid_value", f"{name} is a non-negative integer, not {value!r}", name)
    return value


def _includes(rr: ReactiveRecord, model: Model, paths: Any) -> tuple[str, ...]:
    if paths is None:
        return ()
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise _refuse("invalid_value", f"includes is a list of names, not {paths!r}", "includes")
    for path in paths:
        current = model
        for name in path.split("."):
            association = current.associations.get(name)
            if association is None:
                raise _refuse(
                    "unknown_field",
                    f"{current.name} has no association {name!r}",
                    "includes",
                    field=name,
                )
            current = rr.model_definition(association.model)
            _protected(rr, current, "includes")
    return tuple(paths)
