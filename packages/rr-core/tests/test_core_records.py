"""Record: immutable, equal by model and values, hashable, with exact Python types."""

from __future__ import annotations

import datetime as dt
import pickle
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from reactive_record import ReactiveRecord, Record

ODD = {
    "Thing": {
        "fields": {
            "keys": "string",
            "items": "integer",
            "get": "string",
            "values": "json",
            "at": "datetime",
            "price": {"type": "decimal", "precision": 10, "scale": 3},
            "ref": "uuid",
            "ok": "boolean",
            "ratio": "float",
            "on": "date",
        }
    },
    "Other": {"fields": {"keys": "string"}},
}


@pytest.fixture
def odd(build_rr: Callable[..., ReactiveRecord]) -> ReactiveRecord:
    return build_rr(ODD)


def test_records_are_immutable() -> None:
    record = Record("Job", {"id": 1, "title": "Fix"})
    with pytest.raises(AttributeError, match="immutable"):
        record.title = "x"
    with pytest.raises(AttributeError, match="immutable"):
        del record.title
    with pytest.raises(TypeError):
        record["title"] = "x"
    with pytest.raises(AttributeError, match="Job record has no field or attribute 'nope'"):
        _ = record.nope
    source = {"id": 1}
    copied = Record("Job", source)
    source["id"] = 2
    assert copied.id == 1


def test_attribute_item_and_mapping_access() -> None:
    record = Record("Job", {"id": 1, "title": "Fix"})
    assert record.title == record["title"] == "Fix"
    assert dict(record) == {"id": 1, "title": "Fix"}
    assert list(record) == ["id", "title"] and len(record) == 2 and "title" in record
    assert record.model_name == "Job"
    assert repr(record) == "<Job id=1, title='Fix'>"
    assert record.get("title") == "Fix" and record.get("missing") is None
    assert record.get("missing", 0) == 0 and Record("Job", {"id": None}).get("id", 0) is None


def test_equality_is_by_model_and_values() -> None:
    a = Record("Job", {"id": 1, "title": "Fix"})
    assert a == Record("Job", {"title": "Fix", "id": 1})
    assert a != Record("Task", {"id": 1, "title": "Fix"})
    assert a != Record("Job", {"id": 1, "title": "Fix it"})
    assert a == a.with_extra(label="#1")  # extras are not part of the row
    assert a != {"id": 1, "title": "Fix"}
    assert len({a, Record("Job", {"id": 1, "title": "Fix"}), a.with_extra(x=1)}) == 1


def test_records_with_json_values_are_hashable() -> None:
    a = Record("Job", {"id": 1, "payload": {"tags": ["a", "b"], "n": {"x": 1}}})
    b = Record("Job", {"id": 1, "payload": {"n": {"x": 1}, "tags": ["a", "b"]}})
    assert a == b and hash(a) == hash(b)
    assert hash(a) != hash(Record("Job", {"id": 1, "payload": {"tags": ["b", "a"]}}))


def test_pickle_round_trip() -> None:
    record = Record("Job", {"id": 1, "at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)})
    labelled = record.with_extra(label="x")
    assert pickle.loads(pickle.dumps(labelled)) == record
    assert pickle.loads(pickle.dumps(labelled)).label == "x"


def test_records_a_read_returns_behave_as_built_ones(odd: ReactiveRecord) -> None:
    # Reads build records without setting their extras or hash until asked for them.
    things = odd.models.Thing
    things.create({"keys": "k", "items": 3})
    read = things.first()
    assert read is not None
    built = Record("Thing", dict(read))
    assert read == built and hash(read) == hash(built) == hash(read)
    assert read.extra == {} and read["items"] == 3 and read.ok is None
    with pytest.raises(AttributeError, match="Thing record has no field or attribute 'nope'"):
        _ = read.nope
    labelled = read.with_extra(label="#1")
    assert labelled.label == "#1" and labelled.extra == {"label": "#1"} and read.extra == {}
    assert pickle.loads(pickle.dumps(read)) == read
    assert pickle.loads(pickle.dumps(labelled)).label == "#1"


def test_fields_named_like_mapping_methods(odd: ReactiveRecord) -> None:
    thing = odd.models.Thing.create({"keys": "k", "items": 3, "get": "g", "values": [1, 2]})
    assert thing["keys"] == "k" and thing["items"] == 3
    assert thing["get"] == "g" and thing["values"] == [1, 2]
    assert set(thing.keys()) >= {"keys", "items", "get", "values"}
    assert thing.get("get") == "g" and ("items", 3) in thing.items()
    assert odd.models.Thing.where(keys="k", items={"gte": 3}).pluck("get") == ["g"]
    assert odd.models.Thing.find_by(get="g").data == thing


def test_datetimes_are_aware_utc(odd: ReactiveRecord) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    things = odd.models.Thing
    local = things.create({"at": dt.datetime(2024, 6, 1, 14, 0, tzinfo=paris)})
    naive = things.create({"at": dt.datetime(2024, 6, 1, 12, 0)})
    text = things.create({"at": "2024-06-01T12:00:00Z"})
    for record in (local, naive, text):
        assert record.at == dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
        assert record.at.utcoffset() == dt.timedelta(0)
    assert things.where(at=dt.datetime(2024, 6, 1, 14, 0, tzinfo=paris)).count() == 3


def test_decimals_uuids_and_other_types_are_exact(odd: ReactiveRecord) -> None:
    ref = uuid.uuid4()
    thing = odd.models.Thing.create(
        {"price": "10.250", "ref": str(ref), "ok": 1, "ratio": 2, "on": "2024-06-01"}
    )
    assert thing.price == Decimal("10.250") and isinstance(thing.price, Decimal)
    assert thing.ref == ref and isinstance(thing.ref, uuid.UUID)
    assert thing.ok is True and thing.ratio == 2.0 and isinstance(thing.ratio, float)
    assert thing.on == dt.date(2024, 6, 1)
    assert odd.models.Thing.create({"price": 0.1}).price == Decimal("0.1")
    assert odd.models.Thing.where(ref=ref).pluck("price") == [Decimal("10.250")]
    assert odd.models.Thing.where(price=Decimal("10.25")).count() == 1
