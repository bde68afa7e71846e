"""A plugin module with a misspelt hook: loading it must fail at start-up (``check_pending``).

It has no entry point of its own in this distribution (autoloading it would break every
instance); the tests give it one for the length of a test.
"""

from __future__ import annotations

from typing import Any

from reactive_record import hookimpl


@hookimpl
def rr_valdate_change(change: Any) -> None:
    """Meant to be ``rr_validate_change``; pluggy must refuse it."""
