"""The plugin's state on one instance (``rr.extensions["permissions"]``) and lookups into it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reactive_record import SYSTEM, ConfigError, Query
from reactive_record.model import Model

from .authority import ModelPermissions
from .config import FEATURE, Settings

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord


#: Why a write as SYSTEM is refused.
SYSTEM_WRITES = "writes as SYSTEM need `system_writes = true` in [tool.reactive-record]"


@dataclass(frozen=True)
class Permissions:
    """Every permissions-enabled model of one instance, and the shared settings."""

    settings: Settings
    models: Mapping[str, ModelPermissions]
    system_writes: bool

    def of(self, model: Model) -> ModelPermissions | None:
        """The permissions of ``model``, or None when it does not enable the feature."""
        return self.models.get(model.name)

    def system_may(self, action: str) -> bool:
        """SYSTEM reads everything; it writes only where ``system_writes = true``."""
        return action == "read" or self.system_writes


def state_of(rr: ReactiveRecord) -> Permissions:
    """The plugin's state on ``rr``; ConfigError when the plugin is not loaded there."""
    state = rr.extensions.get(FEATURE)
    if not isinstance(state, Permissions):
        raise ConfigError(
            "plugins", rr.settings.get("plugins"), "a list that includes 'permissions'"
        )
    return state


def permissions_for(rr: ReactiveRecord, model: Model) -> ModelPermissions | None:
    """The permissions of ``model`` on ``rr`` (None when the model or instance has none)."""
    state = rr.extensions.get(FEATURE)
    return state.of(model) if isinstance(state, Permissions) else None


def resolve_model(rr: ReactiveRecord, model: str | Model | Query[Any]) -> Model:
    """A model given by name, definition or handle (``"Job"``, ``rr.models.Job``)."""
    if isinstance(model, Query):
        return model.model
    if isinstance(model, Model):
        return model
    return rr.model_definition(model)


def is_system(user: Any) -> bool:
    """Whether ``user`` is the core's SYSTEM actor."""
    return user is SYSTEM
