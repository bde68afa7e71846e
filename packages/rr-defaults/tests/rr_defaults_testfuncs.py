"""Computed defaults the tests name as "rr_defaults_testfuncs:NAME" (the folder is the root)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

CALLS: list[tuple[str, dict[str, Any], Any]] = []


def due_after_priority(record: Mapping[str, Any], user: Any) -> dt.date:
    """Due ``priority`` days after 2024-01-01: it sees the priority set before it."""
    CALLS.append(("due", dict(record), user))
    return dt.date(2024, 1, 1) + dt.timedelta(days=record["priority"])


def code_from_due(record: Mapping[str, Any], user: Any) -> str:
    """A code built from the due date a computed default set just before."""
    CALLS.append(("code", dict(record), user))
    owner = user["id"] if user else "nobody"
    return f"{record.get('title') or 'untitled'}-{record['due'].isoformat()}-{owner}"


def broken(record: Mapping[str, Any], user: Any) -> Any:
    """Raises, as a buggy computed default would."""
    raise KeyError("nope")


def wrong_type(record: Mapping[str, Any], user: Any) -> Any:
    """Returns a value the field cannot hold."""
    return "not a date"


NOT_CALLABLE = 42
