"""Bad input: each mistake is a named error whose message names what is wrong; nothing is written.

Run on every database (``db_url``), since a mistake must be caught before SQL, and a
value that looks like SQL must stay a value everywhere.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from reactive_record import (
    ConfigError,
    InvalidQuery,
    PluginNotInstalled,
    ReactiveRecord,
    StaleRecord,
    UnknownField,
    ValidationError,
)

MODELS: dict[str, Any] = {
    "Job": {
        "table": "jobs",
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20},
            "priority": "integer",
            "client_id": "integer",
            "lock_version": "integer",
            "score": "float",
            "meta": "json",
            "created_at": "datetime",
            "amount": {"type": "decimal", "precision": 6, "scale": 2},
            "hours": {"type": "decimal", "precision": 3},
        },
        "validations": {"amount": {"numericality": {"gte": 0.1}}},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id"}},
        "scopes": {
            "by_client": {"params": ["client_id"], "where": {"client_id": {"param": "client_id"}}},
            "below": {"params": ["priority"], "where": {"priority": {"lt": {"param": "priority"}}}},
        },
    },
    "Task": {"fields": {"job_id": "integer", "title": {"type": "string", "length": 100}}},
}

INJECTION = "1; DROP TABLE jobs; --"
QUOTED = "' OR '1'='1"

Make = Callable[..., ReactiveRecord]


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """Two jobs with a task each, on every database."""
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    rr = make_rr(db_url, MODELS, plugins)
    for title, priority in (("Fix", 3), ("Paint", 1)):
        job = rr.models.Job.create({"title": title, "priority": priority, "status": "open"})
        rr.models.Task.create({"job_id": job.id, "title": f"{title} task"})
    return rr


def rows(rr: ReactiveRecord) -> dict[str, list[dict[str, Any]]]:
    return {name: [dict(r) for r in rr.models[name].all()] for name in rr.models}


def fails(
    rr: ReactiveRecord, action: Callable[[Any], Any], error: type[Exception], *names: str
) -> Exception:
    """Run ``action(rr.models)``: it raises ``error`` naming each of ``names``; no row moved."""
    before = rows(rr)
    with pytest.raises(error) as raised:
        action(rr.models)
    for name in names:
        assert name in str(raised.value), (name, str(raised.value))
    assert rows(rr) == before
    return raised.value


# -- unknown fields -------------------------------------------------------------------------


UNKNOWN_FIELD_ACTIONS: dict[str, Callable[[Any], Any]] = {
    "where": lambda m: m.Job.where(titel="Fix").all(),
    "or": lambda m: m.Job.where({"or": [{"status": "open"}, {"titel": "Fix"}]}).all(),
    "any": lambda m: m.Job.where(tasks={"any": {"titel": "x"}}).all(),
    "order": lambda m: m.Job.order("-titel").all(),
    "pluck": lambda m: m.Job.pluck("titel"),
    "find_by": lambda m: m.Job.find_by(titel="Fix"),
    "create": lambda m: m.Job.create({"title": "New", "titel": "New"}),
    "update": lambda m: m.Job.update(1, {"titel": "New"}),
    "update_all": lambda m: m.Job.where(status="open").update_all({"titel": "New"}),
}


def test_unknown_field(rr: ReactiveRecord) -> None:
    for name, action in UNKNOWN_FIELD_ACTIONS.items():
        error = fails(rr, action, UnknownField, "'titel'")
        assert isinstance(error, UnknownField) and error.field == "titel", name
        assert error.model in ("Job", "Task"), name


def test_unknown_association(rr: ReactiveRecord) -> None:
    fails(rr, lambda m: m.Job.includes("taskz").all(), UnknownField, "'taskz'")


def test_unknown_operator(rr: ReactiveRecord) -> None:
    error = fails(rr, lambda m: m.Job.where(priority={"gt": 1, "approx": 2}).all(), InvalidQuery)
    assert "Job.priority: unknown operator 'approx'" in str(error)
    assert "known: eq, ne, lt" in str(error)


# -- wrong value types ------------------------------------------------------------------------


WRONG_TYPES: list[tuple[dict[str, Any], str]] = [
    ({"priority": "high"}, "Job.priority is integer: 'high' is not a valid integer"),
    ({"priority": ["1", "two"]}, "'two' is not a valid integer"),
    ({"priority": {"between": [1, "ten"]}}, "'ten' is not a valid integer"),
    ({"priority": {"like": "1%"}}, "like needs a string field"),
    ({"title": 7}, "Job.title is string: 7 is not a valid string"),
]


def test_wrong_value_type_in_a_query(rr: ReactiveRecord) -> None:
    for condition, says in WRONG_TYPES:
        fails(rr, lambda m, c=condition: m.Job.where(c).all(), InvalidQuery, says)


def test_wrong_value_type_in_a_write_is_a_validation_error(rr: ReactiveRecord) -> None:
    error = fails(
        rr,
        lambda m: m.Job.create({"title": "New", "priority": "high", "client_id": "seven"}),
        ValidationError,
        "priority",
        "client_id",
    )
    assert isinstance(error, ValidationError)
    assert error.messages == {
        "priority": ["'high' is not a valid integer"],
        "client_id": ["'seven' is not a valid integer"],
    }
    fails(rr, lambda m: m.Job.update(1, {"priority": [1]}), ValidationError, "priority")


UNSTORABLE: list[tuple[dict[str, Any], str]] = [
    ({"priority": 2**70}, "outside the 64-bit range"),
    ({"priority": -(2**63) - 1}, "outside the 64-bit range"),
    ({"score": float("nan")}, "NaN and infinity cannot be stored"),
    ({"score": "-inf"}, "NaN and infinity cannot be stored"),
    ({"score": 10**400}, "is not a valid float"),
    ({"meta": {"tags": {"a", "b"}}}, "Object of type set is not JSON serializable"),
    ({"meta": {"ratio": float("inf")}}, "not JSON compliant"),
]


@pytest.mark.parametrize(("values", "says"), UNSTORABLE, ids=lambda v: str(v)[:30])
def test_values_no_database_stores_are_validation_errors(
    rr: ReactiveRecord, values: dict[str, Any], says: str
) -> None:
    # Caught before the driver, the same on every database: SQLite would store NaN as
    # NULL and overflow on 2**70, PostgreSQL would keep NaN, MariaDB refuses both.
    (name,) = values
    for write in (
        lambda m: m.Job.create({"title": "New", **values}),
        lambda m: m.Job.update(1, values),
    ):
        error = fails(rr, write, ValidationError, name, says)
        assert isinstance(error, ValidationError) and list(error.messages) == [name]
    assert rr.models.Job.where(priority=2**63 - 1).count() == 0  # the limits themselves work


DIGITS: list[tuple[dict[str, Any], str]] = [
    ({"amount": "1.234"}, "must have at most 2 decimal places"),
    ({"amount": "10000"}, "must have at most 4 digits before the decimal point"),
    ({"amount": "0.09"}, "must be greater than or equal to 0.1"),
    ({"hours": "1000"}, "must have at most 3 digits before the decimal point"),
    ({"hours": "1.5"}, "must be a whole number"),
]


@pytest.mark.parametrize(("values", "says"), DIGITS, ids=lambda v: str(v)[:30])
def test_decimals_beyond_their_precision_or_scale(
    rr: ReactiveRecord, values: dict[str, Any], says: str
) -> None:
    # PostgreSQL would round the places and refuse the digits; SQLite would keep both.
    (name,) = values
    fails(rr, lambda m: m.Job.create({"title": "New", **values}), ValidationError, name, says)


def test_decimals_within_precision_and_scale_are_kept_exactly(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    job = jobs.create({"title": "New", "amount": "0.10", "hours": "999"})
    assert (job.amount, job.hours) == (Decimal("0.1"), Decimal(999))
    assert jobs.update(job.id, {"amount": "9999.99"}).amount == Decimal("9999.99")
    assert jobs.find(job.id).data.amount == Decimal("9999.99")  # type: ignore[union-attr]


def test_a_missing_scope_parameter(rr: ReactiveRecord) -> None:
    fails(rr, lambda m: m.Job.by_client().all(), InvalidQuery, "by_client()", "client_id")


def test_a_scope_parameter_given_a_list(rr: ReactiveRecord) -> None:
    # Where the scope compares one value, a list means IN, as {"client_id": [...]} does.
    jobs = rr.models.Job
    jobs.update(1, {"client_id": 7})
    assert jobs.by_client(client_id=[7, 8]).pluck("id") == [1]
    assert jobs.by_client(client_id=[]).count() == 0
    fails(rr, lambda m: m.Job.below(priority=[1, 2]).all(), InvalidQuery, "Job.priority lt")


def test_a_relative_time_too_far_back(rr: ReactiveRecord) -> None:
    fails(
        rr,
        lambda m: m.Job.where(created_at={"gt": {"ago": "99999999999d"}}).all(),
        InvalidQuery,
        "longer than the 1000 years",
    )


@pytest.mark.parametrize("values", [None, [("status", "x")], "status=x"])
def test_update_all_takes_a_mapping(rr: ReactiveRecord, values: Any) -> None:
    fails(rr, lambda m: m.Job.update_all(values), InvalidQuery, "Job.update_all()", "mapping")


def test_a_stale_lock_version(rr: ReactiveRecord) -> None:
    rr.models.Job.update(1, {"status": "active"})
    error = fails(
        rr, lambda m: m.Job.update(1, {"status": "done", "lock_version": 0}), StaleRecord, "Job 1"
    )
    assert "lock_version 0" in str(error) and "now 1" in str(error)


# -- values that look like SQL are values ------------------------------------------------------


def test_sql_looking_strings_are_just_values(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for text in (INJECTION, QUOTED, "100%_\\", 'say "hi"; --', "Robert'); --"):
        job = jobs.create({"title": text, "status": text[:20]})
        assert jobs.find(job.id).data == job and job.title == text
        assert jobs.where(title=text).pluck("id") == [job.id]
        assert jobs.where(title=[text, "Fix"]).count() == 2
        assert jobs.where(status=text[:20]).pluck("title") == [text]
        assert jobs.update(job.id, {"title": text + text}).title == text + text
        assert jobs.where(title=text + text).pluck("id") == [job.id]
        jobs.destroy(job.id)
        assert jobs.pluck("title") == ["Fix", "Paint"] and rr.models.Task.count() == 2


def test_sql_looking_strings_match_nothing_they_should_not(rr: ReactiveRecord) -> None:
    assert rr.models.Job.where(title=QUOTED).all() == ()
    assert rr.models.Job.where(title=INJECTION).all() == ()
    assert rr.models.Job.where(title={"like": "%' OR '1'='1"}).all() == ()
    assert rr.models.Job.count() == 2


def test_sql_looking_field_names_are_unknown_fields(rr: ReactiveRecord) -> None:
    fails(rr, lambda m: m.Job.where({"title = title; --": 1}).all(), UnknownField)
    fails(rr, lambda m: m.Job.order("title; DROP TABLE jobs").all(), UnknownField)
    fails(rr, lambda m: m.Job.create({"title": "x", "id) VALUES (9": 1}), UnknownField)


# -- configuration -------------------------------------------------------------------------


def write(folder: Path, text: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_malformed_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [tool.reactive-record]
        database = "memory://"
        [tool.reactive-record.models.Job]
        fields = { title = string }
        """,
    )
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord.from_pyproject(path)
    assert str(path) in str(raised.value) and "line 4" in str(raised.value)


def test_an_unknown_config_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [tool.reactive-record]
        database = "memory://"
        [tool.reactive-record.models.Job]
        fieldz = { title = "string" }
        """,
    )
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord.from_pyproject(path)
    assert raised.value.path == "tool.reactive-record.models.Job.fieldz"
    assert "tool.reactive-record.models.Job.fieldz" in str(raised.value)
    assert "unknown key" in str(raised.value)


def test_a_model_enabling_a_missing_plugin(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [tool.reactive-record]
        database = "memory://"
        [tool.reactive-record.models.Job]
        fields = { title = "string" }
        features = { nosuch = true }
        """,
    )
    with pytest.raises(PluginNotInstalled) as raised:
        ReactiveRecord.from_pyproject(path)
    assert raised.value.distribution == "rr-nosuch"
    assert "tool.reactive-record.models.Job" in str(raised.value)
    assert "pip install rr-nosuch" in str(raised.value)
