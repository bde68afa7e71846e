"""Reading many rows: ``Job.where(...).all()`` against what a user would write instead.

For 10,000 and 100,000 rows, on SQLite and PostgreSQL (when reachable), three ways to
read the same rows with the same SQL (``WHERE status = ? ORDER BY id``):

- ``raw``: the DB-API driver, ``cursor.execute`` + ``fetchall`` (tuples, no conversion);
- ``core``: SQLAlchemy Core, a prebuilt ``select()`` and ``.mappings()`` to dicts;
- ``rr``: ``Job.where(status=...).all()`` with rr-sqlalchemy and no other plugin
  (Records with aware UTC datetimes and dates).

Targets (issue 2): rr <= 1.0x core and <= 2x raw. Results: ``bench/results/read.{json,md}``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

from common import databases, interleaved, markdown_table, ratios, write_results
from reactive_record import ReactiveRecord

SIZES = {"done": 10_000, "active": 100_000}
FIELDS = {
    "title": {"type": "string", "length": 200, "null": False},
    "status": {"type": "string", "null": False},
    "priority": "integer",
    "client_id": "integer",
    "user_id": "integer",
    "due_date": "date",
    "created_at": "datetime",
    "lock_version": "integer",
}
MODELS = {"Job": {"table": "jobs", "fields": FIELDS, "indexes": [["status"]]}}
COLUMNS = ["id", *FIELDS]
SQL = f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE status = {{}} ORDER BY id"


def populate(rr: ReactiveRecord) -> None:
    """Insert the rows with Core's executemany (setup, not measured)."""
    table = rr.metadata.tables["jobs"]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    rows = []
    for status, count in SIZES.items():
        for i in range(count):
            rows.append(
                {
                    "title": f"Job {status} {i}",
                    "status": status,
                    "priority": i % 5,
                    "client_id": i % 50,
                    "user_id": None if i % 7 == 0 else i % 30,
                    "due_date": dt.date(2024, 1, 1) + dt.timedelta(days=i % 365),
                    "created_at": start + dt.timedelta(seconds=i, microseconds=i % 1000),
                    "lock_version": 0,
                }
            )
    engine = sa.create_engine(rr.store.engine.url)  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(sa.insert(table), rows)
    engine.dispose()


def contenders(
    name: str, url: str, rr: ReactiveRecord, status: str
) -> dict[str, Callable[[], Any]]:
    """The three ways to read the rows of ``status``."""
    sa_url = rr.store.engine.url  # type: ignore[attr-defined]
    if name == "sqlite":
        raw = sqlite3.connect(sa_url.database)
        raw_sql = SQL.format("?")
    else:
        import psycopg

        raw = psycopg.connect(
            host=sa_url.host, port=sa_url.port, user=sa_url.username, dbname=sa_url.database,
            autocommit=True,
        )  # fmt: skip
        raw_sql = SQL.format("%s")
    engine = sa.create_engine(sa_url)
    table = rr.metadata.tables["jobs"]
    select = sa.select(table).where(table.c.status == status).order_by(table.c.id)
    jobs = rr.models.Job

    def run_raw() -> list[Any]:
        cursor = raw.cursor()
        cursor.execute(raw_sql, (status,))
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def run_core() -> list[dict[str, Any]]:
        with engine.connect() as connection:
            return [dict(row) for row in connection.execute(select).mappings()]

    def run_rr() -> Any:
        return jobs.where(status=status).all()

    return {"raw": run_raw, "core": run_core, "rr": run_rr}


def main() -> None:
    """Run every database and size; write the results."""
    results: dict[str, Any] = {}
    table = []
    for name, url in databases():
        rr = ReactiveRecord(database=url, models=MODELS, plugins=["sqlalchemy"])
        rr.create_tables()
        populate(rr)
        results[name] = {}
        for status, count in SIZES.items():
            runs = contenders(name, url, rr, status)
            assert len(runs["rr"]()) == len(runs["raw"]()) == count
            times = interleaved(runs, rounds=15 if count <= 10_000 else 7)
            vs_core = ratios(times, "core")
            vs_raw = ratios(times, "raw")
            results[name][str(count)] = {
                "microseconds_per_row": {k: round(v / count, 3) for k, v in times.items()},
                "milliseconds": {k: round(v / 1000, 2) for k, v in times.items()},
                "ratio_vs_core": vs_core,
                "ratio_vs_raw": vs_raw,
            }
            table.append(
                [
                    name,
                    f"{count:,}",
                    *(f"{times[k] / count:.2f}" for k in ("raw", "core", "rr")),
                    f"{vs_core['rr']:.2f}x",
                    f"{vs_raw['rr']:.2f}x",
                    f"{vs_raw['core']:.2f}x",
                ]
            )
        rr.close()
    markdown = "## Reading rows: `Job.where(status=...).all()`\n\n" + markdown_table(
        [
            "database", "rows", "raw µs/row", "core µs/row", "rr µs/row",
            "rr / core (≤ 1.0)", "rr / raw (≤ 2.0)", "core / raw",
        ],
        table,
    )  # fmt: skip
    write_results("read", {"results": results}, markdown)


if __name__ == "__main__":
    main()
