"""The marshmallow schema of an entry: its wire form, and the validation of client entries.

``EntrySchema().dump(entry)`` gives JSON-ready data (UUIDs, datetimes and every field
value as text where JSON has no type for it); ``EntrySchema().load(data)`` gives the
Python values back, exactly: dates, datetimes, decimals, UUIDs and JSON values
round-trip losslessly, each field value decoded by its ``data_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_dump,
    pre_load,
    validate,
)

from .codec import DATA_TYPES, decode, encode


class FieldChangeSchema(Schema):
    """``{field_name, old_value, new_value, data_type}``."""

    class Meta:
        unknown = RAISE

    field_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    data_type = fields.String(required=True, validate=validate.OneOf(DATA_TYPES))
    old_value = fields.Raw(allow_none=True, load_default=None)
    new_value = fields.Raw(allow_none=True, load_default=None)

    @pre_dump
    def _encode(self, change: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        data_type = change["data_type"]
        encoded = dict(change)
        encoded["old_value"] = encode(change.get("old_value"), data_type)
        encoded["new_value"] = encode(change.get("new_value"), data_type)
        return encoded

    @post_load
    def _decode(self, change: dict[str, Any], **_: Any) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for key in ("old_value", "new_value"):
            try:
                change[key] = decode(change[key], change["data_type"])
            except ValueError as exc:
                errors[key] = [f"{exc} (data_type {change['data_type']})"]
        if errors:
            raise ValidationError(errors)
        return change


class EntrySchema(Schema):
    """One activity log entry.

    Clients send what :func:`rr_activity.generate` makes; the server-owned fields
    (``client_id``, ``created_at``, ``transaction_id``, ``sequence``, ``prev_hash``,
    ``hash``) are accepted but always set by the server.
    """

    class Meta:
        unknown = RAISE

    id = fields.UUID(load_default=None)
    entity_type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    entity_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    entity_uuid = fields.UUID(allow_none=True, load_default=None)
    client_id = fields.Raw(allow_none=True, load_default=None)
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    action = fields.String(required=True, validate=validate.Length(min=1, max=50))
    field_changes = fields.List(fields.Nested(FieldChangeSchema), required=True)
    metadata = fields.Dict(keys=fields.String(), load_default=dict)
    transaction_id = fields.UUID(allow_none=True, load_default=None)
    created_at = fields.AwareDateTime(allow_none=True, load_default=None)
    sequence = fields.Integer(allow_none=True, load_default=None)
    prev_hash = fields.String(allow_none=True, load_default=None)
    hash = fields.String(allow_none=True, load_default=None)

    @pre_load
    def _keys_as_text(self, data: Any, **_: Any) -> Any:
        # Integer keys and user ids are common on the wire; the log keeps them as text.
        if isinstance(data, Mapping):
            data = dict(data)
            for name in ("entity_id", "user_id"):
                value = data.get(name)
                if isinstance(value, int) and not isinstance(value, bool):
                    data[name] = str(value)
        return data


def messages_text(messages: Any, prefix: str = "") -> str:
    """marshmallow's nested messages as one line: ``field_changes.0.data_type: Must be...``."""
    if isinstance(messages, Mapping):
        return "; ".join(
            messages_text(value, f"{prefix}{key}." if prefix or key != "_schema" else "")
            for key, value in sorted(messages.items(), key=lambda item: str(item[0]))
        )
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return f"{prefix.rstrip('.') or 'entry'}: {' '.join(messages)}"
    if isinstance(messages, list):
        return "; ".join(messages_text(m, prefix) for m in messages)
    return f"{prefix.rstrip('.') or 'entry'}: {messages}"
