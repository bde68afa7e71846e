"""DESIGN.md §10, the budgets every package keeps, measured in one run.

1. A read with every installed plugin and every feature on costs ≤ 1.10x the same read
   with no plugins (only the store).
2. Records cost ≤ 100 KB per 1,000 beyond the row data: the memory of the Records a
   read returns, less the memory of the same rows as plain dicts of the same values.

Run ``python bench/bench_budget.py``; results go to ``bench/results/budget.{json,md}``.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from common import databases, interleaved, markdown_table, write_results
from reactive_record import SYSTEM, ReactiveRecord

ROWS = 10_000
PAGE = 1_000
FEATURES = ("activity", "permissions", "defaults")


def models(features: tuple[str, ...]) -> dict[str, Any]:
    """One Job model; ``features`` on, with rules that let a tenant member read."""
    job: dict[str, Any] = {
        "tenant_field": "client_id",
        "fields": {
            "title": {"type": "string", "length": 200, "null": False},
            "status": {"type": "string", "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "client_id": "integer",
            "user_id": "integer",
            "description": "text",
            "due_date": "date",
        },
        "features": {name: True for name in features},
    }
    if "permissions" in features:
        job["permissions"] = {
            "read": {"type": "client_member"},
            "create": {"type": "client_member"},
        }
    return {"Job": job}


def installed() -> tuple[str, ...]:
    """The first-party features whose plugins are installed here."""
    return tuple(name for name in FEATURES if find_spec(f"rr_{name}") is not None)


def seed(rr: ReactiveRecord) -> None:
    """``ROWS`` jobs in two tenants."""
    with rr.transaction(), rr.acting_as(SYSTEM):
        for number in range(ROWS):
            rr.models.Job.create(
                {
                    "title": f"job {number}",
                    "client_id": 1 + number % 2,
                    "user_id": number % 7,
                    "description": "x" * 40,
                }
            )


def memory_of(build: Callable[[], Any]) -> int:
    """Bytes still allocated by what ``build`` returns (tracemalloc, after a collect)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return after - before


def measure(name: str, url: str) -> dict[str, Any]:
    """Both budgets on one database."""
    features = installed()
    user = {"id": 1, "role": "admin", "client_id": 1}
    plugins = ["sqlalchemy", *features]
    config = {"system_writes": True}
    with (
        ReactiveRecord(url, models(features), plugins, config=config) as every,
        ReactiveRecord(url, models(()), ["sqlalchemy"], config=config) as bare,
    ):
        every.create_tables()
        seed(every)
        reads = {
            "no_plugins": bare.models.Job.where(client_id=1).order("id").limit(PAGE).all,
            "every_plugin": every.models.Job.with_options(user=user)
            .where(client_id=1)
            .order("id")
            .limit(PAGE)
            .all,
        }
        micro = interleaved(reads, rounds=9)
        records = memory_of(reads["no_plugins"])
        # The same rows as plain dicts of the same Python values: the row data itself.
        plain = memory_of(lambda: [dict(r) for r in reads["no_plugins"]()])
    beyond = (records - plain) / PAGE * 1000 / 1024
    return {
        "database": name,
        "features": list(features),
        "microseconds": {k: round(v, 1) for k, v in micro.items()},
        "read_ratio": round(micro["every_plugin"] / micro["no_plugins"], 3),
        "kb_per_1000_records_beyond_rows": round(beyond, 1),
    }


def main() -> None:
    """Measure on SQLite (and PostgreSQL when reachable) and write the results."""
    results = [measure(name, url) for name, url in databases()]
    table = markdown_table(
        [
            "database",
            "features on",
            "read with every plugin / none (≤ 1.10x)",
            "KB / 1,000 records beyond rows (≤ 100)",
        ],
        [
            (
                r["database"],
                ", ".join(r["features"]) or "none installed",
                f"{r['read_ratio']:.2f}x",
                f"{r['kb_per_1000_records_beyond_rows']:.0f}",
            )
            for r in results
        ],
    )
    write_results("budget", {"rows": ROWS, "page": PAGE, "results": results}, table)


if __name__ == "__main__":
    main()
