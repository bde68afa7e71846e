"""The exception hierarchy: every error names what went wrong and carries its data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pluggy


class ReactiveRecordError(Exception):
    """Base class of every error ReactiveRecord raises."""


class ConfigError(ReactiveRecordError):
    """Configuration is invalid: names the TOML path, the bad value and what is allowed."""

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        self.path = path
        self.value = value
        self.allowed = allowed
        super().__init__(f"{path}: {value!r} is not valid: {allowed}")


class PluginNotInstalled(ReactiveRecordError):
    """A feature, method or plugin was asked for whose distribution is not installed."""

    def __init__(self, what: str, distribution: str) -> None:
        self.what = what
        self.distribution = distribution
        super().__init__(
            f"{what} needs {distribution}, which is not installed: `pip install {distribution}`"
        )


class InvalidPlugin(ReactiveRecordError, pluggy.PluginValidationError):
    """A plugin does not fit the hook specs: a misspelt hook or an unknown hook argument."""


class InvalidQuery(ReactiveRecordError, ValueError):
    """A condition or query is malformed: an unknown operator, a wrong value type."""

    def __init__(self, message: str, *, model: str | None = None, field: str | None = None):
        self.model = model
        self.field = field
        super().__init__(message)


class UnknownField(InvalidQuery):
    """A condition, order or payload names a field the model does not have."""

    def __init__(self, model: str, field: str, known: Sequence[str] = ()) -> None:
        hint = f"; known fields: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"{model} has no field {field!r}{hint}", model=model, field=field)


class RecordNotFound(ReactiveRecordError, LookupError):
    """No record of the model has that key (or the acting user may not read it)."""

    def __init__(self, model: str, key: Any = None, condition: Any = None) -> None:
        self.model = model
        self.key = key
        self.condition = condition
        where = f" with key {key!r}" if condition is None else f" matching {condition!r}"
        super().__init__(f"no {model}{where}")


class ValidationError(ReactiveRecordError, ValueError):
    """A write failed validation; ``messages`` maps field name to its messages."""

    def __init__(self, model: str, messages: Mapping[str, Sequence[str]], key: Any = None):
        self.model = model
        self.key = key
        self.messages = {field: list(msgs) for field, msgs in messages.items()}
        detail = "; ".join(f"{f}: {', '.join(m)}" for f, m in sorted(self.messages.items()))
        target = model if key is None else f"{model} {key!r}"
        super().__init__(f"invalid {target}: {detail}")


class PermissionDenied(ReactiveRecordError):
    """The acting user may not perform the action; the message reads like a sentence."""

    def __init__(
        self,
        action: str,
        model: str,
        key: Any = None,
        user_id: Any = None,
        rule: str | None = None,
        field: str | None = None,
    ) -> None:
        self.action = action
        self.model = model
        self.key = key
        self.user_id = user_id
        self.rule = rule
        self.field = field
        target = model if key is None else f"{model} {key}"
        reason = f": {rule}" if rule else ""
        super().__init__(f"not allowed to {action} {target}{reason}")


def hidden_field(model: str, field: str) -> PermissionDenied:
    """The refusal to read ``field`` of ``model``, which a plugin hides from the reader."""
    return PermissionDenied("read", model, field=field, rule=f"{field} is hidden")


class StaleRecord(ReactiveRecordError):
    """Optimistic locking: the record changed since the ``lock_version`` the writer saw."""

    def __init__(self, model: str, key: Any, expected: Any, actual: Any) -> None:
        self.model = model
        self.key = key
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{model} {key!r} is stale: written with lock_version {expected!r}, "
            f"but it is now {actual!r}; reload it and apply the change again"
        )


class QueryTooLarge(ReactiveRecordError):
    """A live query's result would exceed the model's ``max_live_rows``."""

    def __init__(self, model: str, rows: int, limit: int) -> None:
        self.model = model
        self.rows = rows
        self.limit = limit
        super().__init__(
            f"live query on {model} would hold {rows} rows, over max_live_rows={limit}; "
            "add a limit() or narrow the conditions"
        )


class ActivityRejected(ReactiveRecordError):
    """A client-generated activity entry was refused; ``reason`` says why."""

    def __init__(self, reason: str, entry: Any = None) -> None:
        self.reason = reason
        self.entry = entry
        super().__init__(f"activity entry rejected: {reason}")


class StoreError(ReactiveRecordError):
    """The database refused or failed; the driver's exception is ``__cause__`` / ``original``."""

    def __init__(self, message: str, original: BaseException | None = None) -> None:
        self.original = original
        super().__init__(message)
