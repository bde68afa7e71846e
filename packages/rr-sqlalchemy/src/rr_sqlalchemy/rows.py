"""Row builders: a statement's result tuples to dicts, with each column's conversion.

Reads turn every row into a dict, so this is the innermost loop of the store. A builder
is generated once per statement shape as a function returning a dict display
(``{'id': r[0], 'at': _datetime(r[1] + '+00:00') if r[1] is not None else None}``), the
technique ``dataclasses`` uses for ``__init__``: about a quarter cheaper than
``dict(zip(names, row))`` plus separate conversions. Only field names (quoted with
``repr``) and the fixed expressions of ``types.Reader`` go into the generated code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .types import READER_NAMES, Reader

Build = Callable[[Sequence[Any]], dict[str, Any]]


def row_builder(columns: Sequence[str], readers: Sequence[Reader | None], safe: bool) -> Build:
    """A function turning one result row into a dict of field name to Python value.

    With ``safe`` each conversion is the reader's ``safe`` function, which accepts any
    value; otherwise its ``fast`` expression, which assumes the driver's usual type.
    """
    namespace = dict(READER_NAMES)
    entries = []
    for index, (name, reader) in enumerate(zip(columns, readers, strict=True)):
        value = f"r[{index}]"
        if reader is None:
            entries.append(f"{name!r}: {value}")
            continue
        if safe:
            namespace[f"_safe{index}"] = reader.safe
            converted = f"_safe{index}({value})"
        else:
            converted = reader.fast.format(v=value, t=f"_t{index}")
        entries.append(f"{name!r}: ({converted} if {value} is not None else None)")
    source = f"def build(r):\n    return {{{', '.join(entries)}}}\n"
    exec(compile(source, "<rr_sqlalchemy row builder>", "exec"), namespace)
    build: Build = namespace["build"]
    return build
