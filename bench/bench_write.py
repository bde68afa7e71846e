"""Writing one row: ``Job.update(key, values)`` against what a user would write instead.

Each call updates one row in its own transaction, on SQLite and PostgreSQL (when
reachable):

- ``raw``: the DB-API driver, ``UPDATE jobs SET status = ? WHERE id = ?`` and ``commit()``;
- ``core``: SQLAlchemy Core, an ``update()`` built per call in ``engine.begin()`` (for
  reference: what most hand-written data layers do);
- ``rr``: ``Job.update(key, {"status": ...})`` with rr-sqlalchemy and no other plugin: the
  whole write pipeline (row read and locked, hooks, validation, optimistic lock check,
  the stored row read back, commit).

Every contender works on the same database file (in WAL mode, which the store sets and
the file keeps) with SQLite's default ``synchronous = FULL``: a commit waits for the disk,
as a durable commit must. ``overhead`` is rr's time minus raw's: the price of the
pipeline in microseconds. A second SQLite row relaxes every contender to
``synchronous = NORMAL`` (commits no longer wait for the disk) to show that overhead
alone. Target (issue 2): rr <= 1.5x raw, with durable commits.

Times are the best of the alternating rounds (``rr / raw, best round``) and their median
(``median rr / raw``): a durable commit and a network round trip vary by nature, and on a
machine whose flushes are fast (tens of microseconds) both ratios move by about 0.1 from
run to run. The target is judged on the median: rr's overhead is added to the same
flush or round trip raw waits for, so the best-round ratio sets it against the luckiest
wait raw ever got (say 116 µs against 75 where the typical rounds are 140 against 100)
and reads higher than what a write typically costs.
Results: ``bench/results/write.{json,md}``.
"""

from __future__ import annotations

import itertools
import sqlite3
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

from common import databases, interleaved_rounds, markdown_table, ratios, write_results
from reactive_record import ReactiveRecord

ROWS = 1_000
CALLS = 20
ROUNDS = 100
FIELDS = {
    "title": {"type": "string", "length": 200, "null": False},
    "status": {"type": "string", "null": False},
    "priority": "integer",
    "client_id": "integer",
    "due_date": "date",
    "created_at": "datetime",
    "lock_version": "integer",
}
MODELS = {"Job": {"table": "jobs", "fields": FIELDS}}
NORMAL = "PRAGMA synchronous = NORMAL"


def relaxed(engine: sa.Engine) -> None:
    """Make ``engine``'s SQLite connections commit without waiting for the disk."""
    sa.event.listen(engine, "connect", lambda connection, _: connection.execute(NORMAL))
    engine.dispose()


def contenders(name: str, rr: ReactiveRecord, sync: bool) -> dict[str, Callable[[], Any]]:
    """The three ways to update one row; each call updates the next row."""
    sa_url = rr.store.engine.url  # type: ignore[attr-defined]
    if name == "sqlite":
        raw = sqlite3.connect(sa_url.database)
        sql = "UPDATE jobs SET status = ? WHERE id = ?"
        engine = sa.create_engine(sa_url)
        if not sync:
            raw.execute(NORMAL)
            relaxed(engine)
            relaxed(rr.store.engine)  # type: ignore[attr-defined]
            rr.store.close()  # the connection the store keeps for its next write, too
    else:
        import psycopg

        raw = psycopg.connect(
            host=sa_url.host, port=sa_url.port, user=sa_url.username, dbname=sa_url.database
        )
        sql = "UPDATE jobs SET status = %s WHERE id = %s"
        engine = sa.create_engine(sa_url)
    table = rr.metadata.tables["jobs"]
    jobs = rr.models.Job
    keys = {name: itertools.cycle(range(1, ROWS + 1)) for name in ("raw", "core", "rr")}
    # A value never written before: an UPDATE that leaves a row unchanged is not a write
    # to SQLite (no page changes, no sync), which would flatter whoever drew it.
    fresh = (f"status {n}" for n in itertools.count())

    def run_raw() -> None:
        cursor = raw.cursor()
        cursor.execute(sql, (next(fresh), next(keys["raw"])))
        cursor.close()
        raw.commit()

    def run_core() -> None:
        with engine.begin() as connection:
            connection.execute(
                sa.update(table).where(table.c.id == next(keys["core"])).values(status=next(fresh))
            )

    def run_rr() -> None:
        jobs.update(next(keys["rr"]), {"status": next(fresh)})

    return {"raw": run_raw, "core": run_core, "rr": run_rr}


def main() -> None:
    """Run every database; write the results."""
    results: dict[str, Any] = {}
    table = []
    configurations = (
        (name, url, sync)
        for name, url in databases()
        for sync in ((True, False) if name == "sqlite" else (True,))
    )
    for name, url, sync in configurations:
        rr = ReactiveRecord(database=url, models=MODELS, plugins=["sqlalchemy"])
        rr.create_tables()
        with rr.transaction() as tx:
            for i in range(ROWS):
                tx.insert(rr.model_definition("Job"), {"title": f"Job {i}", "status": "pending"})
        runs = contenders(name, rr, sync)
        if not sync:
            name = "sqlite, synchronous=NORMAL (not durable: the pure overhead)"
        rounds = interleaved_rounds(runs, rounds=ROUNDS, number=CALLS)
        times = {k: min(v) for k, v in rounds.items()}
        typical = {k: statistics.median(v) for k, v in rounds.items()}
        vs_raw = ratios(times, "raw")
        overhead = times["rr"] - times["raw"]
        results[name] = {
            "microseconds_per_update": {k: round(v, 1) for k, v in times.items()},
            "median_microseconds_per_update": {k: round(v, 1) for k, v in typical.items()},
            "rr_overhead_microseconds": round(overhead, 1),
            "ratio_vs_raw": vs_raw,
            "median_ratio_vs_raw": ratios(typical, "raw"),
        }
        table.append(
            [name, *(f"{times[k]:.0f}" for k in ("raw", "core", "rr")), f"{overhead:.0f}",
             f"{vs_raw['rr']:.2f}x", f"{typical['rr'] / typical['raw']:.2f}x",
             f"{vs_raw['core']:.2f}x"]
        )  # fmt: skip
        rr.close()
    markdown = (
        "## Updating one row per transaction: `Job.update(key, values)`\n\n"
        + markdown_table(
            [
                "database",
                "raw µs",
                "core µs",
                "rr µs",
                "overhead µs",
                "rr / raw, best round",
                "median rr / raw (≤ 1.5)",
                "core / raw",
            ],
            table,
        )
    )
    write_results(
        "write", {"calls_per_round": CALLS, "rounds": ROUNDS, "results": results}, markdown
    )


if __name__ == "__main__":
    main()
