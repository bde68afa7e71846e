"""The SQL compiler against the specification: random rows, random queries, same answers.

``reactive_record.conditions.evaluate`` (behind the MemoryStore) says what a condition
means. For random rows and random conditions — NULLs, IN lists holding NULL, empty IN,
LIKE/ILIKE patterns with ``%``, ``_``, escapes and non-ASCII letters, ``any`` over
belongs_to / has_many / has_many-through, comparisons, ``not``/``or``/``and``, ordering
with ties and NULLs, limit and offset — every SQL database must return the same records
in the same order, and the same count.

Tables are made once per database and refilled for each example. ``RR_DIFFERENTIAL_EXAMPLES``
sets the number of examples per database (default 80).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactive_record import Change, ReactiveRecord

pytest.importorskip("rr_sqlalchemy")

EXAMPLES = int(os.environ.get("RR_DIFFERENTIAL_EXAMPLES", "80"))

MODELS: dict[str, Any] = {
    "Group": {
        "fields": {"title": "string"},
        "has_many": {
            "items": {"model": "Item", "foreign_key": "group_id"},
            # has_many through, the target's key on the middle model: items.owner_id -> owners.id
            "owners": {"model": "Owner", "through": "items", "foreign_key": "owner_id"},
            # has_many through, the target pointing at the middle model: tags.item_id -> items.id
            "tags": {"model": "Tag", "through": "items", "foreign_key": "item_id"},
        },
    },
    "Owner": {"fields": {"name": "string"}},
    "Item": {
        "fields": {
            "name": "string",
            "note": "text",
            "n": "integer",
            "x": "float",
            "amount": "decimal",
            "flag": "boolean",
            "day": "date",
            "at": "datetime",
            "uid": "uuid",
            "group_id": "integer",
            "owner_id": "integer",
        },
        "belongs_to": {
            "group": {"model": "Group", "foreign_key": "group_id"},
            "owner": {"model": "Owner", "foreign_key": "owner_id"},
        },
        "has_many": {"tags": {"model": "Tag", "foreign_key": "item_id"}},
    },
    "Tag": {
        "fields": {"item_id": "integer", "label": "string", "weight": "integer"},
        "belongs_to": {"item": {"model": "Item", "foreign_key": "item_id"}},
    },
}

GROUPS, OWNERS = 3, 2

# -- values -------------------------------------------------------------------------------

# Letters that fold (a/A), that do not fold in ASCII-only ILIKE (é/É), LIKE's wildcards
# and escape, a space for trailing-space comparisons, and GLOB's own wildcards.
CHARS = "aAbZéÉ%_\\ *?["
strings = st.one_of(
    st.sampled_from(["", "a", "A", "ab", "a ", "Z", "é", "É", "a%b", "a_b", "\\", "100%"]),
    st.text(alphabet=CHARS, max_size=4),
)
patterns = st.text(alphabet=CHARS, max_size=4)
UUIDS = [uuid.UUID(int=n * 0x1111_0000_0000_0000_0000_0000_0001) for n in range(1, 5)]

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": strings,
    "note": strings,
    "n": st.integers(-2, 2),
    "x": st.sampled_from([-2.5, 0.0, 0.5, 1.0, 1e10]),
    "amount": st.sampled_from(
        [
            Decimal("1.5"),
            Decimal("1.50"),
            Decimal("-3"),
            Decimal("10.01"),
            Decimal("2"),
            Decimal("0.001"),
        ]
    ),
    "flag": st.booleans(),
    "day": st.dates(dt.date(2023, 12, 30), dt.date(2024, 1, 2)),
    "at": st.sampled_from(
        [
            dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
            dt.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=dt.timezone.utc),
            dt.datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc),
            dt.datetime(2024, 6, 1, 12, 30, tzinfo=dt.timezone.utc),
        ]
    ),
    "uid": st.sampled_from(UUIDS),
    "group_id": st.integers(1, GROUPS),
    "owner_id": st.integers(1, OWNERS),
    "title": strings,
    "label": strings,
    "weight": st.integers(0, 2),
}


def nullable(field: str) -> st.SearchStrategy[Any]:
    """A field's values, NULL included."""
    return st.one_of(st.none(), VALUES[field])


@st.composite
def datasets(draw: Any) -> dict[str, list[dict[str, Any]]]:
    """Rows for every table; keys are explicit so every store holds the same rows."""
    groups = [{"id": i, "title": draw(nullable("title"))} for i in range(1, GROUPS + 1)]
    owners = [{"id": i, "name": draw(nullable("name"))} for i in range(1, OWNERS + 1)]
    count = draw(st.integers(1, 10))
    item_fields = [f for f in MODELS["Item"]["fields"]]
    items = [{"id": i, **{f: draw(nullable(f)) for f in item_fields}} for i in range(1, count + 1)]
    tags = []
    if items:
        for i in range(1, draw(st.integers(0, 8)) + 1):
            tags.append(
                {
                    "id": i,
                    "item_id": draw(st.none() | st.integers(1, count)),
                    "label": draw(nullable("label")),
                    "weight": draw(nullable("weight")),
                }
            )
    return {"Group": groups, "Owner": owners, "Item": items, "Tag": tags}


# -- conditions ---------------------------------------------------------------------------

FIELD_TYPES = {
    model: {"id": "integer", **{name: spec for name, spec in table["fields"].items()}}
    for model, table in MODELS.items()
}
ORDERED = ("eq", "ne", "lt", "lte", "gt", "gte")


def comparisons(model: str) -> st.SearchStrategy[dict[str, Any]]:
    """One ``field op value`` condition on ``model``."""
    fields = [f for f in FIELD_TYPES[model] if f != "id"] + ["id"]

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        field = draw(st.sampled_from(fields))
        values = VALUES.get(field, st.integers(0, 10))
        kind = FIELD_TYPES[model][field]
        ops = ["eq", "ne", "in", "not_in", "is_null", "between"]
        if kind not in ("boolean",):
            ops += ["lt", "lte", "gt", "gte"]
        if kind in ("string", "text"):
            ops += ["like", "ilike", "like", "ilike"]
        op = draw(st.sampled_from(ops))
        if op == "is_null":
            return {field: {"is_null": draw(st.booleans())}}
        if op in ("in", "not_in"):
            items = draw(st.lists(st.none() | values, max_size=3))
            return {field: {op: items} if op == "not_in" or draw(st.booleans()) else items}
        if op == "between":
            return {field: {"between": [draw(values), draw(values)]}}
        if op in ("like", "ilike"):
            return {field: {op: draw(patterns)}}
        value = draw(st.none() | values) if op in ("eq", "ne") else draw(values)
        return {field: value} if op == "eq" and draw(st.booleans()) else {field: {op: value}}

    return build()


ASSOCIATIONS = {
    "Item": [("group", "Group"), ("owner", "Owner"), ("tags", "Tag")],
    "Group": [("items", "Item"), ("owners", "Owner"), ("tags", "Tag")],
    "Tag": [("item", "Item")],
    "Owner": [],
}


def conditions(model: str, depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Random conditions on ``model``: comparisons, and/or/not, ``any`` over associations."""
    leaf = comparisons(model)
    if depth == 0:
        return leaf
    inner = conditions(model, depth - 1)
    options = [
        leaf,
        leaf,
        st.lists(inner, max_size=3).map(lambda items: {"and": items}),
        st.lists(inner, max_size=3).map(lambda items: {"or": items}),
        inner.map(lambda item: {"not": item}),
    ]
    for name, target in ASSOCIATIONS[model]:
        options.append(
            conditions(target, depth - 1).map(lambda c, n=name: {n: {"any": c}})  # type: ignore[misc]
        )
    return st.one_of(*options)


orders = st.lists(
    st.tuples(
        st.sampled_from(["name", "n", "x", "amount", "flag", "day", "at", "uid", "note"]),
        st.booleans(),
    ).map(lambda pair: ("-" if pair[1] else "") + pair[0]),
    max_size=3,
)


# -- the test -----------------------------------------------------------------------------


def load(rr: ReactiveRecord, data: dict[str, list[dict[str, Any]]]) -> None:
    """Replace every row of every table with ``data`` (in one transaction)."""
    models = [rr.model_definition(name) for name in ("Tag", "Item", "Owner", "Group")]
    with rr.transaction() as tx:
        for model in models:
            for row in tx.fetch(rr.engine.plan(rr.models[model.name].spec)):
                tx.write(_destroy(rr, model, row))
        for model in reversed(models):
            for row in data[model.name]:
                tx.insert(model, row)


def _destroy(rr: ReactiveRecord, model: Any, row: dict[str, Any]) -> Change:
    return Change(model, "destroy", row[model.primary_key], None, {}, None, rr)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=datasets(),
    model=st.sampled_from(["Item", "Item", "Item", "Group", "Tag"]),
    condition=st.data(),
    order=orders,
    limit=st.sampled_from([None, None, None, 0, 1, 3]),
    offset=st.sampled_from([0, 0, 0, 1, 2]),
)
def test_sql_agrees_with_the_evaluator(
    sql: ReactiveRecord,
    reference: ReactiveRecord,
    data: dict[str, list[dict[str, Any]]],
    model: str,
    condition: st.DataObject,
    order: list[str],
    limit: int | None,
    offset: int,
) -> None:
    """Same records, same order, same count, on every database."""
    load(reference, data)
    load(sql, data)
    where = condition.draw(conditions(model))
    fields = FIELD_TYPES[model]
    terms = [t for t in order if t.lstrip("-") in fields]

    def run(rr: ReactiveRecord) -> tuple[Any, ...]:
        query = rr.models[model].where(where).order(*terms).limit(limit).offset(offset)
        return (query.all(), rr.models[model].where(where).count())

    expected = run(reference)
    assert run(sql) == expected, (
        f"{model}.where({where!r}).order({terms}).limit({limit}).offset({offset})"
    )


# Fixtures are set up once per test, not per example: every example reuses the tables.


@pytest.fixture
def sql(make_rr: Callable[..., ReactiveRecord], sql_db_url: str) -> ReactiveRecord:
    """The SQL store under test."""
    return make_rr(sql_db_url, MODELS, ["sqlalchemy"])


@pytest.fixture
def reference(make_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    """The MemoryStore: ``conditions.evaluate`` is its matcher."""
    return make_rr("memory://", MODELS, [])
