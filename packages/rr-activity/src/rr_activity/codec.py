"""Field values as JSON, losslessly, by their data type; and the canonical JSON text.

A field change stores ``old_value`` and ``new_value`` in a JSON column next to the
field's ``data_type`` (the model's field type), so each value decodes back to exactly
the Python value it was: dates and datetimes as ISO 8601 text, decimals as their exact
text (``Decimal("1.10")`` stays ``1.10``), UUIDs as text, non-finite floats by name.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from reactive_record.model import FIELD_TYPES, to_utc

#: What a redacted field logs, for its old and its new value.
REDACTED = "[REDACTED]"

#: The data types a field change may name: the core's field types (DESIGN.md §8).
DATA_TYPES = FIELD_TYPES

_FLOAT_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _encode_float(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _encode_datetime(value: Any) -> str:
    return to_utc(value).isoformat()


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "float": _encode_float,
    "decimal": str,
    "date": dt.date.isoformat,
    "datetime": _encode_datetime,
    "uuid": str,
}


def encode(value: Any, data_type: str) -> Any:
    """``value`` of a field of ``data_type`` as a JSON value (None and REDACTED as they are)."""
    if value is None or value is REDACTED:
        return value
    encoder = _ENCODERS.get(data_type)
    return value if encoder is None else encoder(value)


def _decode_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("Not a valid string.")
    return value


def _decode_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Not a valid integer.")
    return value


def _decode_float(value: Any) -> float:
    if isinstance(value, str) and value in _FLOAT_NAMES:
        return _FLOAT_NAMES[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("Not a valid number.")
    return float(value)


def _decode_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("Not a valid decimal: decimals are logged as text.")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError("Not a valid decimal.") from None
    if not result.is_finite():
        raise ValueError("Not a valid decimal.")
    return result


def _decode_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Not a valid boolean.")
    return value


def _decode_date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("Not a valid date.") from None


def _decode_datetime(value: Any) -> dt.datetime:
    try:
        return to_utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (AttributeError, TypeError, ValueError):
        raise ValueError("Not a valid datetime.") from None


def _decode_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (AttributeError, TypeError, ValueError):
        raise ValueError("Not a valid UUID.") from None


def _decode_json(value: Any) -> Any:
    return value


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "string": _decode_str,
    "text": _decode_str,
    "integer": _decode_int,
    "float": _decode_float,
    "decimal": _decode_decimal,
    "boolean": _decode_bool,
    "date": _decode_date,
    "datetime": _decode_datetime,
    "json": _decode_json,
    "uuid": _decode_uuid,
}


def decode(value: Any, data_type: str) -> Any:
    """The Python value of a logged ``value``; raises ValueError with marshmallow's wording."""
    if value is None or value == REDACTED:
        return value
    try:
        decoder = _DECODERS[data_type]
    except KeyError:
        raise ValueError(f"Unknown data type {data_type!r}.") from None
    return decoder(value)


def decode_changes(changes: Any) -> Any:
    """Stored field changes with their values decoded; a value that does not decode stays raw.

    Reads never fail on an edited log: ``activity verify`` is what reports tampering.
    """
    if not isinstance(changes, list):
        return changes
    out = []
    for change in changes:
        if not isinstance(change, Mapping):
            out.append(change)
            continue
        decoded = dict(change)
        data_type = change.get("data_type")
        for key in ("old_value", "new_value"):
            try:
                decoded[key] = decode(change.get(key), str(data_type))
            except ValueError:
                decoded[key] = change.get(key)
        out.append(decoded)
    return out


def json_safe(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON (for metadata): dates, decimals and UUIDs become text.

    Raises TypeError naming ``where`` for anything else, so a bad metadata value fails the
    write with a clear message instead of deep inside a database driver.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dt.datetime):
        return _encode_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"activity metadata {where} is {type(value).__name__}, not JSON: {value!r}")


def canonical_json(value: Any) -> str:
    """One text for one JSON value: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
