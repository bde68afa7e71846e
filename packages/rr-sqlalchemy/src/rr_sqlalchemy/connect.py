"""The SQLAlchemy engine of a store, and what each new connection is told.

Connections run in autocommit mode: a read outside a transaction is one round trip, and
the store opens transactions itself (``BEGIN IMMEDIATE`` on SQLite, so a writer holds
the write lock from its first read; ``BEGIN`` elsewhere). Because every transaction ends
in an explicit COMMIT or ROLLBACK, the pool does not roll back on return.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from .types import DECIMAL_COLLATION, MYSQL, POSTGRESQL, SQLITE, compare_decimals
from .urls import Target

#: How long a SQLite writer waits for another's lock before failing (seconds).
SQLITE_BUSY_TIMEOUT = 10.0

BEGIN = {SQLITE: "BEGIN IMMEDIATE", POSTGRESQL: "BEGIN", MYSQL: "BEGIN"}


def make_engine(target: Target) -> sa.Engine:
    """The engine for ``target``, with per-connection setup installed."""
    options: dict[str, Any] = {
        "isolation_level": "AUTOCOMMIT",
        "pool_reset_on_return": None,
        # A SQLAlchemy Connection (reflection) on the shared in-memory SQLite connection
        # must not end, on close, the transaction the store has open there.
        "skip_autocommit_rollback": True,
    }
    if target.kind == POSTGRESQL:
        # Positional placeholders: psycopg fills a tuple for less than a dict by name.
        options["paramstyle"] = "format"
    if target.kind == SQLITE:
        options["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
        if target.in_memory:
            # One shared connection: the database lives as long as it does.
            options["poolclass"] = StaticPool
    engine = sa.create_engine(target.url, **options)
    setup = {SQLITE: _sqlite, POSTGRESQL: _postgresql, MYSQL: _mysql}[target.kind]
    in_memory = target.in_memory

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        setup(dbapi_connection, in_memory)

    sa.event.listen(engine, "connect", on_connect)
    return engine


def _sqlite(connection: Any, in_memory: bool) -> None:
    connection.create_collation(DECIMAL_COLLATION, compare_decimals)
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    if not in_memory:
        # WAL lets readers run beside the writer. Synchronous stays FULL (SQLite's
        # default): a commit that returned survives a power cut.
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _postgresql(connection: Any, in_memory: bool) -> None:
    # timestamptz values then come back as aware UTC datetimes, with no conversion.
    connection.execute("SET TIME ZONE 'UTC'")
    if not connection.autocommit:
        connection.commit()


def _mysql(connection: Any, in_memory: bool) -> None:
    cursor = connection.cursor()
    cursor.execute("SET time_zone = '+00:00'")
    cursor.close()


def string_collation(kind: str, dialect: sa.Dialect) -> str | None:
    """The binary collation for strings in tables the store creates (code point order)."""
    if kind == POSTGRESQL:
        return "C"
    if kind != MYSQL:
        return None
    version = dialect.server_version_info or ()
    if getattr(dialect, "is_mariadb", False):
        # NO PAD: trailing spaces are significant, as in Python.
        return "utf8mb4_nopad_bin" if version >= (10, 2) else "utf8mb4_bin"
    return "utf8mb4_0900_bin" if version >= (8, 0) else "utf8mb4_bin"
