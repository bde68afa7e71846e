"""The ``defaults`` configuration, validated with marshmallow.

Per model (``[tool.reactive-record.models.Job.defaults]``)::

    from_schema = true                     # use the defaults the database declares
    values = { status = "pending" }        # must agree with the database where it has one
    overrides = { priority = 3 }           # deliberate client-side defaults, never drift
    computed = { due_date = "myapp.defaults:job_due_date" }   # run in this order
    apply_on_creation = true               # new() and create fill defaults
    apply_on_form_population = true        # populate_form fills defaults
    missing = ["absent"]                   # also "none" (None) and "empty" ("")

``[tool.reactive-record.defaults]`` may set ``from_schema``, ``apply_on_creation``,
``apply_on_form_population`` and ``missing`` for every model at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from marshmallow import RAISE, Schema, fields, validate
from reactive_record import ConfigError, InvalidQuery
from reactive_record.config import Flag, validate_section
from reactive_record.references import import_reference

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Model

FEATURE = "defaults"
MISSING_KINDS = ("absent", "none", "empty")


class ProjectSchema(Schema):
    """``[tool.reactive-record.defaults]``: settings every model starts from."""

    class Meta:
        unknown = RAISE

    from_schema = Flag()
    apply_on_creation = Flag()
    apply_on_form_population = Flag()
    missing = fields.List(fields.String(validate=validate.OneOf(MISSING_KINDS)))


class ModelSchema(ProjectSchema):
    """``[tool.reactive-record.models.NAME.defaults]``."""

    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=False))
    overrides = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=False))
    computed = fields.Dict(keys=fields.String(), values=fields.String())


#: A computed default: ``function(partial_record, user)`` returns the field's value.
Computed = Callable[[Mapping[str, Any], Any], Any]


@dataclass(frozen=True)
class Settings:
    """One model's validated defaults configuration (values coerced to the field types)."""

    enabled: bool = False
    from_schema: bool = True
    apply_on_creation: bool = True
    apply_on_form_population: bool = True
    none_missing: bool = False
    empty_missing: bool = False
    values: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    computed: tuple[tuple[str, str, Computed], ...] = ()


def project_settings(rr: ReactiveRecord, section: Any) -> dict[str, Any]:
    """The validated top-level section (empty when absent)."""
    return validate_section(ProjectSchema(), section, f"{rr.config_prefix}.{FEATURE}")


def model_settings(
    rr: ReactiveRecord, model: Model, section: Any, project: Mapping[str, Any]
) -> Settings:
    """One model's settings: its own section over the project's, names and values checked."""
    path = f"{rr.config_prefix}.models.{model.name}.{FEATURE}"
    loaded = {**project, **validate_section(ModelSchema(), section, path)}
    values = _coerced(model, loaded.get("values", {}), f"{path}.values")
    overrides = _coerced(model, loaded.get("overrides", {}), f"{path}.overrides")
    computed_names = loaded.get("computed", {}).keys()
    for kind, names, others in (
        ("overrides", overrides.keys(), values.keys()),
        ("computed", computed_names, values.keys() | overrides.keys()),
    ):
        for name in sorted(names & others):
            raise ConfigError(
                f"{path}.{kind}.{name}",
                name,
                "a field with one default (values, overrides or computed)",
            )
    computed = []
    for name, reference in loaded.get("computed", {}).items():
        where = f"{path}.computed.{name}"
        model_field(model, name, where)
        function = import_reference(reference, where, rr.root)
        if not callable(function):
            raise ConfigError(where, reference, "a callable (partial_record, user) -> value")
        computed.append((name, reference, function))
    return settings_from(
        loaded,
        enabled=model.has_feature(FEATURE),
        values=values,
        overrides=overrides,
        computed=tuple(computed),
    )


def settings_from(loaded: Mapping[str, Any], **parts: Any) -> Settings:
    """Settings from a loaded section (switches and ``missing``) and the parts given."""
    missing = set(loaded.get("missing", ("absent",)))
    return Settings(
        from_schema=loaded.get("from_schema", True),
        apply_on_creation=loaded.get("apply_on_creation", True),
        apply_on_form_population=loaded.get("apply_on_form_population", True),
        none_missing="none" in missing,
        empty_missing="empty" in missing,
        **parts,
    )


def model_field(model: Model, name: str, path: str) -> None:
    """Raise ConfigError at ``path`` unless ``name`` is a field of ``model``."""
    if name not in model.fields:
        raise ConfigError(path, name, f"a field of {model.name} ({', '.join(model.fields)})")


def _coerced(model: Model, entries: Mapping[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in entries.items():
        model_field(model, name, f"{path}.{name}")
        field_def = model.fields[name]
        try:
            out[name] = field_def.coerce(value, model.name)
        except InvalidQuery:
            raise ConfigError(f"{path}.{name}", value, f"a {field_def.type} value") from None
    return out
