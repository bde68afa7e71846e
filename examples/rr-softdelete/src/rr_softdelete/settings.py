"""The plugin's configuration, validated with its own marshmallow schema.

A model turns soft delete on with its feature flag and names its timestamp field in its
own section (``deleted_at`` when the section is absent)::

    [tool.reactive-record.models.Job]
    features = { softdelete = true }
    fields.removed_at = "datetime"
    softdelete = { field = "removed_at" }
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from marshmallow import ValidationError as SchemaError
from reactive_record import ConfigError, Model, ReactiveRecord

FEATURE = "softdelete"
DEFAULT_FIELD = "deleted_at"


class SectionSchema(Schema):
    """``[tool.reactive-record.models.NAME.softdelete]``."""

    class Meta:
        unknown = RAISE

    field = fields.String(load_default=DEFAULT_FIELD, validate=validate.Length(min=1))


def deleted_fields(rr: ReactiveRecord, config: Mapping[str, Any]) -> dict[str, str]:
    """Model name -> timestamp field, for every model that enables the feature.

    Every model's section is validated, enabled or not, so a typo never waits for the
    day the feature is switched on.
    """
    prefix = rr.config_prefix
    if config.get(FEATURE) is not None:
        raise ConfigError(
            f"{prefix}.{FEATURE}",
            config[FEATURE],
            "no top-level settings: configure each model's [models.NAME.softdelete] table",
        )
    found: dict[str, str] = {}
    for model in rr.model_definitions():
        path = f"{prefix}.models.{model.name}.{FEATURE}"
        section = _load(model.options.get(FEATURE), path)
        if model.has_feature(FEATURE):
            found[model.name] = _check_field(model, section["field"], f"{path}.field")
    return found


def _load(data: Any, path: str) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = SectionSchema().load(data if data is not None else {})
    except SchemaError as exc:
        key, message = _first_message(exc.messages)
        value = data.get(key) if isinstance(data, Mapping) else data
        if message == "Unknown field.":
            value, message = key, "unknown key; the only key is `field`"
        raise ConfigError(f"{path}.{key}" if key else path, value, message) from None
    return loaded


def _first_message(messages: Any) -> tuple[str, str]:
    if not isinstance(messages, Mapping):
        return "", "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
    key = sorted(messages, key=str)[0]
    detail = messages[key]
    return str(key), "; ".join(map(str, detail)) if isinstance(detail, list) else str(detail)


def _check_field(model: Model, name: str, path: str) -> str:
    """The timestamp must be a nullable datetime: NULL is what "not deleted" means."""
    field = model.fields.get(name)
    if field is None or field.type != "datetime" or not field.null:
        candidates = sorted(
            f.name for f in model.fields.values() if f.type == "datetime" and f.null
        )
        allowed = f"a nullable datetime field of {model.name}"
        if candidates:
            allowed += f" ({', '.join(candidates)})"
        else:
            allowed += f'; add one: fields.{name} = "datetime"'
        raise ConfigError(path, name, allowed)
    return name
