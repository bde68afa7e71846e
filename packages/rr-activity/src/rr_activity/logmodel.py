"""The ``ActivityLog`` model rr-activity registers, as a ``[tool.reactive-record.models]`` table."""

from __future__ import annotations

from typing import Any

#: The model's name (``rr.models.ActivityLog``) and its table.
LOG_MODEL = "ActivityLog"
LOG_TABLE = "activity_logs"
#: The association each activity-enabled model gets: ``Job.includes("activity_logs")``.
ASSOCIATION = "activity_logs"
#: Newest first; the time-ordered ``id`` breaks ties between entries of one instant.
NEWEST_FIRST = (("created_at", True), ("id", True))


def log_table(client_type: str, chained: bool) -> dict[str, Any]:
    """The table definition of ``ActivityLog``; ``client_id`` has the tenants' type.

    With chained models, a second index finds a chain's tail without sorting the record's
    whole history on every write.
    """
    indexes = [["entity_type", "entity_id", "created_at"]]
    if chained:
        indexes.append(["entity_type", "entity_id", "sequence"])
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
        "indexes": indexes,
    }
