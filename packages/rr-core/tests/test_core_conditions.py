"""The condition language: parse errors, SQL's NULL logic, LIKE, relative time, users, ``any``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from reactive_record import InvalidQuery, ReactiveRecord, UnknownField
from reactive_record import conditions as cond

# -- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "error", "says"),
    [
        ({"titel": "x"}, UnknownField, "Job has no field 'titel'"),
        ({"or": [{"nope": 1}]}, UnknownField, "'nope'"),
        ({"tasks": {"any": {"stauts": "open"}}}, UnknownField, "Task has no field 'stauts'"),
        ({"priority": {"greater": 2}}, InvalidQuery, "unknown operator 'greater'"),
        ({"priority": {}}, InvalidQuery, "empty operator mapping"),
        ({"priority": "high"}, InvalidQuery, "'high' is not a valid integer"),
        ({"priority": {"in": 3}}, InvalidQuery, "in takes a list"),
        ({"priority": {"between": [1]}}, InvalidQuery, "between takes [low, high]"),
        ({"priority": {"is_null": "yes"}}, InvalidQuery, "is_null takes true or false"),
        ({"priority": {"like": "1%"}}, InvalidQuery, "like needs a string field"),
        ({"title": {"gt": {"ago": "1d"}}}, InvalidQuery, "'ago' needs a date or datetime"),
        ({"created_at": {"gt": {"ago": "yesterday"}}}, InvalidQuery, "is not a duration"),
        ({"client_id": {"param": "a", "user": "b"}}, InvalidQuery, "neither a value nor"),
        ({"tasks": {"status": "open"}}, InvalidQuery, "is an association"),
        ({"or": {"status": "x"}}, InvalidQuery, "'or' takes a list"),
        ({1: "x"}, InvalidQuery, "condition keys must be strings"),
        ("status = 'x'", InvalidQuery, "must be a mapping"),
        ({"created_at": "not a date"}, InvalidQuery, "is not a valid datetime"),
        ({"ref": "not-a-uuid"}, InvalidQuery, "is not a valid uuid"),
        ({"amount": "NaN"}, InvalidQuery, "is not a valid decimal"),
        ({"payload": {"gt": 1}}, InvalidQuery, "Job.payload is json: JSON values have no order"),
        ({"payload": {"between": [1, 2]}}, InvalidQuery, "JSON values have no order"),
    ],
)
def test_bad_conditions_raise_named_errors(
    rr: ReactiveRecord, condition: Any, error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as raised:
        rr.models.Job.where(condition)
    assert says in str(raised.value)


def test_unknown_field_carries_model_field_and_known_fields(rr: ReactiveRecord) -> None:
    with pytest.raises(UnknownField) as raised:
        rr.models.Job.where(titel="x")
    assert (raised.value.model, raised.value.field) == ("Job", "titel")
    assert "known fields: amount, client_id" in str(raised.value)


def test_json_fields_compare_for_equality_and_null(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    jobs.create({"title": "aa", "payload": {"tags": ["x"]}})
    jobs.create({"title": "bb", "payload": [1, 2]})
    jobs.create({"title": "cc"})
    assert jobs.where(payload=None).pluck("title") == ["cc"]
    assert jobs.where(payload={"is_null": False}).pluck("title") == ["aa", "bb"]
    assert jobs.where(payload={"in": [[1, 2]]}).pluck("title") == ["bb"]


def test_literals_are_coerced_to_the_field_type(rr: ReactiveRecord) -> None:
    node = cond.parse(
        {"priority": "3", "created_at": "2024-01-01T00:00:00Z"},
        rr.models.Job.model,
        rr.model_definition,
    )
    assert node == cond.And(
        (
            cond.Compare("priority", "eq", 3),
            cond.Compare("created_at", "eq", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)),
        )
    )


def test_none_means_is_null_and_lists_mean_in(rr: ReactiveRecord) -> None:
    def parse(data: Any) -> cond.Node:
        return cond.parse(data, rr.models.Job.model, rr.model_definition)

    assert parse({"user_id": None}) == cond.Compare("user_id", "is_null", True)
    assert parse({"user_id": {"ne": None}}) == cond.Compare("user_id", "is_null", False)
    assert parse({"user_id": [1, 2]}) == cond.Compare("user_id", "in", (1, 2))
    assert parse({"user_id": [1, None]}) == cond.Or(
        (cond.Compare("user_id", "in", (1,)), cond.Compare("user_id", "is_null", True))
    )
    assert parse(None) == cond.TRUE


# -- three-valued logic (evaluate is the specification) ------------------------------


@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("eq", None, 1, None),
        ("ne", None, 1, None),
        ("lt", None, 1, None),
        ("gt", 2, 1, True),
        ("gte", 1, 1, True),
        ("lte", 2, 1, False),
        ("in", None, (1, 2), None),
        ("in", 3, (1, 2), False),
        ("in", 1, (1, 2), True),
        ("in", None, (), False),
        ("in", 1, (), False),
        ("not_in", None, (), True),
        ("not_in", 1, (), True),
        ("not_in", None, (1,), None),
        ("not_in", 3, (1,), True),
        ("not_in", 1, (1,), False),
        ("between", 1, (1, 3), True),
        ("between", 3, (1, 3), True),
        ("between", 4, (1, 3), False),
        ("between", None, (1, 3), None),
        ("is_null", None, True, True),
        ("is_null", 0, True, False),
        ("is_null", 0, False, True),
    ],
)
def test_compare_follows_sql(op: str, actual: Any, expected: Any, result: bool | None) -> None:
    assert cond.evaluate(cond.Compare("x", op, expected), {"x": actual}) is result


def test_and_or_not_follow_sql_three_valued_logic() -> None:
    unknown = cond.Compare("x", "eq", 1)  # x is NULL below, so UNKNOWN
    true = cond.Compare("y", "eq", 1)
    false = cond.Compare("y", "eq", 2)
    row = {"x": None, "y": 1}
    assert cond.evaluate(cond.And((unknown, true)), row) is None
    assert cond.evaluate(cond.And((unknown, false)), row) is False
    assert cond.evaluate(cond.Or((unknown, true)), row) is True
    assert cond.evaluate(cond.Or((unknown, false)), row) is None
    assert cond.evaluate(cond.Not(unknown), row) is None
    assert cond.evaluate(cond.TRUE, row) is True
    assert cond.evaluate(cond.FALSE, row) is False
    assert not cond.matches(cond.Not(unknown), row)


@pytest.fixture
def nullable(rr: ReactiveRecord) -> ReactiveRecord:
    for name in ("Ann", "Bob"):
        rr.models.User.create({"name": name})
    for title, user_id in (("a", 1), ("b", 2), ("c", None)):
        rr.models.Job.create({"title": title + title, "user_id": user_id})
    return rr


def titles(query: Any) -> list[str]:
    return [job.title for job in query.all()]


def test_queries_apply_null_logic(nullable: ReactiveRecord) -> None:
    jobs = nullable.models.Job
    assert titles(jobs.where(user_id={"ne": 1})) == ["bb"]
    assert titles(jobs.where({"not": {"user_id": 1}})) == ["bb"]
    assert titles(jobs.where(user_id=None)) == ["cc"]
    assert titles(jobs.where(user_id={"is_null": False})) == ["aa", "bb"]
    assert titles(jobs.where(user_id=[1, None])) == ["aa", "cc"]
    assert titles(jobs.where(user_id={"not_in": [1, None]})) == ["bb"]
    assert titles(jobs.where(user_id={"not_in": [1]})) == ["bb"]
    assert titles(jobs.where(user_id=[])) == []
    assert titles(jobs.where(user_id={"not_in": []})) == ["aa", "bb", "cc"]
    assert titles(jobs.where({"or": []})) == []
    assert titles(jobs.where({"and": []})) == ["aa", "bb", "cc"]
    assert titles(jobs.where(user_id={"between": [2, 9]})) == ["bb"]


# -- LIKE and ILIKE ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "like", "ilike"),
    [
        ("Fix%", "Fix boiler", True, True),
        ("fix%", "Fix boiler", False, True),
        ("%oil%", "Fix boiler", True, True),
        ("F_x%", "Fix", True, True),
        ("F_x", "Fiix", False, False),
        ("100\\%", "100%", True, True),
        ("100\\%", "1000", False, False),
        ("a\\_b", "a_b", True, True),
        ("a\\_b", "axb", False, False),
        ("back\\\\slash", "back\\slash", True, True),
        ("%", "", True, True),
        ("a.c", "abc", False, False),
        ("line%", "line\nbreak", True, True),
        ("É%", "éte", False, False),
        ("é%", "éte", True, True),
    ],
)
def test_like_is_case_sensitive_and_ilike_folds_ascii(
    pattern: str, text: str, like: bool, ilike: bool
) -> None:
    row = {"title": text}
    assert cond.matches(cond.Compare("title", "like", pattern), row) is like
    assert cond.matches(cond.Compare("title", "ilike", pattern), row) is ilike


def test_like_through_a_query(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for title in ("50% off", "500 off", "Fix_it", "FixIt"):
        jobs.create({"title": title})
    assert titles(jobs.where(title={"like": "50\\%%"})) == ["50% off"]
    assert titles(jobs.where(title={"like": "Fix\\_%"})) == ["Fix_it"]
    assert titles(jobs.where(title={"ilike": "fix%"})) == ["Fix_it", "FixIt"]


# -- relative time ----------------------------------------------------------------------


def test_relative_time_uses_the_injected_clock(rr: ReactiveRecord, clock: Any) -> None:
    jobs = rr.models.Job
    jobs.create({"title": "old", "created_at": clock.now - dt.timedelta(hours=30)})
    jobs.create({"title": "new", "created_at": clock.now - dt.timedelta(hours=2)})
    jobs.create({"title": "undated"})
    recent = jobs.where(created_at={"gt": {"ago": "1d"}})
    assert titles(recent) == ["new"]
    assert titles(jobs.where(created_at={"lte": {"ago": "1d"}})) == ["old"]
    clock.advance(hours=23)
    assert titles(recent) == []
    clock.advance(days=-3)
    assert titles(recent) == ["old", "new"]


def test_relative_time_on_a_date_field_compares_dates(rr: ReactiveRecord, clock: Any) -> None:
    jobs = rr.models.Job
    jobs.create({"title": "due", "due_date": dt.date(2024, 5, 30)})
    jobs.create({"title": "later", "due_date": dt.date(2024, 6, 3)})
    assert titles(jobs.where(due_date={"gte": {"ago": "2d"}})) == ["due", "later"]
    assert titles(jobs.where(due_date={"gt": {"ago": "2d"}})) == ["later"]


# -- references to the acting user ------------------------------------------------------


def test_user_references_bind_to_the_acting_user(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    mine = jobs.where(client_id={"user": "client_id"})
    ann = {"id": 1, "client_id": 1}
    with seeded.acting_as(ann):
        assert titles(mine) == ["Fix boiler", "Paint hall"]
    assert titles(mine.as_user({"id": 9, "client_id": 2})) == ["Audit", "Sweep"]


def test_a_list_valued_user_attribute_means_any_of(seeded: ReactiveRecord) -> None:
    # A user of several tenants: {"client_id": {"user": "client_ids"}} is IN.
    jobs = seeded.models.Job
    theirs = jobs.where(client_id={"user": "client_ids"})
    assert titles(theirs.as_user({"id": 1, "client_ids": [1, 2]})) == titles(jobs)
    assert titles(theirs.as_user({"id": 1, "client_ids": (2,)})) == ["Audit", "Sweep"]
    assert titles(theirs.as_user({"id": 1, "client_ids": []})) == []
    others = jobs.where(client_id={"ne": {"user": "client_ids"}})
    assert titles(others.as_user({"id": 1, "client_ids": [2]})) == ["Fix boiler", "Paint hall"]
    with pytest.raises(InvalidQuery, match="compares one value"):
        jobs.where(client_id={"gt": {"user": "client_ids"}}).as_user({"client_ids": [1]}).all()


def test_a_missing_user_attribute_matches_nothing(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    jobs.create({"title": "No client"})
    mine = jobs.where(client_id={"user": "client_id"})

    class Visitor:
        id = 7

    assert titles(mine.as_user(Visitor())) == []
    assert titles(mine.as_user({"id": 7})) == []
    assert titles(mine) == []  # no user at all
    assert titles(jobs.where({"not": {"client_id": {"user": "client_id"}}})) == []


# -- associations -------------------------------------------------------------------------


def test_any_over_has_many(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    assert titles(jobs.where(tasks={"any": {"status": "done"}})) == ["Fix boiler"]
    assert titles(jobs.where(tasks={"any": {}})) == ["Fix boiler", "Paint hall", "Audit"]
    assert titles(jobs.where({"not": {"tasks": {"any": {}}}})) == ["Sweep"]


def test_any_over_belongs_to(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    assert titles(jobs.where(client={"any": {"name": "Globex"}})) == ["Audit", "Sweep"]
    jobs.create({"title": "Orphan"})
    assert "Orphan" not in titles(jobs.where(client={"any": {}}))


def test_any_through_an_association(seeded: ReactiveRecord) -> None:
    jobs = seeded.models.Job
    assert titles(jobs.where(workers={"any": {"role": "admin"}})) == ["Fix boiler"]
    assert titles(jobs.where(workers={"any": {"name": "Bob"}})) == ["Fix boiler", "Paint hall"]
    assert titles(jobs.where(notes={"any": {"body": "white"}})) == ["Paint hall"]


def test_nested_any(seeded: ReactiveRecord) -> None:
    clients = seeded.models.Client
    found = clients.where(jobs={"any": {"tasks": {"any": {"title": "Count"}}}}).all()
    assert [c.name for c in found] == ["Globex"]


def test_any_needs_the_related_rows() -> None:
    with pytest.raises(InvalidQuery, match="needs the associated rows"):
        cond.evaluate(cond.Exists("tasks", cond.TRUE), {"id": 1})


# -- the data form ----------------------------------------------------------------------


def test_to_data_round_trips(rr: ReactiveRecord) -> None:
    model = rr.models.Job.model
    data = {
        "or": [
            {"status": "active", "priority": {"gte": 2}},
            {"tasks": {"any": {"status": {"in": ["open", "done"]}}}},
            {"not": {"created_at": {"gt": {"ago": "1d"}}}},
            {"client_id": {"param": "client_id"}},
            {"user_id": {"user": "id"}},
        ]
    }
    node = cond.parse(data, model, rr.model_definition)
    assert cond.parse(cond.to_data(node), model, rr.model_definition) == node
    assert cond.canonical_json(cond.to_data(node)) == cond.canonical_json(
        cond.to_data(cond.parse(cond.to_data(node), model, rr.model_definition))
    )
