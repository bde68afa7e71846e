"""Configuration mistakes are ConfigErrors naming the TOML path, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import rr_defaults
from reactive_record import ConfigError, ReactiveRecord

Build = Callable[..., ReactiveRecord]
SECTION = "reactive-record.models.Job.defaults"


@pytest.mark.parametrize(
    ("section", "path", "message"),
    [
        ({"bogus": 1}, f"{SECTION}.bogus", "unknown key"),
        ({"from_schema": "yes"}, f"{SECTION}.from_schema", "boolean"),
        ({"values": {"nope": 1}}, f"{SECTION}.values.nope", "a field of Job"),
        ({"values": {"priority": "high"}}, f"{SECTION}.values.priority", "a integer value"),
        ({"overrides": {"due": "soon"}}, f"{SECTION}.overrides.due", "a date value"),
        ({"values": {"status": None}}, f"{SECTION}.values.status", "null"),
        ({"missing": ["never"]}, f"{SECTION}.missing.0", "Must be one of"),
        (
            {"computed": {"nope": "rr_defaults_testfuncs:broken"}},
            f"{SECTION}.computed.nope",
            "a field",
        ),
        ({"computed": {"due": "no_such_module:f"}}, f"{SECTION}.computed.due", "importable"),
        (
            {"computed": {"due": "rr_defaults_testfuncs"}},
            f"{SECTION}.computed.due",
            "module:function",
        ),
        (
            {"computed": {"due": "rr_defaults_testfuncs:NOT_CALLABLE"}},
            f"{SECTION}.computed.due",
            "callable",
        ),
        (
            {"values": {"priority": 1}, "overrides": {"priority": 2}},
            f"{SECTION}.overrides.priority",
            "one default",
        ),
        (
            {"values": {"due": "2024-01-01"}, "computed": {"due": "rr_defaults_testfuncs:broken"}},
            f"{SECTION}.computed.due",
            "one default",
        ),
    ],
)
def test_mistakes_name_their_path(
    build: Build, section: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build(section)
    assert caught.value.path == path
    assert message.lower() in str(caught.value).lower()


def test_the_project_section_is_validated_too(build: Build) -> None:
    with pytest.raises(ConfigError) as caught:
        build({}, config={"defaults": {"values": {"status": "x"}}})
    assert caught.value.path == "reactive-record.defaults.values"


def test_project_settings_apply_to_every_model(build: Build) -> None:
    rr = build(None, config={"defaults": {"missing": ["none"]}})
    assert rr.models.Job.new(status=None).status == "pending"
    rr = build({"missing": ["absent"]}, config={"defaults": {"missing": ["none"]}})
    assert rr.models.Job.new(status=None).status is None


def test_values_are_coerced_to_the_field_types(build: Build) -> None:
    rr = build({"values": {"due": "2024-02-29", "ratio": "1.50", "priority": 3}})
    job = rr.models.Job.new()
    assert job.due.isoformat() == "2024-02-29"
    assert str(job.ratio) == "1.50"
    assert job.priority == 3


def test_the_functions_refuse_an_instance_without_the_plugin() -> None:
    with (
        ReactiveRecord(
            database="memory://", models={"Job": {"fields": {"a": "string"}}}, plugins=[]
        ) as rr,
        pytest.raises(ConfigError, match="rr-defaults is not loaded"),
    ):
        rr_defaults.defaults_for(rr.models.Job)
