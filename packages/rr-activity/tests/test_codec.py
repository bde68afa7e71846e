"""Field values round-trip losslessly through the log's JSON, and through EntrySchema."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rr_activity import REDACTED, EntrySchema, FieldChangeSchema
from rr_activity.codec import decode, decode_changes, encode

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(),
    "text": st.text(),
    "integer": st.integers(),
    "float": st.floats(),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "date": st.dates(),
    "datetime": st.datetimes(timezones=st.just(dt.timezone.utc)),
    "json": JSON,
    "uuid": st.uuids(),
}


def same(a: Any, b: Any) -> bool:
    """Equal, of the same type, and (for decimals and floats) the same exact text."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, (Decimal, float)):
        return type(a) is type(b) and str(a) == str(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("data_type", sorted(VALUES))
@given(data=st.data())
def test_values_round_trip_through_json(data_type: str, data: st.DataObject) -> None:
    value = data.draw(VALUES[data_type])
    stored = json.loads(json.dumps(encode(value, data_type)))
    assert same(decode(stored, data_type), value)


@given(
    data_type=st.sampled_from(sorted(VALUES)),
    data=st.data(),
    entity_id=st.text(min_size=1, max_size=30),
)
def test_entries_round_trip_through_the_schema(
    data_type: str, data: st.DataObject, entity_id: str
) -> None:
    old, new = data.draw(VALUES[data_type]), data.draw(VALUES[data_type])
    entry = {
        "id": uuid.uuid4(),
        "entity_type": "Job",
        "entity_id": entity_id,
        "entity_uuid": None,
        "client_id": 3,
        "user_id": "7",
        "action": "update",
        "field_changes": [
            {"field_name": "f", "old_value": old, "new_value": new, "data_type": data_type}
        ],
        "metadata": {"client_generated": True, "request_id": "r"},
        "transaction_id": uuid.uuid4(),
        "created_at": dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.timezone.utc),
        "sequence": None,
        "prev_hash": None,
        "hash": None,
    }
    schema = EntrySchema()
    wire = json.loads(json.dumps(schema.dump(entry)))
    loaded = schema.load(wire)
    change = loaded["field_changes"][0]
    assert same(change["old_value"], old) and same(change["new_value"], new)
    assert {k: v for k, v in loaded.items() if k != "field_changes"} == {
        k: v for k, v in entry.items() if k != "field_changes"
    }


def test_redacted_and_null_values_pass_through() -> None:
    for data_type in VALUES:
        assert decode(encode(REDACTED, data_type), data_type) == REDACTED
        assert decode(encode(None, data_type), data_type) is None


def test_wrong_values_are_named_by_the_schema() -> None:
    schema = FieldChangeSchema()
    with pytest.raises(Exception) as caught:
        schema.load({"field_name": "due", "data_type": "date", "new_value": "tomorrow"})
    assert caught.value.messages == {"new_value": ["Not a valid date. (data_type date)"]}  # type: ignore[attr-defined]


def test_reads_never_fail_on_an_edited_value() -> None:
    stored = [{"field_name": "n", "data_type": "integer", "old_value": "x", "new_value": 2}]
    assert decode_changes(stored) == stored
    assert decode_changes("not a list") == "not a list"
