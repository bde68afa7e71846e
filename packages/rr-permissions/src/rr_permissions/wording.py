"""Rules in words, so refusals read like a sentence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reactive_record import conditions as cond

SYMBOLS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def roles_text(roles: Sequence[str]) -> str:
    """``admin, manager or technician``."""
    names = list(roles)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def render(node: cond.Node) -> str:
    """A condition as text: ``status = 'active' and client_id = the user's client_id``."""
    if isinstance(node, cond.Compare):
        return _compare(node)
    if isinstance(node, cond.And):
        if not node.items:
            return "anything"
        return " and ".join(_nested(item) for item in node.items)
    if isinstance(node, cond.Or):
        if not node.items:
            return "nothing"
        return " or ".join(_nested(item) for item in node.items)
    if isinstance(node, cond.Not):
        return f"not ({render(node.item)})"
    return f"any {node.association} with {render(node.condition)}"


def _nested(node: cond.Node) -> str:
    text = render(node)
    return f"({text})" if isinstance(node, (cond.And, cond.Or)) and len(node.items) > 1 else text


def _compare(node: cond.Compare) -> str:
    name, op, value = node.field, node.op, node.value
    if op == "is_null":
        return f"{name} is {'null' if value else 'not null'}"
    if op in SYMBOLS:
        return f"{name} {SYMBOLS[op]} {_value(value)}"
    if op in ("in", "not_in"):
        values = value if isinstance(value, tuple) else (value,)
        listed = ", ".join(_value(v) for v in values)
        return f"{name} {'in' if op == 'in' else 'not in'} ({listed})"
    if op == "between":
        low, high = value
        return f"{name} between {_value(low)} and {_value(high)}"
    return f"{name} {op} {_value(value)}"


def _value(value: Any) -> str:
    if isinstance(value, cond.UserRef):
        return f"the user's {value.attribute}"
    if isinstance(value, cond.Param):
        return f":{value.name}"
    if isinstance(value, cond.Ago):
        return f"{value.text} ago"
    if isinstance(value, str):
        return repr(value)
    return str(cond.json_value(value))
