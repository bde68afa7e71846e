"""The SYSTEM actor may write only where ``system_writes = true``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..actors import SYSTEM
from ..errors import PermissionDenied
from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..engine import Change


@hookimpl
def rr_authorize_change(change: Change) -> None:
    """Refuse writes as SYSTEM unless the configuration allows them."""
    if change.user is SYSTEM and not change.rr.settings.get("system_writes", False):
        raise PermissionDenied(
            change.operation,
            change.model.name,
            change.key,
            SYSTEM.id,
            "writes as SYSTEM need `system_writes = true` in [tool.reactive-record]",
        )
