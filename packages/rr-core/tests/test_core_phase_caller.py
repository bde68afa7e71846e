"""How the engine calls its per-row write phases: pluggy's caller, or a lone plain function.

``phase_caller`` may skip pluggy's dispatch only where pluggy would call exactly one
function with the same arguments; every other case, and hook tracing, keeps pluggy.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import pluggy
import pytest
from reactive_record import ReactiveRecord, hookspecs
from reactive_record.plugins import TRACE_ENV, phase_caller

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)


def manager(*plugins: object) -> pluggy.PluginManager:
    """A bare manager with rr's hook specs and ``plugins`` (no built-ins, no entry points)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return pm


class Plain:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    @hookimpl
    def rr_validate_change(self, change: Any) -> None:
        self.seen.append(change)


class Wrapping:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl(wrapper=True)
    def rr_validate_change(self, change: Any) -> Generator[None, Any, Any]:
        self.seen.append("before")
        result = yield
        self.seen.append("after")
        return result


class Partial:
    """Takes fewer arguments than the spec gives (pluggy allows it)."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def rr_on_write(self, change: Any) -> None:
        self.calls += 1


def test_no_implementation_is_no_phase() -> None:
    assert phase_caller(manager().hook.rr_validate_change) is None


def test_a_lone_plain_implementation_is_called_directly() -> None:
    plain = Plain()
    call = phase_caller(manager(plain).hook.rr_validate_change)
    assert call is not None
    assert call(change="c") is None
    assert plain.seen == ["c"]


def test_several_implementations_go_through_pluggy_in_its_order() -> None:
    first, second = Plain(), Plain()
    pm = manager(first, second)
    call = phase_caller(pm.hook.rr_validate_change)
    assert call is pm.hook.rr_validate_change
    call(change="c")
    assert first.seen == second.seen == ["c"]


def test_a_wrapper_keeps_pluggy() -> None:
    plain, wrapping = Plain(), Wrapping()
    pm = manager(plain, wrapping)
    assert phase_caller(pm.hook.rr_validate_change) is pm.hook.rr_validate_change
    lone = manager(Wrapping())
    assert phase_caller(lone.hook.rr_validate_change) is lone.hook.rr_validate_change


def test_an_implementation_taking_fewer_arguments_keeps_pluggy() -> None:
    partial = Partial()
    pm = manager(partial)
    call = phase_caller(pm.hook.rr_on_write)
    assert call is pm.hook.rr_on_write
    assert call is not None
    call(change="c", tx="t")  # a direct call with both arguments would raise TypeError
    assert partial.calls == 1


def test_an_exception_propagates_as_it_would_through_pluggy() -> None:
    class Refusing:
        @hookimpl
        def rr_validate_change(self, change: Any) -> None:
            raise ValueError(f"refused {change}")

    call = phase_caller(manager(Refusing()).hook.rr_validate_change)
    assert call is not None
    with pytest.raises(ValueError, match="refused c"):
        call(change="c")


def test_tracing_keeps_every_write_phase_in_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TRACE_ENV, "1")
    rr = ReactiveRecord(
        database="memory://", models={"Job": {"fields": {"title": "string"}}}, plugins=[]
    )
    rr.create_tables()
    with caplog.at_level(logging.DEBUG, logger="reactive_record.hooks"):
        rr.models.Job.create({"title": "traced"})
    traced = [r.getMessage().split(" ->")[0] for r in caplog.records]
    for phase in ("rr_fill_change", "rr_validate_change", "rr_authorize_change"):
        assert f"call {phase}" in traced
    rr.close()
