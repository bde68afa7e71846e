"""Where SQL dialects disagree, every database answers as the in-memory evaluator does.

Each case is checked on every database (memory included, as the reference) against an
expected answer written out, so a regression names the rule it breaks. The hypothesis
test in ``tests/test_differential.py`` explores the same rules at random.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from reactive_record import Association, ReactiveRecord

Make = Callable[..., ReactiveRecord]

NAMES = ["a", "A", "ab", "a ", "É", "é", "a%b", "a_b", "a\\b", "*", "?", "[x]", "", None]
MODELS: dict[str, Any] = {
    "Word": {"fields": {"name": "string", "n": "integer", "amount": "decimal"}},
}


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """Every database, with one row per name (id = position + 1)."""
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    rr = make_rr(db_url, MODELS, plugins)
    amounts = ["10.01", "2", "-3", "2.00", None, "0.5"]
    with rr.transaction():
        for i, name in enumerate(NAMES):
            amount = amounts[i % len(amounts)]
            rr.models.Word.create({"name": name, "n": i % 3 if i % 4 else None, "amount": amount})
    return rr


def names(rr: ReactiveRecord, condition: dict[str, Any], *order: str) -> list[Any]:
    """The names matching ``condition`` (in ``order``, else by id)."""
    return rr.models.Word.where(condition).order(*order).pluck("name")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a", ["a"]),
        ("a%", ["a", "ab", "a ", "a%b", "a_b", "a\\b"]),
        ("_", ["a", "A", "É", "é", "*", "?"]),
        ("a\\%b", ["a%b"]),
        ("a\\_b", ["a_b"]),
        ("a\\\\b", ["a\\b"]),
        ("a\\b", ["ab"]),
        ("%\\", []),
        ("*", ["*"]),
        ("?", ["?"]),
        ("[x]", ["[x]"]),
        ("", [""]),
    ],
)
def test_like_is_case_sensitive_with_backslash_escapes(
    rr: ReactiveRecord, pattern: str, expected: list[str]
) -> None:
    assert names(rr, {"name": {"like": pattern}}) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a", ["a", "A"]),
        ("A_", ["ab", "a "]),
        ("é", ["é"]),
        ("É", ["É"]),
        ("%B", ["ab", "a%b", "a_b", "a\\b"]),
    ],
)
def test_ilike_folds_ascii_letters_only(
    rr: ReactiveRecord, pattern: str, expected: list[str]
) -> None:
    assert names(rr, {"name": {"ilike": pattern}}) == expected


def test_trailing_spaces_count(rr: ReactiveRecord) -> None:
    assert names(rr, {"name": "a"}) == ["a"]
    assert names(rr, {"name": "a "}) == ["a "]
    assert names(rr, {"name": {"gt": "a", "lt": "ab"}}) == ["a ", "a%b", "a_b", "a\\b"]


def test_strings_order_by_code_point_with_nulls_first(rr: ReactiveRecord) -> None:
    expected = [None, "", "*", "?", "A", "[x]", "a", "a ", "a%b", "a\\b", "a_b", "ab", "É", "é"]
    assert names(rr, {}, "name") == expected
    assert names(rr, {}, "-name") == [*reversed(expected[1:]), None]


def test_null_logic(rr: ReactiveRecord) -> None:
    total = len(NAMES)
    null_n = [name for i, name in enumerate(NAMES) if not i % 4]
    assert names(rr, {"n": None}) == null_n
    assert rr.models.Word.where(n={"ne": 1}).count() + rr.models.Word.where(n=1).count() == (
        total - len(null_n)
    )
    assert (
        rr.models.Word.where({"not": {"n": 1}}).count() == rr.models.Word.where(n={"ne": 1}).count()
    )
    assert (
        rr.models.Word.where(n=[1, None]).count()
        == rr.models.Word.where({"or": [{"n": 1}, {"n": None}]}).count()
    )
    assert (
        rr.models.Word.where(n={"not_in": [1, None]}).count()
        == rr.models.Word.where(n={"ne": 1}).count()
    )


def test_empty_lists(rr: ReactiveRecord) -> None:
    assert rr.models.Word.where(n=[]).count() == 0
    assert rr.models.Word.where(n={"not_in": []}).count() == len(NAMES)
    assert rr.models.Word.where({"not": {"n": []}}).count() == len(NAMES)


def test_decimals_compare_by_value(rr: ReactiveRecord) -> None:
    words = rr.models.Word
    assert words.where(amount=Decimal("2")).count() == 5
    assert words.where(amount={"gt": Decimal("1.9")}).count() == 8
    ordered = words.where(amount={"is_null": False}).order("amount").pluck("amount")
    assert ordered == sorted(ordered) and ordered[0] == Decimal("-3")
    assert ordered[-1] == Decimal("10.01") and isinstance(ordered[-1], Decimal)
    assert words.where(amount={"between": ["0.5", "2"]}).count() == 7


def test_any_over_a_polymorphic_association(make_rr: Make, db_url: str) -> None:
    models = {
        "Job": {"fields": {"title": "string"}},
        "Note": {"fields": {"entity_type": "string", "entity_id": "string", "text": "string"}},
    }
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    rr = make_rr(db_url, models, plugins)
    # As rr-activity adds its logs: the key as text beside the model's name.
    rr.model_definition("Job").associations["notes"] = Association(
        "notes", "has_many", "Note", "entity_id", polymorphic_type=("entity_type", "Job")
    )
    for title in ("a", "b", "c"):
        rr.models.Job.create({"title": title})
    for entity_type, entity_id, text in [("Job", "1", "x"), ("Task", "2", "x"), ("Job", "3", "y")]:
        rr.models.Note.create({"entity_type": entity_type, "entity_id": entity_id, "text": text})
    jobs = rr.models.Job
    assert jobs.where(notes={"any": {"text": "x"}}).pluck("title") == ["a"]
    assert jobs.where(notes={"any": {}}).pluck("title") == ["a", "c"]
    assert jobs.where({"not": {"notes": {"any": {}}}}).pluck("title") == ["b"]
