"""``[tool.reactive-record]``: finding and loading it, and the core's marshmallow schemas.

Each package validates only its own sections: the core validates the top level and the
model tables, and leaves each feature's section (``models.Job.permissions``) to the plugin
that provides the feature. Every mistake is a :class:`ConfigError` naming the TOML path.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, fields, pre_load, validate
from marshmallow import ValidationError as SchemaError

from .durations import parse_ttl
from .errors import ConfigError, PluginNotInstalled
from .model import FIELD_TYPES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TABLE = "tool.reactive-record"
DATABASE_ENV = "RR_DATABASE_URL"
DEFAULT_DATABASE = "sqlite://"

#: The first-party features: a section for one whose plugin is absent names the
#: distribution to install; any other unknown key may be a misspelling.
FIRST_PARTY_FEATURES = {
    "activity": "rr-activity",
    "permissions": "rr-permissions",
    "defaults": "rr-defaults",
}


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (the cwd by default)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_pyproject(path: Path) -> dict[str, Any]:
    """The ``[tool.reactive-record]`` table of ``path`` (empty when it has none)."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "malformed TOML", str(exc)) from None
    except OSError as exc:
        raise ConfigError(str(path), "unreadable", str(exc)) from None
    table = document.get("tool", {}).get("reactive-record", {})
    if not isinstance(table, dict):
        raise ConfigError(TABLE, table, "a table")
    return table


def database_url(explicit: str | None, configured: str | None) -> str:
    """An explicit argument wins; then ``RR_DATABASE_URL``; then the file; then SQLite."""
    if explicit is not None:
        return explicit
    return os.environ.get(DATABASE_ENV) or configured or DEFAULT_DATABASE


# -- schemas --------------------------------------------------------------------------


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class Flag(fields.Boolean):
    """A TOML boolean for any package's schema: ``"yes"``, ``1`` or ``"true"`` is a mistake
    (TOML has real booleans), not another spelling of true."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class FieldSchema(_Strict):
    """``fields.title = { type = "string", length = 200, null = false }`` or ``"string"``."""

    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    length = fields.Integer(validate=validate.Range(min=1))
    null = Flag(load_default=True)
    default = fields.Raw(allow_none=True)
    primary_key = Flag(load_default=False)
    precision = fields.Integer(validate=validate.Range(min=1))
    scale = fields.Integer(validate=validate.Range(min=0))

    @pre_load
    def _shorthand(self, data: Any, **_: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data


class BelongsToSchema(_Strict):
    """``belongs_to.client = { model = "Client", foreign_key = "client_id" }``."""

    model = fields.String(required=True)
    foreign_key = fields.String()


class HasManySchema(_Strict):
    """``has_many.tasks = { model = "Task", foreign_key = "job_id", dependent = "destroy" }``."""

    model = fields.String(required=True)
    foreign_key = fields.String()
    through = fields.String()
    dependent = fields.String(validate=validate.OneOf(["destroy"]))


class ScopeSchema(_Strict):
    """``scopes.by_client = { params = ["client_id"], where = {...} }``."""

    where = fields.Dict(load_default=dict)
    params = fields.List(fields.String(), load_default=list)
    order = fields.List(fields.String(), load_default=list)
    limit = fields.Integer(validate=validate.Range(min=0))


class LengthSchema(_Strict):
    min = fields.Integer(validate=validate.Range(min=0))
    max = fields.Integer(validate=validate.Range(min=0))
    # "is" is a Python keyword: declared under its own name through data_key.
    exact = fields.Integer(data_key="is", validate=validate.Range(min=0))


class NumericalitySchema(_Strict):
    only_integer = Flag(load_default=False)
    gt = fields.Float()
    gte = fields.Float()
    lt = fields.Float()
    lte = fields.Float()


def _regular_expression(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SchemaError(f"a regular expression ({exc})") from exc


class ValidationsSchema(_Strict):
    """``validations.title = { presence = true, length = { min = 1, max = 200 } }``."""

    presence = Flag()
    length = fields.Nested(LengthSchema)
    inclusion = fields.List(fields.Raw())
    exclusion = fields.List(fields.Raw())
    numericality = fields.Nested(NumericalitySchema)
    format = fields.String(validate=_regular_expression)
    message = fields.String()


TTL_KINDS = ("find", "collection", "scopes", "preload")


def _ttl(text: str) -> None:
    """A TTL the cache understands, or a marshmallow error saying what is allowed."""
    try:
        parse_ttl(text)
    except ValueError as exc:
        raise SchemaError(f"{exc}, 'none' or 'forever'") from None


class TtlSchema(_Strict):
    """``ttl = { find = "2h", collection = "1h", scopes = "30m", preload = "4h" }``."""

    find = fields.String(validate=_ttl)
    collection = fields.String(validate=_ttl)
    scopes = fields.String(validate=_ttl)
    preload = fields.String(validate=_ttl)


def model_schema(features: Iterable[str]) -> type[Schema]:
    """The schema of one model table; each installed feature may have its own section."""
    declared: dict[str, fields.Field[Any]] = {
        "table": fields.String(),
        "primary_key": fields.String(load_default="id"),
        "fields": fields.Dict(keys=fields.String(), values=fields.Nested(FieldSchema)),
        "tenant_field": fields.String(),
        "belongs_to": fields.Dict(keys=fields.String(), values=fields.Nested(BelongsToSchema)),
        "has_many": fields.Dict(keys=fields.String(), values=fields.Nested(HasManySchema)),
        "indexes": fields.List(fields.List(fields.String()), load_default=list),
        "max_live_rows": fields.Integer(validate=validate.Range(min=1)),
        "features": fields.Dict(keys=fields.String(), values=Flag()),
        "ttl": fields.Nested(TtlSchema),
        "scopes": fields.Dict(keys=fields.String(), values=fields.Nested(ScopeSchema)),
        "validations": fields.Dict(keys=fields.String(), values=fields.Nested(ValidationsSchema)),
        "computed": fields.Dict(keys=fields.String(), values=fields.String()),
    }
    for feature in features:
        declared[feature] = fields.Raw()
    return Schema.from_dict(declared, name="ModelSchema")


def top_schema(features: Iterable[str]) -> type[Schema]:
    """The schema of ``[tool.reactive-record]`` itself."""
    features = tuple(features)
    declared: dict[str, fields.Field[Any]] = {
        "database": fields.String(),
        "plugins": fields.List(fields.String()),
        "user_tenant_field": fields.String(load_default="client_id"),
        "system_writes": Flag(load_default=False),
        "max_cached_queries": fields.Integer(validate=validate.Range(min=0)),
        "models": fields.Dict(
            keys=fields.String(), values=fields.Nested(model_schema(features)), load_default=dict
        ),
    }
    for feature in features:
        declared[feature] = fields.Raw()
    return Schema.from_dict(declared, name="ReactiveRecordSchema")


def load(data: Mapping[str, Any], features: Iterable[str], prefix: str = TABLE) -> dict[str, Any]:
    """Validate the whole table; the first mistake becomes a :class:`ConfigError`."""
    schema = top_schema(features)()
    try:
        result: dict[str, Any] = schema.load(dict(data), unknown=RAISE)
    except SchemaError as exc:
        missing = _missing_feature(exc.messages, prefix)
        raise (missing or first_error(exc.messages, data, prefix)) from None
    return result


def _missing_feature(messages: Any, prefix: str) -> PluginNotInstalled | None:
    """A section of a first-party feature whose plugin is not installed, if any."""
    sections = [(prefix, messages)]
    models = messages.get("models") if isinstance(messages, Mapping) else None
    if isinstance(models, Mapping):
        for name, errors in models.items():
            if isinstance(errors, Mapping):
                sections.append((f"{prefix}.models.{name}", errors.get("value", {})))
    for path, errors in sections:
        for key in sorted(FIRST_PARTY_FEATURES):
            if isinstance(errors, Mapping) and errors.get(key) == ["Unknown field."]:
                return PluginNotInstalled(f"{path}.{key}", FIRST_PARTY_FEATURES[key])
    return None


def validate_section(
    schema: Schema, data: Any, path: str, *, partial: bool = False
) -> dict[str, Any]:
    """Load ``data`` with a plugin's ``schema``; a mistake is a ConfigError at ``path``."""
    try:
        result: dict[str, Any] = schema.load(data if data is not None else {}, partial=partial)
    except SchemaError as exc:
        raise first_error(exc.messages, data, path) from None
    return result


def first_error(messages: Any, data: Any, prefix: str) -> ConfigError:
    """Turn marshmallow's nested messages into one ConfigError with a TOML path."""
    path, message = _first_message(messages)
    value = _lookup(data, path)
    allowed = message
    if message == "Unknown field.":
        allowed = "unknown key; remove it or check its spelling"
        value = path[-1] if path else value
    dotted = ".".join([prefix, *path]) if path else prefix
    return ConfigError(dotted, value, allowed)


def _first_message(messages: Any) -> tuple[list[str], str]:
    if isinstance(messages, list):
        return [], "; ".join(str(m) for m in messages)
    if isinstance(messages, str):
        return [], messages
    key = sorted(messages, key=str)[0]
    path, message = _first_message(messages[key])
    # marshmallow reports dict entries under "key" / "value"; the TOML path has neither.
    if key in ("value", "key") and path is not None:
        return path, message
    if key == "_schema":
        return path, message
    return [str(key), *path], message


def _lookup(data: Any, path: list[str]) -> Any:
    current = data
    for part in path:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif isinstance(current, (Mapping, list)):
            return None
        else:
            return current  # a shorthand: ``title = "strng"`` stands for ``{type = "strng"}``
    return current
