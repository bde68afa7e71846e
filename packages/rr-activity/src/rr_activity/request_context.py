"""What the application adds to entries: ``with rr_activity.context(request_id=...):``."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# Request-scoped like the acting user: a context variable, so threads and asyncio tasks
# each see their own. It holds only what the application put there, never plugin state.
_current: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "rr_activity_context", default=None
)


@contextmanager
def context(
    *, action: str | None = None, request_id: str | None = None, **metadata: Any
) -> Iterator[None]:
    """Annotate the entries written inside the block.

    ``request_id`` and every other keyword go into each entry's ``metadata``; ``action``
    replaces the logged action name (``assign`` instead of ``update``). Blocks nest; the
    inner value of a key wins. Values must be JSON (dates, decimals and UUIDs become text).
    """
    merged = dict(_current.get() or {})
    merged.update(metadata)
    if request_id is not None:
        merged["request_id"] = request_id
    if action is not None:
        merged[_ACTION_KEY] = action
    token = _current.set(merged)
    try:
        yield
    finally:
        _current.reset(token)


_ACTION_KEY = "\0action"


def current() -> tuple[str | None, dict[str, Any]]:
    """The action name and the metadata the innermost block set."""
    found = _current.get()
    if not found:
        return None, {}
    values = dict(found)
    action = values.pop(_ACTION_KEY, None)
    return action, values
