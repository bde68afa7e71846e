"""The plugin's state on one instance (``rr.extensions["defaults"]``): settings and a cache.

What the database declares is read once per model, through the store's
``rr_schema_defaults`` hook, and kept until :meth:`DefaultsState.refresh` (after a
migration). Nothing lives in module globals, so instances in one process stay apart.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from reactive_record import ConfigError, InvalidQuery, SchemaDefault

from .config import FEATURE, Settings
from .defaults import ModelDefaults

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Model


class DefaultsState:
    """Every model's settings on one instance, and its resolved defaults, cached."""

    def __init__(
        self, rr: ReactiveRecord, settings: Mapping[str, Settings], project: Settings
    ) -> None:
        self.rr = rr
        self.settings = dict(settings)
        self.project = project
        self._cache: dict[str, ModelDefaults] = {}
        self._lock = threading.Lock()

    def settings_for(self, model: Model) -> Settings:
        """The model's settings (the project's when it has no section)."""
        return self.settings.get(model.name, self.project)

    def defaults(self, model: Model) -> ModelDefaults:
        """The model's resolved defaults, reading the database's on first use."""
        found = self._cache.get(model.name)
        if found is None:
            with self._lock:
                found = self._cache.get(model.name)
                if found is None:
                    found = ModelDefaults(model, self.settings_for(model), self.declared(model))
                    self._cache[model.name] = found
        return found

    def on_creation(self, model: Model) -> ModelDefaults | None:
        """The model's defaults if creating a record applies them (feature on), else None."""
        found = self._cache.get(model.name)
        if found is not None:
            return found if found.on_creation else None
        settings = self.settings.get(model.name)
        if settings is None or not (settings.enabled and settings.apply_on_creation):
            return None
        return self.defaults(model)

    def declared(self, model: Model) -> Mapping[str, SchemaDefault]:
        """What the database declares for ``model``'s columns (empty when it cannot say)."""
        found = self.rr.plugin_manager.hook.rr_schema_defaults(rr=self.rr, model=model)
        return {name: _typed(model, name, default) for name, default in (found or {}).items()}

    def refresh(self, model: Model | None = None) -> None:
        """Forget what was read from the database (one model's, or every model's)."""
        with self._lock:
            if model is None:
                self._cache.clear()
            else:
                self._cache.pop(model.name, None)


def _typed(model: Model, name: str, default: SchemaDefault) -> SchemaDefault:
    """``default`` as a value of the model's field type: a column a store keeps as text
    (SQLite's decimals, a uuid in CHAR(36)) reflects as a string."""
    field = model.fields.get(name)
    value = default.value
    if field is None or value is None or callable(value) or default.server_generated:
        return default
    try:
        return replace(default, value=field.coerce(value, model.name))
    except InvalidQuery:  # a default the field cannot hold: the drift check shows it as is
        return default


def state_of(rr: ReactiveRecord) -> DefaultsState:
    """The plugin's state on ``rr``; ConfigError when the plugin is not loaded there."""
    state = rr.extensions.get(FEATURE)
    if not isinstance(state, DefaultsState):
        raise ConfigError(
            f"{rr.config_prefix}.plugins",
            rr.settings.get("plugins"),
            f"a list that includes {FEATURE!r} (rr-defaults is not loaded on this instance)",
        )
    return state
