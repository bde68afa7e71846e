"""Durations as people write them in config: ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1w"``."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")

NONE = "none"
FOREVER = "forever"


#: The longest duration accepted: now plus or minus it is a date every clock can hold.
LONGEST = dt.timedelta(days=1000 * 365)


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"`` or ``"1w"`` (at most 1000 years);
    raise ValueError otherwise."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration like '30s', '5m', '2h', '1d' or '1w'")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{text!r} is longer than the 1000 years a duration may be")
    return dt.timedelta(seconds=seconds)


def parse_ttl(text: str) -> dt.timedelta | None:
    """A TTL: ``"none"`` is zero, ``"forever"`` is None (never evicted), else a duration."""
    if text == NONE:
        return dt.timedelta(0)
    if text == FOREVER:
        return None
    return parse_duration(text)
