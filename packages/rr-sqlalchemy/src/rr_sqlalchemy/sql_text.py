"""Reading the SQL text databases report: default expressions and CHECK constraints.

The databases print what they store in their own dialect: PostgreSQL adds casts
(``'pending'::character varying``, ``'-1'::integer``) and rewrites ``IN`` as
``= ANY (ARRAY[...])``; MariaDB escapes quotes with backslashes; SQLite keeps the text as
written. This module splits such text at the top level (outside quotes and brackets)
and recognises literals; it never evaluates anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_CAST = re.compile(
    r"^CAST\s*\((.*)\s+AS\s+[^()]+(?:\([\d\s,]*\))?\s*\)$", re.IGNORECASE | re.DOTALL
)
_TYPE_NAME = re.compile(r'[A-Za-z_"][\w\s."]*(?:\(\s*\d+\s*(?:,\s*\d+\s*)?\))?(?:\s*\[\s*\])*')
_CHARSET_INTRODUCER = re.compile(r"^_[A-Za-z0-9]+(?=')")
_BACKSLASH_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


@dataclass(frozen=True)
class Literal:
    """A literal found in SQL text.

    ``kind`` is ``string``, ``number`` (``value`` is the digits as written), ``boolean``,
    ``null`` or ``array`` (``value`` is a list of Literals, or of nested lists of text
    for PostgreSQL's ``'{...}'`` form, parsed later against the element type).
    """

    kind: str
    value: Any = None


def _scan(text: str, escapes: bool) -> Iterator[tuple[int, str, int]]:
    """Yield (position, character, depth) for characters outside quoted strings."""
    depth = 0
    i = 0
    quote = ""
    while i < len(text):
        char = text[i]
        if quote:
            if escapes and char == "\\":
                i += 2
                continue
            if char == quote:
                if text[i + 1 : i + 2] == quote:
                    i += 2
                    continue
                quote = ""
            i += 1
            continue
        if char in "'\"`":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        yield i, char, depth
        i += 1


def strip_parens(text: str, escapes: bool = False) -> str:
    """``((x))`` -> ``x``: remove parentheses that enclose the whole text."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        closes_early = any(
            depth == 0 and pos < len(text) - 1
            for pos, char, depth in _scan(text, escapes)
            if char == ")"
        )
        if closes_early:
            break
        text = text[1:-1].strip()
    return text


def split_top(text: str, separator: str, escapes: bool = False) -> list[str]:
    """Split ``text`` at ``separator`` (a regex) where it is outside quotes and brackets."""
    pattern = re.compile(separator, re.IGNORECASE)
    top = {pos for pos, _, depth in _scan(text, escapes) if depth == 0}
    parts: list[str] = []
    start = 0
    for match in pattern.finditer(text):
        if match.start() in top and match.start() >= start and (match.end() - 1) in top:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [part.strip() for part in parts]


def strip_casts(text: str, escapes: bool = False) -> str:
    """``'-1'::integer`` -> ``'-1'`` and ``CAST(x AS t)`` -> ``x`` (outer layers only)."""
    previous = None
    while previous != text:
        previous = text
        text = strip_parens(text, escapes)
        head, *casts = split_top(text, "::", escapes)
        if casts and all(_TYPE_NAME.fullmatch(cast) for cast in casts):
            text = head
        cast = _CAST.match(text)
        if cast:
            text = cast.group(1)
    return text


def unquote(text: str, escapes: bool) -> str | None:
    """The value of a quoted string literal, or None when ``text`` is not exactly one."""
    if text[:1] in "eE" and text[1:2] == "'":
        text, escapes = text[1:], True
    elif text[:1] in "nN" and text[1:2] == "'":
        text = text[1:]
    text = _CHARSET_INTRODUCER.sub("", text)
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        return None
    out: list[str] = []
    i = 1
    while i < len(text) - 1:
        char = text[i]
        if escapes and char == "\\":
            nxt = text[i + 1]
            out.append(_BACKSLASH_ESCAPES.get(nxt, nxt if nxt not in "%_" else "\\" + nxt))
            i += 2
            continue
        if char == "'":
            if text[i + 1] != "'":
                return None
            i += 1
        out.append(char)
        i += 1
    return "".join(out)


def parse_literal(text: str, escapes: bool = False) -> Literal | None:
    """The literal ``text`` is (casts and parentheses removed), or None for an expression.

    ``escapes`` turns on MySQL/MariaDB backslash escapes inside quoted strings.
    """
    text = strip_casts(text, escapes)
    if _NUMBER.fullmatch(text):
        return Literal("number", text.lstrip("+"))
    upper = text.upper()
    if upper == "NULL":
        return Literal("null")
    if upper in ("TRUE", "FALSE"):
        return Literal("boolean", upper == "TRUE")
    if upper.startswith("ARRAY[") and text.endswith("]"):
        inner = text[6:-1].strip()
        items = (
            [parse_literal(part, escapes) for part in split_top(inner, ",", escapes)]
            if inner
            else []
        )
        if any(item is None for item in items):
            return None
        return Literal("array", items)
    value = unquote(text, escapes)
    if value is None:
        return None
    return Literal("string", value)


def identifier(text: str) -> str | None:
    """The column named by ``text`` (``(status)::text``, `` `status` ``, ``"status"``), or None."""
    text = strip_casts(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in '"`':
        text = text[1:-1]
    return text if _IDENTIFIER.fullmatch(text) else None


def parse_pg_array(text: str) -> list[Any] | None:
    """PostgreSQL's array text ``{a,"b c",NULL,{1,2}}`` as nested lists of str / None."""
    position = 0

    def parse() -> list[Any]:
        nonlocal position
        if text[position] != "{":
            raise ValueError(text)
        position += 1
        items: list[Any] = []
        if text[position] == "}":
            position += 1
            return items
        while True:
            if text[position] == "{":
                items.append(parse())
            elif text[position] == '"':
                position += 1
                chars: list[str] = []
                while text[position] != '"':
                    if text[position] == "\\":
                        position += 1
                    chars.append(text[position])
                    position += 1
                position += 1
                items.append("".join(chars))
            else:
                end = position
                while text[end] not in ",}":
                    end += 1
                raw = text[position:end].strip()
                items.append(None if raw.upper() == "NULL" else raw)
                position = end
            if text[position] == "}":
                position += 1
                return items
            position += 1

    try:
        result = parse()
    except (IndexError, ValueError):
        return None
    return result if position == len(text) else None
