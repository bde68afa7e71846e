"""``check_chain`` tells an edited entry from a deleted or a reordered one."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from rr_activity.chain import check_chain, digest

KEY = b"unit-test-key-0123456789"


def make_chain(length: int) -> list[dict[str, Any]]:
    """A valid chain of ``length`` entries of Job 1."""
    entries: list[dict[str, Any]] = []
    previous = None
    for n in range(1, length + 1):
        entry: dict[str, Any] = {
            "id": uuid.uuid4(),
            "entity_type": "Job",
            "entity_id": "1",
            "entity_uuid": None,
            "client_id": None,
            "user_id": "7",
            "action": "update",
            "field_changes": [
                {"field_name": "n", "old_value": n - 1, "new_value": n, "data_type": "integer"}
            ],
            "metadata": {"client_generated": False},
            "transaction_id": uuid.uuid4(),
            "created_at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
            "sequence": n,
            "prev_hash": previous,
        }
        entry["hash"] = previous = digest(KEY, entry)
        entries.append(entry)
    return entries


def found(entries: list[dict[str, Any]]) -> tuple[str, int] | None:
    problem = check_chain(KEY, entries)
    return None if problem is None else (problem.kind, problem.sequence)


def test_a_valid_chain_and_its_sequence_are_not_hashed() -> None:
    entries = make_chain(4)
    assert found(entries) is None
    entries[0]["sequence"] = 10  # the position is read from the order, never trusted
    assert found(entries) is None


def test_an_edit_anywhere_is_named() -> None:
    for index in range(4):
        entries = make_chain(4)
        entries[index]["field_changes"][0]["new_value"] = 99
        assert found(entries) == ("edited", index + 1)


def test_a_deleted_entry_names_the_one_after_it() -> None:
    entries = make_chain(4)
    del entries[1]
    assert found(entries) == ("deleted", 3)
    entries = make_chain(3)
    assert found(entries[1:]) == ("deleted", 2)


def test_a_moved_entry_is_reordered() -> None:
    entries = make_chain(4)
    entries[1], entries[2] = entries[2], entries[1]
    assert found(entries) == ("reordered", 3)
