"""The test plugin's configuration sections, validated with its own marshmallow schemas.

Top level, ``[tool.reactive-record.testplugin]``::

    testplugin = { record = true, fail_in = "rr_validate_change", fail_model = "Job",
                   fail_after = 1, clear_after_validate = "title", audit = true,
                   problems = ["..."] }

Per model, ``[tool.reactive-record.models.Job.testplugin]`` (acted on only when the model
enables the feature with ``features = { testplugin = true }``)::

    testplugin = { hide = { status = "secret" }, reject = { status = "draft" },
                   fill = { status = "unknown" },
                   drop = { status = "spam" }, decorate = true, deny = ["assign"] }
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from marshmallow import ValidationError as SchemaError
from reactive_record import ConfigError

NAME = "testplugin"

#: The hooks ``fail_in`` may name: every hook this plugin implements on the data path.
FAILING_HOOKS = (
    "rr_plan_query",
    "rr_fill_records",
    "rr_filter_records",
    "rr_decorate_records",
    "rr_rewrite_change",
    "rr_fill_change",
    "rr_validate_change",
    "rr_authorize_change",
    "rr_on_write",
    "rr_after_commit",
)


class TopSchema(Schema):
    """``testplugin = {...}`` at the top of ``[tool.reactive-record]``."""

    class Meta:
        unknown = RAISE

    record = fields.Boolean(load_default=False)
    fail_in = fields.String(validate=validate.OneOf(FAILING_HOOKS), load_default=None)
    fail_model = fields.String(load_default=None)
    fail_after = fields.Integer(validate=validate.Range(min=0), load_default=0)
    clear_after_validate = fields.String(load_default=None)
    audit = fields.Boolean(load_default=False)
    problems = fields.List(fields.String(), load_default=list)


class ModelSchema(Schema):
    """``models.NAME.testplugin = {...}``."""

    class Meta:
        unknown = RAISE

    hide = fields.Dict(keys=fields.String(), load_default=None)
    reject = fields.Dict(keys=fields.String(), load_default=dict)
    fill = fields.Dict(keys=fields.String(), load_default=dict)
    drop = fields.Dict(keys=fields.String(), load_default=dict)
    decorate = fields.Boolean(load_default=False)
    deny = fields.List(fields.String(), load_default=list)


def load_section(schema: Schema, data: Any, path: str) -> dict[str, Any]:
    """Validate one section; the first mistake is a ConfigError naming its TOML path."""
    try:
        loaded: dict[str, Any] = schema.load(data if data is not None else {})
    except SchemaError as exc:
        key, message = _first(exc.messages)
        value = data.get(key) if isinstance(data, Mapping) and key else data
        if message == "Unknown field.":
            value, message = key, "unknown key; remove it or check its spelling"
        raise ConfigError(f"{path}.{key}" if key else path, value, message) from None
    return loaded


def _first(messages: Any) -> tuple[str, str]:
    if isinstance(messages, Mapping):
        key = sorted(messages, key=str)[0]
        detail = messages[key]
        text = "; ".join(map(str, detail)) if isinstance(detail, list) else str(detail)
        return str(key), text
    return "", "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
