"""Reading SQL text: literals with casts and escapes, top-level splitting, PostgreSQL arrays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rr_sqlalchemy.sql_text import (
    Literal,
    identifier,
    parse_literal,
    parse_pg_array,
    split_top,
    strip_casts,
    strip_parens,
)


@pytest.mark.parametrize(
    ("text", "escapes", "expected"),
    [
        ("'pending'::character varying", False, Literal("string", "pending")),
        ("'it''s'::text", False, Literal("string", "it's")),
        ("'it\\'s'", True, Literal("string", "it's")),
        ("'a\\\\b'", True, Literal("string", "a\\b")),
        ("'a\\\\b'", False, Literal("string", "a\\\\b")),
        ("E'a\\nb'::text", False, Literal("string", "a\nb")),
        ("_utf8mb4'abc'", True, Literal("string", "abc")),
        ("'-1'::integer", False, Literal("string", "-1")),
        ("-1", True, Literal("number", "-1")),
        ("(-4)", False, Literal("number", "-4")),
        ("+2.50", False, Literal("number", "2.50")),
        ("1e3", False, Literal("number", "1e3")),
        ("TRUE", False, Literal("boolean", True)),
        ("false", False, Literal("boolean", False)),
        ("NULL::character varying", False, Literal("null")),
        ("NULL", True, Literal("null")),
        ("'{}'::jsonb", False, Literal("string", "{}")),
        ("'{a,b}'::text[]", False, Literal("string", "{a,b}")),
        ("CAST('x' AS varchar(10))", False, Literal("string", "x")),
        ("'2'::numeric(10,2)", False, Literal("string", "2")),
        (
            "ARRAY['a'::text, 'b'::text]",
            False,
            Literal("array", [Literal("string", "a"), Literal("string", "b")]),
        ),
        ("ARRAY[]::integer[]", False, Literal("array", [])),
    ],
)
def test_literals_are_read_with_casts_and_escapes(
    text: str, escapes: bool, expected: Literal
) -> None:
    assert parse_literal(text, escapes) == expected


@pytest.mark.parametrize(
    "text",
    [
        "now()",
        "CURRENT_TIMESTAMP",
        "(CURRENT_DATE + '30 days'::interval)",
        "'2'::integer + 1",
        "nextval('jobs_id_seq'::regclass)",
        "'a' || 'b'",
        "'unterminated",
        "lower(hex(randomblob(16)))",
    ],
)
def test_expressions_are_not_literals(text: str) -> None:
    assert parse_literal(text) is None


def test_top_level_splitting_ignores_quotes_and_brackets() -> None:
    assert split_top("a, 'b,c', f(d, e), [g, h]", ",") == ["a", "'b,c'", "f(d, e)", "[g, h]"]
    assert split_top("x >= 1 AND y IN ('a AND b')", r"\bAND\b") == ["x >= 1", "y IN ('a AND b')"]
    assert strip_parens("((a + b))") == "a + b"
    assert strip_parens("(a) + (b)") == "(a) + (b)"
    assert strip_casts("((status)::text)") == "status"
    assert identifier("(status)::text") == "status"
    assert identifier("`status`") == "status"
    assert identifier('"status"') == "status"
    assert identifier("lower(status)") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{}", []),
        ("{a,b}", ["a", "b"]),
        ('{"b c","d\\"e",NULL}', ["b c", 'd"e', None]),
        ("{{1,2},{3,4}}", [["1", "2"], ["3", "4"]]),
        ("{a,b", None),
        ("a,b", None),
    ],
)
def test_postgresql_array_text(text: str, expected: list[object] | None) -> None:
    assert parse_pg_array(text) == expected


@given(st.text())
def test_any_standard_string_literal_reads_back(value: str) -> None:
    quoted = "'" + value.replace("'", "''") + "'"
    assert parse_literal(quoted) == Literal("string", value)
    assert parse_literal(f"{quoted}::character varying") == Literal("string", value)


@given(st.text())
def test_any_backslash_escaped_literal_reads_back(value: str) -> None:
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert parse_literal(quoted, escapes=True) == Literal("string", value)


@given(st.lists(st.text(st.characters(exclude_characters="\x00"), max_size=8), max_size=5))
def test_any_postgresql_text_array_reads_back(values: list[str]) -> None:
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    assert parse_pg_array("{" + ",".join(quoted) + "}") == values
