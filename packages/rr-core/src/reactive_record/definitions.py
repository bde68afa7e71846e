"""Building :class:`Model` objects from validated model tables, with cross-checks.

The marshmallow schemas in ``config`` check each table's shape; this module checks what a
schema cannot: that associations name models and fields that exist, that scopes and
validations name real fields, and that enabled features have a plugin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from . import conditions as cond
from .errors import ConfigError, InvalidQuery, PluginNotInstalled
from .model import Association, Field, Model, Scope
from .query import ModelHandle

CORE_KEYS = frozenset(
    {
        "table",
        "primary_key",
        "fields",
        "tenant_field",
        "belongs_to",
        "has_many",
        "indexes",
        "max_live_rows",
        "features",
        "ttl",
        "scopes",
        "validations",
        "computed",
    }
)


def snake(name: str) -> str:
    """``ActivityLog`` -> ``activity_log``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def plural(word: str) -> str:
    """A plain English plural, enough for table names: job -> jobs, company -> companies."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def singular(word: str) -> str:
    """The inverse of :func:`plural` for the same simple cases."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if re.search(r"(s|x|z|ch|sh)es$", word):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def build_model(
    name: str,
    table: Mapping[str, Any],
    tenant_default: str,
    available_features: frozenset[str],
    prefix: str,
) -> Model:
    """One model from its validated table (associations are checked later, all together)."""
    path = f"{prefix}.models.{name}"
    primary_key = table.get("primary_key", "id")
    fields_spec: Mapping[str, Mapping[str, Any]] = table.get("fields") or {}
    built: dict[str, Field] = {}
    if primary_key not in fields_spec:
        built[primary_key] = Field(primary_key, "integer", null=False, primary_key=True)
    for field_name, spec in fields_spec.items():
        is_pk = field_name == primary_key or bool(spec.get("primary_key"))
        field = Field(
            field_name,
            spec["type"],
            null=bool(spec.get("null", True)) and not is_pk,
            length=spec.get("length"),
            primary_key=is_pk,
            precision=spec.get("precision"),
            scale=spec.get("scale"),
        )
        built[field_name] = _with_default(field, spec.get("default"), name, path)
    features = frozenset(f for f, on in (table.get("features") or {}).items() if on)
    for feature in sorted(features | (set(table) - CORE_KEYS)):
        if feature not in available_features:
            raise PluginNotInstalled(f"{path}: feature {feature!r}", f"rr-{feature}")
    tenant = table.get("tenant_field")
    if tenant is None and tenant_default in built:
        tenant = tenant_default
    model = Model(
        name=name,
        table=table.get("table") or plural(snake(name)),
        primary_key=primary_key,
        fields=built,
        scopes={
            scope_name: Scope(
                scope_name,
                spec.get("where") or {},
                tuple(spec.get("params") or ()),
                tuple(spec.get("order") or ()),
                spec.get("limit"),
            )
            for scope_name, spec in (table.get("scopes") or {}).items()
        },
        validations={k: dict(v) for k, v in (table.get("validations") or {}).items()},
        indexes=tuple(tuple(ix) for ix in table.get("indexes") or ()),
        features=features,
        options={k: table[k] for k in table if k not in CORE_KEYS},
        tenant_field=tenant,
        max_live_rows=table.get("max_live_rows", 20_000),
        ttl=dict(table.get("ttl") or {}),
        computed=dict(table.get("computed") or {}),
        reflect="fields" not in table,
    )
    _add_associations(model, table)
    return model


def _add_associations(model: Model, table: Mapping[str, Any]) -> None:
    for assoc_name, spec in (table.get("belongs_to") or {}).items():
        model.associations[assoc_name] = Association(
            assoc_name, "belongs_to", spec["model"], spec.get("foreign_key") or f"{assoc_name}_id"
        )
    for assoc_name, spec in (table.get("has_many") or {}).items():
        model.associations[assoc_name] = Association(
            assoc_name,
            "has_many",
            spec["model"],
            spec.get("foreign_key") or "",
            through=spec.get("through"),
            dependent=spec.get("dependent"),
        )


def check_models(models: Mapping[str, Model], prefix: str) -> None:
    """Cross-check every model against the others; fill defaulted foreign keys."""
    lookup = _lookup(models, prefix)
    for model in models.values():
        path = f"{prefix}.models.{model.name}"
        for assoc in list(model.associations.values()):
            kind_path = f"{path}.{assoc.kind}.{assoc.name}"
            target = lookup(assoc.model, f"{kind_path}.model")
            fk = assoc.foreign_key or _default_fk(model, assoc, models)
            if assoc.foreign_key != fk:
                model.associations[assoc.name] = assoc = Association(
                    assoc.name, assoc.kind, assoc.model, fk, assoc.through, assoc.dependent
                )
            if assoc.kind == "belongs_to":
                _require_field(model, fk, f"{kind_path}.foreign_key")
            elif assoc.through:
                hop = model.associations.get(assoc.through)
                if hop is None or hop.kind != "has_many":
                    raise ConfigError(
                        f"{kind_path}.through", assoc.through, f"a has_many of {model.name}"
                    )
                middle = lookup(hop.model, f"{kind_path}.through")
                if fk not in middle.fields and fk not in target.fields:
                    raise ConfigError(
                        f"{kind_path}.foreign_key",
                        fk,
                        f"a field of {middle.name} or {target.name}",
                    )
            elif not target.reflect:
                _require_field(target, fk, f"{kind_path}.foreign_key")
        for field_name, rules in model.validations.items():
            _require_field(model, field_name, f"{path}.validations.{field_name}")
            _type_listed_values(model, field_name, rules, f"{path}.validations.{field_name}")
        for position, index in enumerate(model.indexes):
            for field_name in index:
                _require_field(model, field_name, f"{path}.indexes.{position}")
        if model.tenant_field is not None:
            _require_field(model, model.tenant_field, f"{path}.tenant_field")
        for scope in model.scopes.values():
            if hasattr(ModelHandle, scope.name):
                # The method would win and the scope would never run: refuse the name.
                raise ConfigError(
                    f"{path}.scopes.{scope.name}", scope.name, "a name that is not a query method"
                )
            try:
                cond.parse(scope.where, model, partial(lookup, path=f"{path}.scopes"))
            except InvalidQuery as exc:
                raise ConfigError(
                    f"{path}.scopes.{scope.name}.where", scope.where, str(exc)
                ) from None


def _default_fk(model: Model, assoc: Association, models: Mapping[str, Model]) -> str:
    if assoc.through:
        middle = (
            models[model.associations[assoc.through].model]
            if assoc.through in model.associations
            else None
        )
        candidate = f"{snake(assoc.model)}_id"
        if middle is not None and candidate in middle.fields:
            return candidate
        return f"{snake(middle.name)}_id" if middle is not None else candidate
    return f"{snake(model.name)}_id"


def _require_field(model: Model, name: str, path: str) -> None:
    if not model.reflect and name not in model.fields:
        raise ConfigError(
            path, name, f"a field of {model.name} ({', '.join(sorted(model.fields))})"
        )


def _lookup(models: Mapping[str, Model], prefix: str) -> Any:
    def lookup(name: str, path: str = prefix) -> Model:
        try:
            return models[name]
        except KeyError:
            raise ConfigError(path, name, f"a model ({', '.join(sorted(models))})") from None

    return lookup


def _with_default(field: Field, default: Any, model: str, path: str) -> Field:
    """``field`` with its declared default as a value of its type (TOML writes a date or
    a decimal as text): what a new record, a form and the drift check all see."""
    if default is None:
        return field
    try:
        value = field.coerce(default, model)
    except InvalidQuery:
        raise ConfigError(
            f"{path}.fields.{field.name}.default", default, f"a {field.type} value"
        ) from None
    return replace(field, default=value)


def _type_listed_values(model: Model, name: str, rules: dict[str, Any], path: str) -> None:
    """``inclusion`` / ``exclusion`` values as the field's type, in place: TOML writes a
    decimal as a float or text, and ``Decimal("0.1")`` equals neither."""
    field = model.fields[name]
    for rule in ("inclusion", "exclusion"):
        listed = rules.get(rule)
        if not listed:
            continue
        try:
            rules[rule] = [v if v is None else field.coerce(v, model.name) for v in listed]
        except InvalidQuery:
            raise ConfigError(f"{path}.{rule}", listed, f"a list of {field.type} values") from None
