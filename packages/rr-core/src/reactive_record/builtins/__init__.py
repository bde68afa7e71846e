"""The core's own behaviour, registered as plugins like any other (no special path)."""

from __future__ import annotations

from types import ModuleType

from . import memory, system, validation

#: (name, module) of each built-in plugin; registered as ``core.<name>``.
BUILTINS: tuple[tuple[str, ModuleType], ...] = (
    ("memory", memory),
    ("validation", validation),
    ("system", system),
)
