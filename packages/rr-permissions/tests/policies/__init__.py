"""Policies and rule functions the tests name as "pkg.mod:attr" references."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rr_permissions import Policy


class JobPolicy(Policy):
    """Reads as data (SQL); updates decided per record in Python; a scope on status."""

    def read(self) -> Any:
        return {"client_id": {"user": "client_id"}}

    def update(self) -> bool:
        return bool(self.user["role"] == "admin" or self.record["user_id"] == self.user["id"])

    def destroy(self) -> bool:
        return bool(self.user["role"] == "admin")

    def scope(self, query: Any) -> Any:
        return query.where(status=["pending", "active"])

    def permitted_fields(self, action: str) -> Any:
        return ["status", "description"] if self.user["role"] == "technician" else None


class NotAPolicy:
    """Not a subclass of Policy."""


def even_priority(user: Any, record: Mapping[str, Any]) -> bool:
    """A custom rule: only jobs with an even priority."""
    del user
    return record["priority"] is not None and record["priority"] % 2 == 0


def wrong_arity(record: Mapping[str, Any]) -> bool:
    """A custom rule function that cannot take (user, record)."""
    return bool(record)


#: Every record ``counted_even_priority`` was asked about (to observe the decision cache).
ASKED: list[Mapping[str, Any]] = []


def counted_even_priority(user: Any, record: Mapping[str, Any]) -> bool:
    """``even_priority``, noting each call."""
    ASKED.append(record)
    return even_priority(user, record)
