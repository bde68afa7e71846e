"""populate_form: dicts and multi-value forms, present keys kept, values as form strings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import rr_defaults
from reactive_record import ReactiveRecord

Build = Callable[..., ReactiveRecord]
SECTION = {
    "values": {"priority": 2, "ratio": "1.50", "done": True, "meta": {"tags": ["a"]}},
    "computed": {"due": "rr_defaults_testfuncs:due_after_priority"},
}


class MultiValueForm:
    """The multi-value protocol of werkzeug's MultiDict, and nothing more: getlist and add."""

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        self.pairs = list(pairs or [])

    def getlist(self, key: str) -> list[str]:
        """Every value sent for ``key``."""
        return [value for name, value in self.pairs if name == key]

    def add(self, key: str, value: str) -> None:
        """Append a value for ``key``."""
        self.pairs.append((key, value))

    def __contains__(self, key: object) -> bool:
        return any(name == key for name, _ in self.pairs)

    def __delitem__(self, key: str) -> None:
        self.pairs = [(name, value) for name, value in self.pairs if name != key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self.pairs))


def test_a_dict_form_gets_each_missing_default_as_a_string(build: Build) -> None:
    rr = build(SECTION)
    form = {"title": "Fix", "priority": "5"}
    assert rr_defaults.populate_form(form, rr.models.Job) is form
    assert form == {
        "title": "Fix",
        "priority": "5",
        "status": "pending",
        "ratio": "1.50",
        "done": "true",
        "meta": '{"tags": ["a"]}',
        "due": "2024-01-06",  # the computed default saw the form's priority, as an integer
    }


def test_a_multi_value_form_is_filled_through_add(build: Build) -> None:
    rr = build(SECTION)
    form = MultiValueForm([("title", "Fix"), ("code", "a"), ("code", "b")])
    rr_defaults.populate_form(form, rr.models.Job)
    assert form.getlist("code") == ["a", "b"]
    assert form.getlist("title") == ["Fix"]
    assert form.getlist("priority") == ["2"]
    assert form.getlist("due") == [(dt.date(2024, 1, 3)).isoformat()]


def test_werkzeug_multidict(build: Build) -> None:
    datastructures = pytest.importorskip("werkzeug.datastructures")
    rr = build(SECTION, **{"defaults": {**SECTION, "missing": ["empty"]}})
    form: Any = datastructures.MultiDict([("title", "Fix"), ("status", "")])
    rr_defaults.populate_form(form, rr.models.Job)
    assert form.getlist("status") == ["pending"]
    assert form.getlist("priority") == ["2"]


def test_empty_values_count_as_missing_only_when_configured(build: Build) -> None:
    rr = build(SECTION)
    form = {"status": "", "title": "Fix"}
    rr_defaults.populate_form(form, rr.models.Job)
    assert form["status"] == ""
    rr = build({**SECTION, "missing": ["empty"]})
    form = {"status": "", "title": "Fix"}
    rr_defaults.populate_form(form, rr.models.Job)
    assert form["status"] == "pending"
    multi = MultiValueForm([("status", "")])
    rr_defaults.populate_form(multi, rr.models.Job)
    assert multi.getlist("status") == ["pending"]


def test_form_population_can_be_switched_off(build: Build) -> None:
    rr = build({**SECTION, "apply_on_form_population": False})
    form: dict[str, str] = {}
    rr_defaults.populate_form(form, rr.models.Job)
    assert form == {}
    assert rr.models.Job.new().priority == 2  # creation still applies them


def test_something_that_is_not_a_form_is_refused(build: Build) -> None:
    rr = build(SECTION)
    with pytest.raises(TypeError, match="dict or a multi-value form"):
        rr_defaults.populate_form(["title"], rr.models.Job)
