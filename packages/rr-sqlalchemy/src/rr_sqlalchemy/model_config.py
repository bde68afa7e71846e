"""A reflected table as model configuration: the shape of ``[tool.reactive-record.models.X]``.

One description serves both uses, so they cannot disagree: ``reactive-record generate``
prints it as TOML, and :func:`reflect_model` fills a model declared without ``fields``
from it when the instance starts.

Rules: NOT NULL is ``null = false`` plus an explicit ``presence`` validation — false where
the database fills the column itself with something config cannot state (a sequence, a
time function, a JSON object), so creating without it stays valid. A string's length is a
``length`` validation; CHECK constraints and enum labels become ``inclusion``,
``numericality`` and ``length``. A default is written into the field only when TOML holds
it exactly (strings, integers, floats, booleans, dates, datetimes); the rest are the
database's (and rr-defaults') to fill.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from reactive_record import ConfigError, Field, Model

from .reflection import TableInfo, inspect_table
from .schema_defaults import column_default

#: Python types a TOML value round-trips to exactly.
_TOML_EXACT = (str, bool, int, float, dt.date)


def _never() -> dt.datetime:  # pragma: no cover - time defaults are factories, never called here
    raise AssertionError("model configuration does not evaluate time defaults")


def model_table(info: TableInfo) -> dict[str, Any]:
    """The model table describing ``info``: fields, validations, indexes (no associations).

    :raises ConfigError: when the table has no primary key or a composite one.
    """
    if len(info.primary_key) != 1:
        found = ", ".join(info.primary_key) or "none"
        raise ConfigError(
            f"table {info.name!r}",
            f"primary key ({found})",
            "a table with a one-column primary key",
        )
    primary_key = info.primary_key[0]
    fields: dict[str, dict[str, Any]] = {}
    validations: dict[str, dict[str, Any]] = {}
    for column in info.columns.values():
        spec: dict[str, Any] = {"type": column.type}
        for key in ("length", "precision", "scale"):
            if getattr(column, key) is not None:
                spec[key] = getattr(column, key)
        rules = dict(info.validations.get(column.name, {}))
        if column.name == primary_key:
            spec["primary_key"] = True
        else:
            filled_by_database = False
            default = column_default(column, info.dialect, _never)
            if default is not None:
                value = default.value
                if not default.server_generated and isinstance(value, _TOML_EXACT):
                    spec["default"] = value
                else:
                    filled_by_database = True
            if not column.nullable:
                spec["null"] = False
                rules = {"presence": not filled_by_database, **rules}
        if column.type == "string" and column.length is not None:
            length = dict(rules.get("length", {}))
            length["max"] = min(length.get("max", column.length), column.length)
            rules["length"] = length
        fields[column.name] = spec
        if rules:
            validations[column.name] = rules
    table: dict[str, Any] = {"table": info.name}
    if primary_key != "id":
        table["primary_key"] = primary_key
    table["fields"] = fields
    if validations:
        table["validations"] = validations
    if info.indexes:
        table["indexes"] = [list(index) for index in info.indexes]
    return table


def reflect_model(bind: sa.Connection, model: Model) -> None:
    """Fill ``model`` (declared without ``fields``) from its existing table.

    Sets its fields and primary key; adds the table's validations and indexes where the
    configuration declares none for that field (configuration wins).

    :raises ConfigError: when the table does not exist, has no single-column primary
        key, or lacks a field the configuration names.
    """
    try:
        info = inspect_table(bind, model.table)
    except sa.exc.NoSuchTableError:
        raise ConfigError(
            f"models.{model.name}.table",
            model.table,
            "an existing table to reflect (or declare fields)",
        ) from None
    table = model_table(info)
    model.primary_key = table.get("primary_key", "id")
    model.fields = {
        name: Field(
            name,
            spec["type"],
            null=spec.get("null", True) and not spec.get("primary_key", False),
            default=spec.get("default"),
            length=spec.get("length"),
            primary_key=spec.get("primary_key", False),
            precision=spec.get("precision"),
            scale=spec.get("scale"),
        )
        for name, spec in table["fields"].items()
    }
    for name, rules in table.get("validations", {}).items():
        configured = model.validations.setdefault(name, {})
        for rule, value in rules.items():
            configured.setdefault(rule, value)
    if not model.indexes:
        model.indexes = tuple(tuple(index) for index in table.get("indexes", ()))
    _check_names(model)


def _check_names(model: Model) -> None:
    named = [(f"validations.{name}", name) for name in model.validations]
    named += [(f"indexes.{i}", name) for i, index in enumerate(model.indexes) for name in index]
    named += [
        (f"belongs_to.{a.name}.foreign_key", a.foreign_key)
        for a in model.associations.values()
        if a.kind == "belongs_to"
    ]
    if model.tenant_field is not None:
        named.append(("tenant_field", model.tenant_field))
    for path, name in named:
        if name not in model.fields:
            raise ConfigError(
                f"models.{model.name}.{path}",
                name,
                f"a column of table {model.table!r} ({', '.join(model.fields)})",
            )
