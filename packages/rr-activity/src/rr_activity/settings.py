"""rr-activity's configuration sections, validated with its own marshmallow schemas.

Top level, ``[tool.reactive-record.activity]``::

    user_model = "User"            # entries belong to it: entry.user.name

Per model, ``[tool.reactive-record.models.Job.activity]`` (acted on when the model
enables the feature with ``features = { activity = true }``)::

    track_fields = ["title", "status"]   # default: every field but the key and lock_version
    redact = ["secret_note"]             # logged as "[REDACTED]", old and new
    chain = true                         # tamper evidence: HMAC chain per record
    actions = ["assign"]                 # custom action names clients may send
    uuid_field = "uuid"                  # logged as entity_uuid (default: a uuid key or `uuid`)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marshmallow import RAISE, Schema, fields, validate
from reactive_record import ConfigError
from reactive_record.config import Flag, validate_section

if TYPE_CHECKING:
    from reactive_record import Model, ReactiveRecord

NAME = "activity"
KEY_ENV = "RR_ACTIVITY_KEY"
MIN_KEY_LENGTH = 16
#: Actions every activity-enabled model knows.
BUILTIN_ACTIONS = ("create", "update", "destroy", "revert")

_ACTION = validate.Regexp(r"^[a-z][a-z0-9_]{0,49}$", error="Not a valid action name: {input}.")


class TopSchema(Schema):
    """``[tool.reactive-record.activity]``."""

    class Meta:
        unknown = RAISE

    user_model = fields.String(load_default=None)


class ModelSchema(Schema):
    """``[tool.reactive-record.models.NAME.activity]``."""

    class Meta:
        unknown = RAISE

    track_fields = fields.List(fields.String(), load_default=None)
    redact = fields.List(fields.String(), load_default=list)
    chain = Flag(load_default=False)
    actions = fields.List(fields.String(validate=_ACTION), load_default=list)
    uuid_field = fields.String(load_default=None)


@dataclass(frozen=True)
class ModelActivity:
    """How one activity-enabled model is logged."""

    model: Model
    tracked: tuple[str, ...]
    types: Mapping[str, str]
    redact: frozenset[str]
    chain: bool
    actions: frozenset[str]
    uuid_field: str | None

    def knows_action(self, action: str) -> bool:
        """Whether ``action`` is a built-in action or one of the configured ones."""
        return action in self.actions


def load_top(rr: ReactiveRecord, config: Mapping[str, Any]) -> dict[str, Any]:
    """The validated top-level section; ``user_model`` must name a model."""
    path = f"{rr.config_prefix}.{NAME}"
    section = validate_section(TopSchema(), config.get(NAME), path)
    user_model = section["user_model"]
    if user_model is not None:
        names = [m.name for m in rr.model_definitions()]
        if user_model not in names:
            raise ConfigError(f"{path}.user_model", user_model, f"a model ({', '.join(names)})")
    return section


def load_model(rr: ReactiveRecord, model: Model, section: Any) -> ModelActivity:
    """The validated section of an activity-enabled model, its field names checked."""
    path = f"{rr.config_prefix}.models.{model.name}.{NAME}"
    loaded = validate_section(ModelSchema(), section, path)
    known = ", ".join(sorted(model.fields))

    def require(name: str, key: str) -> str:
        if name not in model.fields:
            raise ConfigError(f"{path}.{key}", name, f"a field of {model.name} ({known})")
        return name

    if loaded["track_fields"] is None:
        tracked = tuple(
            name for name in model.fields if name != model.primary_key and name != model.lock_field
        )
    else:
        tracked = tuple(dict.fromkeys(require(n, "track_fields") for n in loaded["track_fields"]))
    redact = frozenset(require(n, "redact") for n in loaded["redact"])
    uuid_field = loaded["uuid_field"]
    if uuid_field is not None:
        require(uuid_field, "uuid_field")
        if model.fields[uuid_field].type != "uuid":
            raise ConfigError(f"{path}.uuid_field", uuid_field, "a field of type uuid")
    else:
        uuid_field = _default_uuid_field(model)
    if loaded["chain"]:
        _require_key(f"{path}.chain")
    return ModelActivity(
        model=model,
        tracked=tracked,
        types={name: field.type for name, field in model.fields.items()},
        redact=redact,
        chain=loaded["chain"],
        actions=frozenset((*BUILTIN_ACTIONS, *loaded["actions"])),
        uuid_field=uuid_field,
    )


def _default_uuid_field(model: Model) -> str | None:
    if model.fields[model.primary_key].type == "uuid":
        return model.primary_key
    uuid_field = model.fields.get("uuid")
    return "uuid" if uuid_field is not None and uuid_field.type == "uuid" else None


def _require_key(path: str) -> None:
    if len(os.environ.get(KEY_ENV, "")) < MIN_KEY_LENGTH:
        raise ConfigError(
            path,
            True,
            f"chain = true needs a secret of at least {MIN_KEY_LENGTH} characters in the "
            f"{KEY_ENV} environment variable, kept outside the database",
        )


def secret_key() -> bytes | None:
    """The HMAC key of the chains, from ``RR_ACTIVITY_KEY`` (None when unset)."""
    value = os.environ.get(KEY_ENV)
    return value.encode() if value else None


def _logged_tables(settings: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The loaded tables of the models that enable the feature (before models are built)."""
    return [
        table
        for table in (settings.get("models") or {}).values()
        if (table.get("features") or {}).get(NAME)
    ]


def any_chained(settings: Mapping[str, Any]) -> bool:
    """Whether any logged model asks for ``chain = true`` (validated later, in full)."""
    return any(
        isinstance(table.get(NAME), Mapping) and table[NAME].get("chain") is True
        for table in _logged_tables(settings)
    )


def tenant_type(settings: Mapping[str, Any]) -> str:
    """The type of ``client_id`` in the log: the tenant fields' type where they agree.

    Read from the loaded model tables before models are built, so ``ActivityLog`` can be
    registered with it; ``integer`` when no activity-enabled model declares a tenant, and
    ``string`` (values logged as text) when they disagree.
    """
    default_tenant = settings.get("user_tenant_field", "client_id")
    found: set[str] = set()
    for table in _logged_tables(settings):
        declared = table.get("fields") or {}
        tenant = table.get("tenant_field") or default_tenant
        if tenant in declared:
            found.add(declared[tenant]["type"])
    if len(found) == 1:
        return found.pop()
    return "integer" if not found else "string"
