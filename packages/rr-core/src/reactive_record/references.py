"""``"pkg.mod:func"`` references in config, imported with the project root on ``sys.path``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError


def import_reference(reference: str, path: str, root: Path | None = None) -> Any:
    """Import ``"pkg.mod:attr"``; a mistake is a ConfigError at ``path`` saying what failed."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(path, reference, "a reference like 'package.module:function'")
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(path, reference, f"an importable module ({exc})") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(
                path, reference, f"{module_name} has no attribute {attribute!r}"
            ) from None
    return target
