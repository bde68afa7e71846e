"""``reactive-record demo``: a field-service app built, seeded and walked through.

The demo collects the steps and model sections installed plugins register through
``rr_demo_steps``, merges those sections into the demo's models, builds the instance on
embedded SQLite in a temporary folder (the memory store when rr-sqlalchemy is absent),
seeds it, runs the core's steps, then each plugin's, each under its own heading. It never
imports a plugin: plugins meet it only through the hook.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .actors import SYSTEM
from .core import ReactiveRecord
from .demo_app import MODELS, seed
from .errors import ConfigError, PluginNotInstalled, ReactiveRecordError
from .plugins import BUILTIN_PREFIX, make_plugin_manager
from .records import Record
from .text_table import MAX_CELL, cell, render_table

DATABASE_FILE = "fieldservice.db"


@dataclass(frozen=True)
class Step:
    """One titled step of the demo; ``run(demo)`` prints what it shows."""

    title: str
    run: Callable[[Demo], None]


class Demo:
    """What every step receives: the seeded instance, its users, and ways to print."""

    def __init__(
        self, rr: ReactiveRecord, users: Mapping[str, Record], echo: Callable[[str], None]
    ) -> None:
        self.rr = rr
        self.users = dict(users)
        self._echo = echo

    def say(self, text: str = "") -> None:
        """Print a line of explanation."""
        self._echo(text)

    def heading(self, title: str) -> None:
        """Print a step's heading."""
        self._echo("")
        self._echo(click.style(f"== {title} ==", bold=True))

    def table(
        self, rows: Any, columns: Sequence[str] | None = None, max_width: int | None = MAX_CELL
    ) -> None:
        """Print records (or any mappings) as a table; one record prints as one row."""
        if isinstance(rows, Mapping):
            rows = [rows]
        self._echo(render_table(rows, columns, max_width))

    def show(self, code: str, value: Any, columns: Sequence[str] | None = None) -> None:
        """Print a line of Python and its result: a table for records, else the value."""
        self._echo(click.style(f">>> {code}", fg="cyan"))
        if isinstance(value, Record) or (
            isinstance(value, (tuple, list)) and value and all(isinstance(v, Record) for v in value)
        ):
            self.table(value, columns)
        elif isinstance(value, tuple) and not value:
            self._echo("(no rows)")
        else:
            self._echo(repr(value) if not isinstance(value, (list, tuple)) else _listing(value))

    def fails(self, code: str, attempt: Callable[[], Any]) -> ReactiveRecordError:
        """Run ``attempt``, which must raise a ReactiveRecordError, and print the error."""
        self._echo(click.style(f">>> {code}", fg="cyan"))
        try:
            attempt()
        except ReactiveRecordError as exc:
            self._echo(click.style(f"{type(exc).__name__}: {exc}", fg="red"))
            return exc
        raise AssertionError(f"the demo expected `{code}` to fail, and it did not")


def _listing(values: Sequence[Any]) -> str:
    return "[" + ", ".join(cell(v) if not isinstance(v, str) else repr(v) for v in values) + "]"


class PluginSteps:
    """What ``rr_demo_steps`` plugins registered: their steps and their model sections."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.sections: list[tuple[str, Mapping[str, Any]]] = []

    def register(
        self,
        title: str,
        step: Callable[[Demo], None],
        models: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """The ``register`` callback ``rr_demo_steps`` receives."""
        self.steps.append(Step(title, step))
        for name, section in (models or {}).items():
            if name not in MODELS:
                raise ConfigError(
                    f"demo step {title!r}: models", name, f"a demo model ({', '.join(MODELS)})"
                )
            self.sections.append((name, section))

    def models(self) -> dict[str, Any]:
        """The demo's models with every plugin's sections merged in."""
        merged = copy.deepcopy(MODELS)
        for name, section in self.sections:
            _merge(merged[name], section)
        return merged


def _merge(target: dict[str, Any], section: Mapping[str, Any]) -> None:
    # Tables merge key by key (two plugins may each add to `features`); values replace.
    for key, value in section.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def collect_plugin_steps() -> PluginSteps:
    """Ask every installed plugin for its demo steps and model sections."""
    found = PluginSteps()
    make_plugin_manager().hook.rr_demo_steps(register=found.register)
    return found


def open_instance(
    folder: Path, models: Mapping[str, Any], say: Callable[[str], None]
) -> ReactiveRecord:
    """The demo's instance on SQLite in ``folder``; the memory store without rr-sqlalchemy."""
    config = {"system_writes": True}
    url = f"sqlite:///{folder / DATABASE_FILE}"
    try:
        rr = ReactiveRecord(database=url, models=models, config=config)
    except PluginNotInstalled as exc:
        if exc.distribution != "rr-sqlalchemy":
            raise
        say("rr-sqlalchemy is not installed, so the demo runs on the memory store (memory://);")
        say("`pip install rr-sqlalchemy` to run it on embedded SQLite.")
        return ReactiveRecord(database="memory://", models=models, config=config)
    say(f"Database: {url}")
    return rr


def run(keep: bool = False, echo: Callable[[str], None] = click.echo) -> int:
    """Build, seed and walk through the demo app; the number of steps that failed."""
    from .demo_steps import CORE_STEPS

    started = time.perf_counter()
    plugin_steps = collect_plugin_steps()
    folder = Path(tempfile.mkdtemp(prefix="reactive-record-demo-"))
    database = folder / DATABASE_FILE
    kept = False
    try:
        with open_instance(folder, plugin_steps.models(), echo) as rr:
            rr.create_tables()
            with rr.acting_as(SYSTEM):
                users = seed(rr)
            demo = Demo(rr, users, echo)
            echo(_summary(rr))
            failed = _run_steps(demo, CORE_STEPS, as_system=True)
            failed += _run_steps(demo, plugin_steps.steps, as_system=False)
        kept = keep and database.exists()
    finally:
        # A run that broke off is never kept: nobody would be told where it is.
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
    echo("")
    seconds = time.perf_counter() - started
    steps = len(CORE_STEPS) + len(plugin_steps.steps)
    echo(f"Demo finished: {steps - failed} of {steps} steps ran cleanly in {seconds:.1f}s.")
    if kept:
        echo(f"The demo's database is kept: {database} (sqlite:///{database})")
    elif keep:
        echo("Nothing to keep: the memory store lived only in this process.")
    return failed


def _summary(rr: ReactiveRecord) -> str:
    names = [n for n, _ in rr.plugin_manager.list_name_plugin() if not n.startswith(BUILTIN_PREFIX)]
    return f"Plugins: {', '.join(sorted(names)) if names else 'none (rr-core alone)'}"


def _run_steps(demo: Demo, steps: Sequence[Step], *, as_system: bool) -> int:
    failed = 0
    for step in steps:
        demo.heading(step.title)
        try:
            if as_system:
                # The core's walkthrough is back-office work; plugin steps pick their users.
                with demo.rr.acting_as(SYSTEM):
                    step.run(demo)
            else:
                step.run(demo)
        except Exception as exc:  # a broken step is reported and the demo goes on
            failed += 1
            demo.say(click.style(f"step failed: {type(exc).__name__}: {exc}", fg="red", bold=True))
    return failed
