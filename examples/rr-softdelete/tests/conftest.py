"""Fixtures: a ReactiveRecord on each store, with an injectable clock.

The plugin is found through its installed entry point, as a user's would be.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reactive_record import ReactiveRecord

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {"title": "string", "status": "string", "deleted_at": "datetime"},
        "features": {"softdelete": True},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
    },
    "Task": {
        "fields": {"job_id": "integer", "title": "string", "removed_at": "datetime"},
        "features": {"softdelete": True},
        "softdelete": {"field": "removed_at"},
    },
    "Note": {"fields": {"body": "string"}},
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def store_url(kind: str, folder: Path) -> str:
    """A fresh database of ``kind``: the memory store, or an SQLite file in ``folder``."""
    if kind == "memory":
        return "memory://"
    if importlib.util.find_spec("rr_sqlalchemy") is None:
        pytest.skip("SQLite needs rr-sqlalchemy, which is not installed")
    return f"sqlite:///{folder / 'app.db'}"


@pytest.fixture(params=["memory", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs on the memory store and on SQLite."""
    return store_url(request.param, tmp_path)


@pytest.fixture
def clock() -> Clock:
    """The instance's clock: soft deletes are stamped with its time."""
    return Clock(START)


@pytest.fixture
def rr(database: str, clock: Clock) -> Iterator[ReactiveRecord]:
    """An instance with every installed plugin, its tables created."""
    with ReactiveRecord(database=database, models=MODELS, clock=clock) as instance:
        instance.create_tables()
        yield instance
