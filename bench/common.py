"""Shared helpers of the benchmarks: timing, scratch databases, and result files.

Every benchmark compares against baselines measured in the same run and reports ratios,
so results are comparable across machines. Results go to ``bench/results/<name>.json``
and ``bench/results/<name>.md``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
POSTGRESQL = os.environ.get("RR_BENCH_POSTGRESQL", "postgres@127.0.0.1:5432")


def timed(run: Callable[[], Any], *, repeat: int = 5, number: int = 1) -> float:
    """The best of ``repeat`` timings of ``number`` calls, in microseconds per call.

    The garbage collector is off while timing (as ``timeit`` does) and one warm-up
    call runs first, so caches and prepared statements are in place.
    """
    run()
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                run()
            best = min(best, (time.perf_counter() - start) / number)
    finally:
        if enabled:
            gc.enable()
    return best * 1e6


def interleaved(
    runs: dict[str, Callable[[], Any]], *, rounds: int = 7, number: int = 1
) -> dict[str, float]:
    """The best microseconds per call of each run, measured in alternating rounds.

    Alternating keeps slow drifts of the machine (other load, disk caches) from favouring
    whichever contender happened to run first; the best round is the one least disturbed
    by other work (noise only ever adds time), as ``timeit`` advises.
    """
    rounds_taken = interleaved_rounds(runs, rounds=rounds, number=number)
    return {name: min(values) for name, values in rounds_taken.items()}


def interleaved_rounds(
    runs: Mapping[str, Callable[[], Any]], *, rounds: int = 7, number: int = 1, warmup: int = 1
) -> dict[str, list[float]]:
    """Every round's microseconds per call of each run, measured as :func:`interleaved`.

    For waits that vary by nature (a disk flush, a network round trip) the median round
    says what a call typically costs; the best round, what it costs at its luckiest.
    Each run is called ``warmup`` times first (caches, prepared statements, connections).
    """
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        for _ in range(warmup):
            run()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                for _ in range(number):
                    run()
                samples[name].append((time.perf_counter() - start) / number * 1e6)
    finally:
        if enabled:
            gc.enable()
    return samples


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="rr-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgresql_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database (dropped afterwards), or None when the server is down."""
    try:
        import psycopg
    except ImportError:
        yield None
        return
    user, _, hostport = POSTGRESQL.rpartition("@")
    host, _, port = hostport.partition(":")
    name = f"rr_bench_{os.getpid()}_{secrets.token_hex(4)}"
    conninfo = f"host={host} port={port} user={user} connect_timeout=5"
    try:
        admin = psycopg.connect(f"{conninfo} dbname=postgres", autocommit=True)
    except psycopg.Error:
        yield None
        return
    with admin:
        admin.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
        try:
            yield f"postgresql://{user}@{host}:{port}/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def installed_first_party(names: Sequence[str]) -> list[str]:
    """Those of the first-party plugin ``names`` installed here, in the order given."""
    installed = {ep.name for ep in entry_points(group="reactive_record")}
    return [name for name in names if name in installed]


def databases() -> Iterator[tuple[str, str]]:
    """(name, URL) of every database to benchmark: SQLite, and PostgreSQL when reachable."""
    with sqlite_url() as url:
        yield "sqlite", url
    with postgresql_url() as url:
        if url is None:
            print("PostgreSQL is unreachable: skipped", file=sys.stderr)
        else:
            yield "postgresql", url


def ratios(times: dict[str, float], baseline: str) -> dict[str, float]:
    """Each time divided by ``baseline``'s, rounded to three decimals."""
    return {name: round(value / times[baseline], 3) for name, value in times.items()}


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    """Where the numbers were taken."""
    import sqlite3

    import sqlalchemy

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
    }


def write_results(name: str, data: dict[str, Any], markdown: str) -> None:
    """Write ``bench/results/<name>.json`` and ``.md``, and print the Markdown."""
    RESULTS.mkdir(exist_ok=True)
    payload = {"benchmark": name, **environment(), **data}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown + "\n")
    print(markdown)
