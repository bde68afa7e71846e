"""Plain-text tables for the command line (``plugins``, ``demo``): presentation only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

#: Cells longer than this are cut with an ellipsis, so one value cannot widen a table.
MAX_CELL = 48


def cell(value: Any, max_width: int | None = MAX_CELL) -> str:
    """A readable text for one value: NULL for None, ISO dates, related records counted."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping) and hasattr(value, "model_name"):
        key = value.get("name", value.get("title", value.get("id")))
        return f"{value.model_name} {key}"
    if isinstance(value, (tuple, list)) and all(hasattr(v, "model_name") for v in value):
        return f"{len(value)} record(s)"
    text = str(value)
    if max_width is None or len(text) <= max_width:
        return text
    return text[: max_width - 1] + "…"


def render_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    max_width: int | None = MAX_CELL,
) -> str:
    """Rows of mappings as an aligned table with a header.

    ``columns`` picks and orders the columns (default: every key, in order of appearance);
    cells longer than ``max_width`` are cut (None: never).
    """
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(name for row in rows for name in row))
    if not columns:
        return "(no rows)"
    body = [[cell(_value(row, name), max_width) for name in columns] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in body)) for i, name in enumerate(columns)]
    lines = [_line(columns, widths), "  ".join("-" * width for width in widths)]
    lines.extend(_line(line, widths) for line in body)
    if not body:
        lines.append("(no rows)")
    return "\n".join(lines)


def _line(texts: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(text.ljust(width) for text, width in zip(texts, widths, strict=True)).rstrip()


def _value(row: Mapping[str, Any], name: str) -> Any:
    # Included associations and computed values are attributes of a Record, not items.
    if name in row:
        return row[name]
    return getattr(row, name, None)
