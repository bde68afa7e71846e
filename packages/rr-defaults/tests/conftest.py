"""Fixtures of rr-defaults' own tests: a Job model with defaults, on the memory store."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from reactive_record import ReactiveRecord

HERE = Path(__file__).parent

JOB: dict[str, Any] = {
    "table": "jobs",
    "fields": {
        "title": {"type": "string", "length": 200},
        "status": {"type": "string", "default": "pending"},
        "priority": "integer",
        "due": "date",
        "code": "string",
        "meta": "json",
        "ratio": "decimal",
        "done": "boolean",
        "client_id": "integer",
    },
    "features": {"defaults": True},
}


def job_model(section: Mapping[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """The Job model with ``section`` as its ``defaults`` table and other keys replaced."""
    model = copy.deepcopy(JOB)
    if section is not None:
        model["defaults"] = dict(section)
    model.update(changes)
    return model


@pytest.fixture
def build() -> Iterator[Callable[..., ReactiveRecord]]:
    """``build(section, url="memory://", config=None, **job_changes)``: a started instance."""
    made: list[ReactiveRecord] = []

    def make(
        section: Mapping[str, Any] | None = None,
        url: str = "memory://",
        config: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> ReactiveRecord:
        rr = ReactiveRecord(
            database=url,
            models={"Job": job_model(section, **changes)},
            plugins=["defaults"] if url == "memory://" else ["sqlalchemy", "defaults"],
            config=config,
            root=HERE,
        )
        made.append(rr)
        rr.create_tables()
        return rr

    yield make
    for rr in made:
        rr.close()
