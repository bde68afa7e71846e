"""LIKE patterns rewritten for each database, so every one means what the evaluator means.

The evaluator's rules (``reactive_record.conditions.like_pattern``): ``%`` is any run,
``_`` one character, ``\\`` escapes the next character, a trailing lone ``\\`` is a
literal backslash; ILIKE folds ASCII letters only. Rewriting happens to the bound value,
never to SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only (what a binary collation's ILIKE does)."""
    return text.translate(_ASCII_LOWER)


def _tokens(pattern: str) -> Iterator[tuple[str, bool]]:
    """(character, is_literal) pairs; wildcards come with is_literal False."""
    escaped = False
    for char in pattern:
        if escaped:
            yield char, True
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "%_":
            yield char, False
        else:
            yield char, True
    if escaped:
        yield "\\", True


def standard_like(pattern: str) -> str:
    """The pattern for a ``LIKE`` whose escape is ``\\`` (PostgreSQL, MariaDB).

    PostgreSQL rejects a pattern ending in a lone escape; it means a backslash here.
    """
    out = []
    for char, literal in _tokens(pattern):
        out.append("\\" + char if literal and char in "%_\\" else char)
    return "".join(out)


def glob(pattern: str) -> str:
    """The SQLite ``GLOB`` pattern (case-sensitive, code points) for a LIKE pattern."""
    out = []
    for char, literal in _tokens(pattern):
        if not literal:
            out.append("*" if char == "%" else "?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def folded_glob(pattern: str) -> str:
    """The GLOB pattern for ILIKE, matched against ``lower(column)`` (ASCII-only lower)."""
    return glob(ascii_lower(pattern))


def folded_regex(pattern: str) -> str:
    """A PCRE for ILIKE on MariaDB/MySQL, whose ``LOWER()`` folds beyond ASCII.

    Each ASCII letter becomes ``[aA]``; the match is anchored, case-sensitive and lets
    ``.`` cross newlines, as the evaluator's ``re.DOTALL`` does.
    """
    out = ["(?s-i)\\A"]
    for char, literal in _tokens(ascii_lower(pattern)):
        if not literal:
            out.append(".*" if char == "%" else ".")
        elif "a" <= char <= "z":
            out.append(f"[{char}{char.upper()}]")
        else:
            out.append(re.escape(char))
    out.append("\\z")
    return "".join(out)
