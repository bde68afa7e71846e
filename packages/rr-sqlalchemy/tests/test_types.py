"""Values keep their Python type and value through every database (memory as reference)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from reactive_record import ReactiveRecord

Make = Callable[..., ReactiveRecord]

UTC = dt.timezone.utc
MODELS: dict[str, Any] = {
    "Value": {
        "fields": {
            "exact": "decimal",
            "money": {"type": "decimal", "precision": 10, "scale": 2},
            "at": "datetime",
            "day": "date",
            "flag": "boolean",
            "data": "json",
            "ratio": "float",
            "big": "integer",
        }
    },
    "Token": {"primary_key": "id", "fields": {"id": "uuid", "label": "string"}},
}


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """Every database."""
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    return make_rr(db_url, MODELS, plugins)


def roundtrip(rr: ReactiveRecord, **values: Any) -> Any:
    """Create a Value and read it back from the database."""
    created = rr.models.Value.create(values)
    found = rr.models.Value.find(created.id).data
    assert found == created
    return found


@pytest.mark.parametrize(
    "number",
    ["12345678901234567890.123456789", "0.000000000000000001", "-7", "1E+3", "3.14159"],
)
def test_decimals_are_exact(rr: ReactiveRecord, number: str) -> None:
    found = roundtrip(rr, exact=number)
    assert isinstance(found.exact, Decimal) and found.exact == Decimal(number)
    assert rr.models.Value.where(exact=Decimal(number)).count() == 1
    below = Decimal(number).fma(1, Decimal("-1E-19"), decimal.Context(prec=60))
    assert rr.models.Value.where(exact={"gt": below}).count() == 1
    assert rr.models.Value.where(exact={"lt": below}).count() == 0


def test_decimals_with_a_scale(rr: ReactiveRecord) -> None:
    found = roundtrip(rr, money="19.5")
    assert found.money == Decimal("19.50")
    assert rr.models.Value.where(money={"lt": 100}).count() == 1


def test_datetimes_are_aware_utc(rr: ReactiveRecord) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=paris)
    found = roundtrip(rr, at=moment)
    assert found.at == moment and found.at.tzinfo == UTC and found.at.hour == 12
    naive = roundtrip(rr, at=dt.datetime(2024, 1, 1, 8, 0))
    assert naive.at == dt.datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    values = rr.models.Value
    assert values.where(at={"gt": dt.datetime(2024, 6, 1, 14, 0, tzinfo=paris)}).count() == 1
    assert values.where(at={"lt": "2024-01-01T09:00:00+01:00"}).count() == 0
    assert values.where(at={"is_null": False}).order("-at").first().at == moment  # type: ignore[union-attr]


def test_dates_booleans_floats_integers(rr: ReactiveRecord) -> None:
    found = roundtrip(rr, day=dt.date(2024, 2, 29), flag=False, ratio=0.25, big=2**62)
    assert found.day == dt.date(2024, 2, 29) and type(found.day) is dt.date
    assert found.flag is False and found.ratio == 0.25 and found.big == 2**62
    assert rr.models.Value.where(flag=False).count() == 1
    assert rr.models.Value.where(flag=True).count() == 0
    assert roundtrip(rr, flag=None).flag is None


@pytest.mark.parametrize(
    "data",
    [{"tags": ["a", "é"], "n": 1, "nested": {"ok": True, "none": None}}, [1, 2.5, "x"], 5, "123"],
)
def test_json(rr: ReactiveRecord, data: Any) -> None:
    assert roundtrip(rr, data=data).data == data


def test_uuid_primary_keys_are_generated(rr: ReactiveRecord) -> None:
    token = rr.models.Token.create({"label": "first"})
    assert isinstance(token.id, uuid.UUID)
    assert rr.models.Token.find(str(token.id)).data == token
    chosen = uuid.UUID(int=42)
    rr.models.Token.create({"id": chosen, "label": "chosen"})
    assert rr.models.Token.order("id").pluck("label")[0] == "chosen"
    assert rr.models.Token.where(id=[chosen, token.id]).count() == 2
