"""rr-defaults benchmarks, as ratios measured in one run (embedded SQLite).

1. ``Job.new(...)`` with ten defaulted fields (schema literals read by reflection, a
   Decimal, a fresh JSON object, a time function on the clock, configured values, a
   computed default): target <= 10 us per record (the seed allowed 0.5 ms). Baselines:
   the same ``new()`` with no defaults plugin, and the hand-written dict merge a user
   would write instead.
2. Default application over 10,000 records: ``new()`` 10,000 times, and 10,000 creates
   in one transaction with defaults applied, against the same creates with the plugin
   off (the database fills the defaults itself).
3. DESIGN.md §10: a read with every installed plugin loaded and the defaults feature on
   (``with_defaults()`` reads too), against the same read with only the store
   (target <= 1.10x).

Results are printed and written to ``bench/results/defaults.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import rr_defaults
import sqlalchemy as sa
from reactive_record import ReactiveRecord, Record

# common.py, and this module for the computed default it names (bench_defaults:...).
sys.path.insert(0, str(Path(__file__).parent))

from common import installed_first_party, interleaved_rounds, sqlite_url

RESULTS = Path(__file__).parent / "results" / "defaults.json"
RECORDS = 10_000
FIRST_PARTY = ("sqlalchemy", "permissions", "activity", "defaults")

#: The table as it exists: ten columns with defaults of the common kinds.
TABLE = """CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    title VARCHAR(200),
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    priority INTEGER NOT NULL DEFAULT 2,
    kind VARCHAR(20) DEFAULT 'repair',
    amount NUMERIC(10, 2) DEFAULT 0.00,
    billable BOOLEAN DEFAULT TRUE,
    meta JSON DEFAULT '{"tags": []}',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    region VARCHAR(20),
    source VARCHAR(20),
    due DATE,
    client_id INTEGER
)"""
SECTION = {
    "values": {"region": "north"},
    "overrides": {"source": "web"},
    "computed": {"due": "bench_defaults:due_in_a_week"},
}
#: What a user would write by hand instead: the same ten defaults as a dict.
HAND_WRITTEN = {
    "status": "pending",
    "priority": 2,
    "kind": "repair",
    "amount": Decimal("0.00"),
    "billable": True,
    "region": "north",
    "source": "web",
}


def due_in_a_week(record: Mapping[str, Any], user: Any) -> dt.date:
    """The computed default of the benchmark: a week from today."""
    return dt.date.today() + dt.timedelta(days=7)


@contextmanager
def database() -> Iterator[str]:
    """A SQLite file holding the existing ``jobs`` table."""
    with sqlite_url() as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql(TABLE)
        engine.dispose()
        yield url


def instance(url: str, plugins: list[str], defaults: bool) -> ReactiveRecord:
    """Job reflected from the table; ``defaults`` turns the feature on."""
    model: dict[str, Any] = {"table": "jobs"}
    if defaults:
        model["features"] = {"defaults": True}
        model["defaults"] = SECTION
    return ReactiveRecord(
        database=url, models={"Job": model}, plugins=plugins, root=Path(__file__).parent
    )


def timed(run: Callable[[], Any], calls: int) -> float:
    """Seconds per call over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - started) / calls


def interleaved(
    cases: Mapping[str, Callable[[], Any]], rounds: int, per_round: int
) -> dict[str, float]:
    """Seconds per call of each case: the fastest of ``rounds`` rounds, cases alternating."""
    taken = interleaved_rounds(cases, rounds=rounds, number=per_round)
    return {name: min(values) / 1e6 for name, values in taken.items()}


def micro(seconds: Mapping[str, float]) -> dict[str, float]:
    """Seconds as microseconds, rounded."""
    return {name: round(value * 1e6, 2) for name, value in seconds.items()}


def measure_new(plain: ReactiveRecord, defaulted: ReactiveRecord) -> dict[str, Any]:
    """Scenario 1: one unsaved record with ten defaults."""
    with_defaults = defaulted.models.Job
    filled = set(rr_defaults.defaults_for(with_defaults))
    assert len(filled) == 10, sorted(filled)
    clock = defaulted.clock

    def by_hand() -> Record:
        values = dict(HAND_WRITTEN)
        values["meta"] = {"tags": []}
        values["created_at"] = clock().replace(microsecond=0)
        values["due"] = due_in_a_week(values, None)
        values["title"] = "Fix"
        return Record("Job", values)

    seconds = interleaved(
        {
            "new_with_10_defaults": lambda: with_defaults.new(title="Fix"),
            "new_without_plugin": lambda: plain.models.Job.new(title="Fix"),
            "hand_written_dict": by_hand,
        },
        rounds=15,
        per_round=2_000,
    )
    per_record = seconds["new_with_10_defaults"] * 1e6
    return {
        "defaulted_fields": len(filled),
        "microseconds": micro(seconds),
        "ratio_vs_new_without_plugin": round(
            seconds["new_with_10_defaults"] / seconds["new_without_plugin"], 2
        ),
        "ratio_vs_hand_written_dict": round(
            seconds["new_with_10_defaults"] / seconds["hand_written_dict"], 2
        ),
        "target_microseconds": 10,
        "meets_target": per_record <= 10,
    }


def measure_application(plain: ReactiveRecord, defaulted: ReactiveRecord) -> dict[str, Any]:
    """Scenario 2: defaults applied to 10,000 records, unsaved and created."""

    def new_all() -> None:
        job = defaulted.models.Job
        for n in range(RECORDS):
            job.new(title=f"job {n}")

    def create_all(rr: ReactiveRecord) -> Callable[[], None]:
        def run() -> None:
            with rr.transaction():
                for n in range(RECORDS):
                    rr.models.Job.create({"title": f"job {n}", "client_id": 1})

        return run

    seconds = {
        "new_10000": min(timed(new_all, 1) for _ in range(3)),
        "create_10000_defaults_applied": min(timed(create_all(defaulted), 1) for _ in range(3)),
        "create_10000_database_fills": min(timed(create_all(plain), 1) for _ in range(3)),
    }
    return {
        "records": RECORDS,
        "milliseconds": {name: round(value * 1e3, 1) for name, value in seconds.items()},
        "microseconds_per_record": {
            name: round(value * 1e6 / RECORDS, 2) for name, value in seconds.items()
        },
        "create_ratio_defaults_applied_vs_database_fills": round(
            seconds["create_10000_defaults_applied"] / seconds["create_10000_database_fills"], 3
        ),
    }


def measure_every_plugin(url: str) -> dict[str, Any]:
    """Scenario 3: the same read with every installed plugin and defaults on, and with none."""
    plugins = installed_first_party(FIRST_PARTY)
    with instance(url, ["sqlalchemy"], False) as bare, instance(url, plugins, True) as every:
        cases = {
            "no_plugins": bare.models.Job.where(client_id=1).order("id").limit(50).all,
            "every_plugin": every.models.Job.where(client_id=1).order("id").limit(50).all,
            "every_plugin_with_defaults": every.models.Job.with_defaults()
            .where(client_id=1)
            .order("id")
            .limit(50)
            .all,
        }
        seconds = interleaved(cases, rounds=15, per_round=300)
    ratio = seconds["every_plugin"] / seconds["no_plugins"]
    return {
        "plugins": plugins,
        "microseconds": micro(seconds),
        "ratio": round(ratio, 3),
        "ratio_with_defaults_read": round(
            seconds["every_plugin_with_defaults"] / seconds["no_plugins"], 3
        ),
        "target_ratio": 1.10,
        "meets_target": ratio <= 1.10,
    }


def main() -> None:
    """Run every scenario and write the results."""
    with database() as url:
        with (
            instance(url, ["sqlalchemy"], False) as plain,
            instance(url, ["sqlalchemy", "defaults"], True) as defaulted,
        ):
            new = measure_new(plain, defaulted)
            application = measure_application(plain, defaulted)
        every = measure_every_plugin(url)
    results = {
        "benchmark": "rr-defaults",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "database": "sqlite",
        "new": new,
        "application": application,
        "every_plugin_read": every,
    }
    print("new() with 10 defaults:")
    for name, value in new["microseconds"].items():
        print(f"  {name:28} {value:8.2f} us")
    print(f"  target <= 10 us: {'met' if new['meets_target'] else 'MISSED'}")
    print(f"{RECORDS} records:")
    for name, value in application["milliseconds"].items():
        print(f"  {name:32} {value:10.1f} ms")
    print(f"every plugin on ({', '.join(every['plugins'])}): {every['ratio']:.3f}x the bare read")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
