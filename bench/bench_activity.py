"""rr-activity benchmarks, as ratios measured in one run.

1. A single-field update through the engine: without the activity log, with it (target
   <= 1.6x), and with it on a chained model (HMAC chain: one more read per write);
   against the same update as one SQLAlchemy Core statement, and as an ORM update
   versioned by SQLAlchemy-Continuum on the same table (target: rr-activity at least
   2.5x faster than Continuum).
2. Entry generation, ``rr_activity.generate(...)`` (target <= 50 us).
3. DESIGN.md §10: a read of a logged model with rr-activity loaded and on, against the
   same read with only the store (target <= 1.10x).

SQLite always; PostgreSQL too when it is reachable (in its own database, dropped after).
Scenario 1 runs twice, every variant with the same settings each time: ``durable``, the
store's own (SQLite: WAL and its ``synchronous`` level, given to the baselines' engine
too; PostgreSQL: the server's), where one flush per commit weighs on every variant alike;
and ``no_flush`` (``PRAGMA synchronous = OFF`` / ``synchronous_commit = off`` on every
connection), which compares the work each library does. The targets are judged on
``durable``: the settings the store ships with, where the issue's own figure (Continuum
at 7-9x a Core update) was taken; ``no_flush`` shows the CPU each library spends.
Every update writes a value never written before (an UPDATE that rewrites a row's
current value changes no page and skips the flush, which once flattered the unlogged
update and let Continuum's ORM skip its UPDATE and its version rows altogether).
Results are printed and written to ``bench/results/activity.json``.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rr_activity
import sqlalchemy as sa
from reactive_record import ReactiveRecord
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, configure_mappers, mapped_column
from sqlalchemy_continuum import make_versioned, version_class

sys.path.insert(0, str(Path(__file__).parent))

from common import environment, interleaved_rounds, postgresql_url, sqlite_url

ROWS = 1_000
ROUNDS = 15
PER_ROUND = 200
RESULTS = Path(__file__).parent / "results" / "activity.json"
USER = {"id": 7, "client_id": 1}
os.environ.setdefault("RR_ACTIVITY_KEY", secrets.token_hex(16))

FIELDS = {
    "title": {"type": "string", "length": 100, "null": False},
    "status": {"type": "string", "length": 20, "null": False},
    "priority": {"type": "integer", "null": False},
    "client_id": {"type": "integer", "null": False},
    "user_id": "integer",
}


def job_model(table: str, activity: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Job table; ``activity`` (its section) turns the log on."""
    model: dict[str, Any] = {"table": table, "tenant_field": "client_id", "fields": FIELDS}
    if activity is not None:
        model["features"] = {"activity": True}
        model["activity"] = activity
    return model


# -- SQLAlchemy-Continuum: the same jobs table, mapped and versioned --------------------

make_versioned(user_cls=None)


class Base(DeclarativeBase):
    """The ORM base of the Continuum baseline."""


class ContinuumJob(Base):
    """``jobs`` as SQLAlchemy-Continuum versions it."""

    __tablename__ = "jobs"
    __versioned__: dict[str, Any] = {}

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20))
    priority: Mapped[int]
    client_id: Mapped[int]
    user_id: Mapped[int | None]


configure_mappers()


def seed(rr: ReactiveRecord, table: str) -> None:
    """``ROWS`` jobs, inserted in bulk with SQLAlchemy (setup, not measured)."""
    rows = [
        {"title": f"job {n}", "status": "active", "priority": 0, "client_id": 1, "user_id": 7}
        for n in range(ROWS)
    ]
    with rr.store.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(rr.metadata.tables[table].insert(), rows)


def interleaved(
    cases: dict[str, Callable[[], Any]], rounds: int, per_round: int
) -> dict[str, float]:
    """Median seconds per call of each case, measured in alternation (drift hits all alike)."""
    taken = interleaved_rounds(cases, rounds=rounds, number=per_round, warmup=20)
    return {name: statistics.median(values) / 1e6 for name, values in taken.items()}


#: Priorities never written before, shared by every contender: the core and Continuum
#: baselines update the same ``jobs`` rows as the unlogged model, and an UPDATE that
#: writes a row's current value changes no page (no WAL write, no flush) and would
#: flatter whoever came second.
FRESH = itertools.count(1)


def updater(handle: Any) -> Callable[[], Any]:
    """Each call sets a new priority on the next job, so every update changes a field."""
    counter = itertools.count(1)

    def run() -> Any:
        n = next(counter)
        return handle.update(n % ROWS + 1, {"priority": next(FRESH)}, user=USER)

    return run


NO_FLUSH = {"sqlite": "PRAGMA synchronous = OFF", "postgresql": "SET synchronous_commit = off"}


def on_connect(engine: sa.Engine, statement: str) -> None:
    """Run ``statement`` on each new connection of ``engine`` (its pool is emptied first)."""

    def run(connection: Any, record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute(statement)
        cursor.close()

    sa.event.listen(engine, "connect", run)
    engine.dispose()


def baseline_engine(rr: ReactiveRecord, url: str, flush: bool) -> sa.Engine:
    """The baselines' engine, set up as the store's is (and both without flush if asked)."""
    store: sa.Engine = rr.store.engine  # type: ignore[attr-defined]
    engine = sa.create_engine(store.url)
    kind = engine.dialect.name
    if not flush:
        on_connect(store, NO_FLUSH[kind])
        rr.store.close()  # the connection the store keeps for its next write, too
        on_connect(engine, NO_FLUSH[kind])
    elif kind == "sqlite":
        with store.connect() as connection:
            level = int(connection.exec_driver_sql("PRAGMA synchronous").scalar_one())
        on_connect(engine, f"PRAGMA synchronous = {level}")
    return engine


def core_updater(engine: sa.Engine, table: sa.Table) -> Callable[[], Any]:
    """The same update as one SQLAlchemy Core statement in a transaction."""
    counter = itertools.count(1)
    statement = table.update().where(table.c.id == sa.bindparam("key"))

    def run() -> None:
        n = next(counter)
        with engine.begin() as connection:
            connection.execute(statement, {"key": n % ROWS + 1, "priority": next(FRESH)})

    return run


def continuum_updater(engine: sa.Engine) -> Callable[[], Any]:
    """The same update through the ORM, versioned by SQLAlchemy-Continuum."""
    counter = itertools.count(1)

    def run() -> None:
        n = next(counter)
        with Session(engine) as session:
            job = session.get(ContinuumJob, n % ROWS + 1, with_for_update=True)
            assert job is not None
            job.priority = next(FRESH)
            session.commit()

    return run


def measure_updates(url: str) -> dict[str, Any]:
    """Scenario 1 on one database, ``durable`` and ``no_flush``."""
    return {"durable": measure_update_mode(url, True), "no_flush": measure_update_mode(url, False)}


def measure_update_mode(url: str, flush: bool) -> dict[str, Any]:
    """Every variant updates its own copy of the same table, in alternation."""
    models = {
        "Plain": job_model("jobs"),
        "Logged": job_model("logged_jobs", {"track_fields": list(FIELDS)}),
        "Chained": job_model("chained_jobs", {"track_fields": list(FIELDS), "chain": True}),
    }
    with ReactiveRecord(database=url, models=models, plugins=["sqlalchemy", "activity"]) as rr:
        rr.create_tables()
        if rr.models.Plain.count() == 0:  # the first mode seeds; the second reuses the rows
            for table in ("jobs", "logged_jobs", "chained_jobs"):
                seed(rr, table)
        engine = baseline_engine(rr, url, flush)
        versioned = [version_class(ContinuumJob).__table__, Base.metadata.tables["transaction"]]
        Base.metadata.create_all(engine, tables=versioned)
        cases = {
            "sqlalchemy_core_update": core_updater(engine, rr.metadata.tables["jobs"]),
            "without_log": updater(rr.models.Plain),
            "with_log": updater(rr.models.Logged),
            "with_log_chained": updater(rr.models.Chained),
            "sqlalchemy_continuum": continuum_updater(engine),
        }
        before = rr.models.ActivityLog.unscoped().where(entity_type="Logged").count()
        seconds = interleaved(cases, ROUNDS, PER_ROUND)
        logged = rr.models.ActivityLog.unscoped().where(entity_type="Logged").count() - before
        assert logged >= ROUNDS * PER_ROUND, "every measured update wrote its entry"
        assert rr_activity.verify(rr).ok
        engine.dispose()
    base = seconds["without_log"]
    with_log = seconds["with_log"]
    continuum = seconds["sqlalchemy_continuum"]
    return {
        "microseconds": {name: round(value * 1e6, 1) for name, value in seconds.items()},
        "ratio_vs_without_log": {name: round(value / base, 3) for name, value in seconds.items()},
        "with_log_vs_without_target": 1.6,
        "with_log_meets_target": with_log / base <= 1.6,
        "continuum_vs_with_log": round(continuum / with_log, 3),
        "continuum_vs_core": round(continuum / seconds["sqlalchemy_core_update"], 3),
        "faster_than_continuum_target": 2.5,
        "faster_than_continuum_meets_target": continuum / with_log >= 2.5,
    }


def measure_generate(url: str) -> dict[str, Any]:
    """Scenario 2: one client entry for a two-field change."""
    models = {"Job": job_model("jobs", {})}
    with ReactiveRecord(database=url, models=models, plugins=["sqlalchemy", "activity"]) as rr:
        rr.create_tables()
        job = rr.models.Job.create(
            {"title": "Fix", "status": "active", "priority": 1, "client_id": 1}, user=USER
        )
        changes = {"status": "done", "priority": 2}
        seconds = interleaved(
            {"generate": lambda: rr_activity.generate(rr, job, changes, USER)}, 15, 5_000
        )
    micro = seconds["generate"] * 1e6
    return {"microseconds": round(micro, 2), "target_microseconds": 50, "meets_target": micro <= 50}


def measure_read(url: str) -> dict[str, Any]:
    """Scenario 3: a page of a logged model, with rr-activity loaded and on vs store only."""
    models = {"Job": job_model("jobs", {})}
    with ReactiveRecord(database=url, models=models, plugins=["sqlalchemy", "activity"]) as on:
        on.create_tables()
        seed(on, "jobs")
        with ReactiveRecord(
            database=url, models={"Job": job_model("jobs")}, plugins=["sqlalchemy"]
        ) as off:
            cases = {
                "store_only": off.models.Job.where(client_id=1).order("id").limit(50).all,
                "activity_on": on.models.Job.where(client_id=1).order("id").limit(50).all,
            }
            seconds = interleaved(cases, 15, 200)
    ratio = seconds["activity_on"] / seconds["store_only"]
    return {
        "microseconds": {name: round(value * 1e6, 1) for name, value in seconds.items()},
        "ratio": round(ratio, 3),
        "target_ratio": 1.10,
        "meets_target": ratio <= 1.10,
    }


def run_database(fresh: Callable[[], Any]) -> dict[str, Any] | None:
    """Every scenario, each in a fresh database from ``fresh()`` (None: unreachable)."""
    out = {}
    for name, scenario in (
        ("single_field_update", measure_updates),
        ("entry_generation", measure_generate),
        ("read_of_a_logged_model", measure_read),
    ):
        with fresh() as url:
            if url is None:
                return None
            out[name] = scenario(url)
    return out


def report(name: str, result: dict[str, Any]) -> None:
    """Print one database's results as a short table."""
    print(f"\n{name}")
    for mode, update in result["single_field_update"].items():
        judged = ", the targets' mode" if mode == "durable" else ""
        print(f"  single-field update ({mode}{judged}):")
        for case, micro in update["microseconds"].items():
            ratio = update["ratio_vs_without_log"][case]
            print(f"    {case:24} {micro:10.1f} us   {ratio:6.2f}x the update without log")
        print(f"    Continuum costs {update['continuum_vs_with_log']:.2f}x rr-activity's update")
        print(f"    Continuum costs {update['continuum_vs_core']:.2f}x a Core update")
    generate = result["entry_generation"]
    print(f"  entry generation: {generate['microseconds']:.1f} us")
    read = result["read_of_a_logged_model"]
    print(f"  read of a logged model: {read['ratio']:.3f}x the read without rr-activity")


def main() -> None:
    """Run every scenario on SQLite (and PostgreSQL when reachable); write the results."""
    results: dict[str, Any] = {
        "benchmark": "rr-activity",
        **environment(),
        "rows": ROWS,
        "targets_judged_on": "durable",
        "databases": {},
    }
    for name, fresh in (("sqlite", sqlite_url), ("postgresql", postgresql_url)):
        result = run_database(fresh)
        if result is None:
            print(f"\n{name}: unreachable, skipped")
            continue
        results["databases"][name] = result
        report({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[name], result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
