"""What one ReactiveRecord instance's activity plugin knows, kept on ``rr.extensions``."""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reactive_record import SYSTEM, ConfigError, Model

from .logmodel import LOG_MODEL
from .settings import NAME, ModelActivity

if TYPE_CHECKING:
    from reactive_record import ModelHandle, ReactiveRecord, Transaction

#: How SYSTEM (and writes without a user, where ``system_writes = true``) are logged.
SYSTEM_ID = "system"

_RANDOM_BITS = 62
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1
_FRACTION_STEPS = 4096
#: Version 7 (bits 76-79) and the RFC 9562 variant (bits 62-63).
_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)


class TimeOrderedIds:
    """UUIDv7 (RFC 9562) ids, strictly increasing within one generator.

    48 bits of Unix milliseconds, a 12-bit fraction of the millisecond and 62 random
    bits; when the clock has not moved, the previous id plus one. Entries written in
    one instant (or under a frozen test clock) so still sort in the order written.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> uuid.UUID:
        """A new id, greater than every id this generator made before."""
        millis, rest = divmod(time.time_ns(), 1_000_000)
        fraction = rest * _FRACTION_STEPS // 1_000_000
        # Uniqueness, not secrecy: the random module (reseeded in forked children) is
        # ten times cheaper than os.urandom, and the counter below rules out repeats.
        counter = (millis << 74) | (fraction << _RANDOM_BITS) | random.getrandbits(_RANDOM_BITS)
        with self._lock:
            if counter <= self._last:
                counter = self._last + 1
            self._last = counter
        stamp = counter >> _RANDOM_BITS  # milliseconds and the fraction, 60 bits
        value = (
            ((stamp >> 12) << 80)
            | ((stamp & 0xFFF) << 64)
            | (counter & _RANDOM_MASK)
            | _VERSION_AND_VARIANT
        )
        return uuid.UUID(int=value)


@dataclass
class ActivityState:
    """The parsed configuration and the per-instance helpers of rr-activity."""

    rr: ReactiveRecord
    log_model: Model
    chain_model: Model | None
    models: dict[str, ModelActivity]
    user_model: str | None
    key: bytes | None
    client_text: bool
    host: str = field(default_factory=socket.gethostname)
    new_id: TimeOrderedIds = field(default_factory=TimeOrderedIds)
    _transactions: weakref.WeakKeyDictionary[Any, uuid.UUID] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def activity(self, model: Model | str) -> ModelActivity | None:
        """How ``model`` is logged, or None when it does not enable the feature."""
        return self.models.get(model if isinstance(model, str) else model.name)

    def transaction_id(self, tx: Transaction, entry_id: uuid.UUID) -> uuid.UUID:
        """The id shared by every entry written in ``tx``: its first entry's id."""
        found = self._transactions.get(tx)
        if found is None:
            found = self._transactions[tx] = entry_id
        return found

    def client_id(self, activity: ModelActivity, row: Mapping[str, Any]) -> Any:
        """The tenant of ``row`` as the log stores it."""
        tenant = activity.model.tenant_field
        value = row.get(tenant) if tenant is not None else None
        return str(value) if self.client_text and value is not None else value

    @property
    def logs(self) -> ModelHandle[Any]:
        """``rr.models.ActivityLog``."""
        return self.rr.models[LOG_MODEL]


def state_of(rr: ReactiveRecord) -> ActivityState:
    """rr-activity's state on ``rr`` (set at start-up by ``rr_configure``)."""
    state = rr.extensions.get(NAME)
    if not isinstance(state, ActivityState):
        raise ConfigError("plugins", NAME, "rr-activity loaded on this instance")
    return state


def identity(user: Any) -> str | None:
    """The text a user is logged as: its ``id`` as text, ``system`` for SYSTEM."""
    if user is None:
        return None
    if user is SYSTEM:
        return SYSTEM_ID
    value = user.get("id") if isinstance(user, Mapping) else getattr(user, "id", None)
    return None if value is None else str(value)


def model_name(model: Any) -> str:
    """A model's name from its name, its :class:`Model` or its handle (``rr.models.Job``)."""
    if isinstance(model, str):
        return model
    if isinstance(model, Model):
        return model.name
    inner = getattr(model, "model", None)
    if isinstance(inner, Model):
        return inner.name
    raise TypeError(f"a model name, Model or rr.models handle, not {model!r}")
