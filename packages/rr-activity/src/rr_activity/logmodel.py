"""The ``ActivityLog`` model rr-activity registers, as a ``[tool.reactive-record.models]`` table."""

from __future__ import annotations

from typing import Any

#: The model's name (``rr.models.ActivityLog``) and its table.
LOG_MODEL = "ActivityLog"
LOG_TABLE = "activity_logs"
#: The chain heads' model and table (registered when a model has ``chain = true``).
CHAIN_MODEL = "ActivityChain"
CHAIN_TABLE = "activity_chains"
#: The association each activity-enabled model gets: ``Job.includes("activity_logs")``.
ASSOCIATION = "activity_logs"
#: Newest first; the time-ordered ``id`` breaks ties between entries of one instant.
NEWEST_FIRST = (("created_at", True), ("id", True))


def log_table(client_type: str) -> dict[str, Any]:
    """The table definition of ``ActivityLog``; ``client_id`` has the tenants' type."""
    return {
        "table": LOG_TABLE,
        "primary_key": "id",
        "fields": {
            "id": {"type": "uuid", "primary_key": True},
            "entity_type": {"type": "string", "length": 100, "null": False},
            "entity_id": {"type": "string", "length": 255, "null": False},
            "entity_uuid": "uuid",
            "client_id": client_type,
            "user_id": {"type": "string", "length": 255, "null": False},
            "action": {"type": "string", "length": 50, "null": False},
            "field_changes": {"type": "json", "null": False},
            "metadata": {"type": "json", "null": False},
            "transaction_id": {"type": "uuid", "null": False},
            "created_at": {"type": "datetime", "null": False},
            # Chained models only: position in the record's chain, and the HMAC links.
            "sequence": "integer",
            "prev_hash": {"type": "string", "length": 64},
            "hash": {"type": "string", "length": 64},
        },
        # Each index costs every logged write, so there is no transaction_id index (a
        # transaction's entries are found by record first).
        "indexes": [["entity_type", "entity_id", "created_at"]],
    }


def chain_table() -> dict[str, Any]:
    """The table definition of ``ActivityChain``: one head row per chained record.

    ``id`` is ``"<entity_type>:<entity_id>"``. The head holds the chain's last
    ``sequence`` and ``hash``, and ``mac`` (an HMAC of the three, so it cannot be rolled
    back by hand). Appending locks the head row: writers of one chain queue on it, on every
    database and isolation level, even for a record that no longer exists.
    """
    return {
        "table": CHAIN_TABLE,
        "primary_key": "id",
        "fields": {
            "id": {"type": "string", "length": 400, "primary_key": True},
            "sequence": {"type": "integer", "null": False},
            "hash": {"type": "string", "length": 64, "null": False},
            "mac": {"type": "string", "length": 64, "null": False},
        },
    }
