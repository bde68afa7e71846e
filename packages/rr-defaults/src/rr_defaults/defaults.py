"""One model's defaults, resolved once: which value each field gets, from where, and how fast.

Precedence per field: an ``override``, a ``computed`` function, a ``values`` entry or the
field's own ``default`` (source ``config``), then what the database declares (``schema``,
when ``from_schema``). Fields the database fills itself (sequences, identity, generated
columns, expressions Python cannot evaluate exactly) are ``server-generated``: never
pre-filled. Literal defaults are applied first, then computed ones in declaration order,
each seeing what was set before it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from reactive_record import InvalidQuery, ReactiveRecordError, SchemaDefault

from .config import Computed, Settings

if TYPE_CHECKING:
    from reactive_record.model import Model

SOURCES = ("schema", "config", "override", "computed", "server-generated")


@dataclass(frozen=True)
class FieldDefault:
    """One field's default: its value (or factory, or computed function) and its source.

    ``expression`` is the database's text for schema defaults and the ``"pkg.mod:func"``
    reference for computed ones; ``database`` is what the database declares for the
    field, whatever the source.
    """

    field: str
    source: str
    value: Any = None
    expression: str | None = None
    database: SchemaDefault | None = None

    @property
    def is_factory(self) -> bool:
        """Whether ``value`` is called per record (time functions, fresh JSON, computed)."""
        return callable(self.value)


def _fresh(value: Any) -> Any:
    """JSON objects and lists become factories, so no two records share one."""
    if isinstance(value, (dict, list)):
        return functools.partial(copy_json, value)
    return value


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars): several times faster than deepcopy."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


class ModelDefaults:
    """The resolved defaults of one model on one instance."""

    def __init__(
        self, model: Model, settings: Settings, database: Mapping[str, SchemaDefault]
    ) -> None:
        self.model = model
        self.settings = settings
        self.database = dict(database)
        computed = {name: (reference, function) for name, reference, function in settings.computed}
        entries: dict[str, FieldDefault] = {}
        for name, field in model.fields.items():
            declared = database.get(name)
            if name in settings.overrides:
                entry = FieldDefault(
                    name, "override", _fresh(settings.overrides[name]), None, declared
                )
            elif name in computed:
                reference, function = computed[name]
                entry = FieldDefault(name, "computed", function, reference, declared)
            elif name in settings.values:
                entry = FieldDefault(name, "config", _fresh(settings.values[name]), None, declared)
            elif field.default is not None:
                # A field default the database declares too (create_tables writes it, and
                # reflection reads it back) has the schema as its source.
                agrees = _agrees(field.default, declared)
                source = "schema" if agrees else "config"
                expression = declared.expression if agrees and declared else None
                entry = FieldDefault(name, source, _fresh(field.default), expression, declared)
            elif declared is not None and declared.server_generated:
                entry = FieldDefault(name, "server-generated", None, declared.expression, declared)
            elif declared is not None and settings.from_schema:
                entry = FieldDefault(name, "schema", declared.value, declared.expression, declared)
            else:
                continue
            entries[name] = entry
        self.entries = entries
        self.server_generated = frozenset(
            name for name, entry in entries.items() if entry.source == "server-generated"
        )
        literal = [e for e in entries.values() if e.source not in ("computed", "server-generated")]
        # Plain values and factories apart, so the hot loop tests nothing but presence.
        self._plain = {e.field: e.value for e in literal if not e.is_factory}
        self._plain_names = frozenset(self._plain)
        self._factories = tuple((e.field, e.value) for e in literal if e.is_factory)
        self._computed: tuple[tuple[str, str, Computed], ...] = tuple(settings.computed)
        self._blanks = (settings.none_missing, settings.empty_missing)
        #: Whether new() and create apply these defaults without being asked.
        self.on_creation = settings.enabled and settings.apply_on_creation
        #: The fields a default can fill (all but the server-generated ones).
        self.fillable = tuple(e.field for e in literal) + tuple(n for n, _, _ in self._computed)

    def fill(
        self,
        values: dict[str, Any],
        user: Any,
        *,
        none: bool | None = None,
        empty: bool | None = None,
    ) -> None:
        """Fill the missing fields of ``values`` in place.

        A field is missing when absent, or None when ``none``, or "" when ``empty``
        (both as the model's ``missing`` setting says unless given).
        """
        none = self._blanks[0] if none is None else none
        empty = self._blanks[1] if empty is None else empty
        if none or empty:
            for name in self.fillable:
                if name in values and _blank(values[name], none, empty):
                    del values[name]
        if self._plain_names.isdisjoint(values):
            values.update(self._plain)
        else:
            for name, value in self._plain.items():
                if name not in values:
                    values[name] = value
        for name, factory in self._factories:
            if name not in values:
                values[name] = factory()
        if self._computed:
            view = MappingProxyType(values)
            for name, reference, function in self._computed:
                if name not in values:
                    values[name] = self._compute(name, reference, function, view, user)

    def _compute(
        self, name: str, reference: str, function: Computed, view: Mapping[str, Any], user: Any
    ) -> Any:
        field = self.model.fields[name]
        try:
            result = function(view, user)
        except ReactiveRecordError:
            raise
        except Exception as exc:
            raise ReactiveRecordError(
                f"{self._where(name, reference)} failed: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            return field.coerce(result, self.model.name)
        except InvalidQuery:
            raise ReactiveRecordError(
                f"{self._where(name, reference)} returned {result!r}, "
                f"which is not a valid {field.type}"
            ) from None

    def _where(self, name: str, reference: str) -> str:
        return f"computed default {self.model.name}.{name} ({reference})"

    def evaluated(self, user: Any = None) -> dict[str, Any]:
        """The defaults a new record gets now, field by field (server-generated left out)."""
        values: dict[str, Any] = {}
        self.fill(values, user)
        return values


def database_value(declared: SchemaDefault) -> Any:
    """The value the database would give now (factories called), or None when it generates."""
    if declared.server_generated:
        return None
    return declared.value() if callable(declared.value) else declared.value


def _agrees(value: Any, declared: SchemaDefault | None) -> bool:
    if declared is None or declared.server_generated or callable(declared.value):
        return False
    return bool(value == declared.value) and type(value) is type(declared.value)


def _blank(value: Any, none: bool, empty: bool) -> bool:
    return (none and value is None) or (empty and isinstance(value, str) and value == "")
