"""Shared database fixtures for every test suite of the workspace.

They live in the root ``conftest.py`` (not ``tests/conftest.py``) so that the package
suites under ``packages/*/tests`` get them too: pytest applies a conftest only to the
directory it sits in and below.

``RR_TEST_DATABASES`` (comma list of ``memory``, ``sqlite``, ``postgresql``, ``mariadb``;
default all) chooses the databases. A listed server that cannot be reached skips its
tests locally and fails them when ``CI=true``. Each run creates its own uniquely named
PostgreSQL and MariaDB databases and drops them at the end; every test starts from an
empty schema. The SQL databases need rr-sqlalchemy: without it their tests are skipped.

Fixtures: ``db_url`` (every enabled database), ``sql_db_url`` (the SQL ones) and
``make_rr(url, models, plugins=None, **kw)``, which builds a ``ReactiveRecord``, creates
its tables and closes it after the test; ``run_sql(url, *statements)`` runs SQL on a
database directly, as another program would.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NoReturn

import pytest

DATABASES = ("memory", "sqlite", "postgresql", "mariadb")
SQL_DATABASES = ("sqlite", "postgresql", "mariadb")
SERVERS = {
    "postgresql": os.environ.get("RR_TEST_POSTGRESQL", "postgres@127.0.0.1:5432"),
    "mariadb": os.environ.get("RR_TEST_MARIADB", "root@127.0.0.1:3306"),
}


def _enabled() -> tuple[str, ...]:
    raw = os.environ.get("RR_TEST_DATABASES", "")
    names = tuple(n.strip() for n in raw.split(",") if n.strip()) or DATABASES
    unknown = [n for n in names if n not in DATABASES]
    if unknown:
        raise pytest.UsageError(
            f"RR_TEST_DATABASES: unknown database(s) {', '.join(unknown)}; "
            f"choose from {', '.join(DATABASES)}"
        )
    return names


ENABLED = _enabled()
IN_CI = os.environ.get("CI", "").lower() == "true"


def _param(name: str) -> Any:
    marks = [getattr(pytest.mark, name)] if name in SERVERS else []
    return pytest.param(name, marks=marks, id=name)


def _unavailable(message: str) -> NoReturn:
    """Skip locally; under CI an unreachable database is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: databases must be reachable)", pytrace=False)
    pytest.skip(message)


def _store_installed() -> bool:
    return any(ep.name == "sqlalchemy" for ep in entry_points(group="reactive_record"))


def _split(server: str) -> tuple[str, str, int]:
    user, _, hostport = server.rpartition("@")
    host, _, port = hostport.partition(":")
    return user, host, int(port)


class _Server:
    """One test database on a server: created once per session, emptied before each test."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"rr_test_{os.getpid()}_{secrets.token_hex(4)}"
        self.user, self.host, self.port = _split(SERVERS[kind])
        self.admin: Any = None
        self.conn: Any = None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the test database (driver-qualified)."""
        if self.kind == "postgresql":
            return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.name}"
        return f"mariadb+pymysql://{self.user}@{self.host}:{self.port}/{self.name}?charset=utf8mb4"

    def _conninfo(self, dbname: str) -> str:
        return (
            f"host={self.host} port={self.port} user={self.user} dbname={dbname} connect_timeout=5"
        )

    def _mysql_args(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": "",
            "autocommit": True,
            "connect_timeout": 5,
            "charset": "utf8mb4",
        }

    def create(self) -> None:
        """Create the database and keep an autocommit connection to it for cleaning."""
        if self.kind == "postgresql":
            import psycopg

            self.admin = psycopg.connect(self._conninfo("postgres"), autocommit=True)
            self.admin.execute(
                f'CREATE DATABASE "{self.name}" TEMPLATE template0 '
                "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            )
            self.conn = psycopg.connect(self._conninfo(self.name), autocommit=True)
            self.conn.execute("SET lock_timeout = '10s'")
        else:
            import pymysql

            self.admin = pymysql.connect(**self._mysql_args())
            with self.admin.cursor() as cur:
                cur.execute("SHOW COLLATION LIKE 'utf8mb4_nopad_bin'")
                collation = "utf8mb4_nopad_bin" if cur.fetchall() else "utf8mb4_bin"
                cur.execute(
                    f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE {collation}"
                )
            self.conn = pymysql.connect(database=self.name, **self._mysql_args())
            with self.conn.cursor() as cur:
                cur.execute("SET SESSION lock_wait_timeout = 10")

    def clean(self) -> None:
        """Drop everything the previous test made (tables, views, functions, triggers)."""
        if self.kind == "postgresql":
            self.conn.execute("DROP SCHEMA public CASCADE")
            self.conn.execute("CREATE SCHEMA public")
            return
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = %s",
                (self.name,),
            )
            found = cur.fetchall()
            views = [name for name, kind in found if kind == "VIEW"]
            tables = [name for name, kind in found if kind != "VIEW"]
            if views:
                cur.execute("DROP VIEW " + ", ".join(f"`{v}`" for v in views))
            if tables:
                cur.execute("SET FOREIGN_KEY_CHECKS = 0")
                cur.execute("DROP TABLE " + ", ".join(f"`{t}`" for t in tables))
                cur.execute("SET FOREIGN_KEY_CHECKS = 1")

    def drop(self) -> None:
        """Drop the database and close the connections."""
        if self.conn is not None:
            self.conn.close()
        if self.admin is None:
            return
        if self.kind == "postgresql":
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            with self.admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        self.admin.close()


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[str, _Server | Exception]]:
    """The session's server databases, created on first use (or the reason they are not)."""
    made: dict[str, _Server | Exception] = {}
    yield made
    for server in made.values():
        if isinstance(server, _Server):
            server.drop()


def _server_url(servers: dict[str, _Server | Exception], kind: str) -> str:
    if kind not in servers:
        server = _Server(kind)
        try:
            server.create()
        except Exception as exc:
            server.drop()
            servers[kind] = exc
        else:
            servers[kind] = server
    found = servers[kind]
    if isinstance(found, Exception):
        _unavailable(f"{kind} at {SERVERS[kind]} is unreachable: {found}")
    found.clean()
    return found.url


def _url_for(kind: str, servers: dict[str, _Server | Exception], tmp_path: Path) -> str:
    if kind == "memory":
        return "memory://"
    if not _store_installed():
        pytest.skip(f"{kind} needs rr-sqlalchemy, which is not installed")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return _server_url(servers, kind)


@pytest.fixture(params=[_param(n) for n in ENABLED])
def db_url(request: pytest.FixtureRequest, _servers: Any, tmp_path: Path) -> str:
    """A URL of an empty database, once per enabled database (memory included)."""
    return _url_for(request.param, _servers, tmp_path)


@pytest.fixture(params=[_param(n) for n in ENABLED if n in SQL_DATABASES])
def sql_db_url(request: pytest.FixtureRequest, _servers: Any, tmp_path: Path) -> str:
    """A URL of an empty SQL database, once per enabled SQL database."""
    return _url_for(request.param, _servers, tmp_path)


@pytest.fixture
def make_rr() -> Iterator[Callable[..., Any]]:
    """``make_rr(url, models, plugins=None, **kw)``: a ReactiveRecord with its tables made.

    ``plugins=None`` loads every installed plugin. Every instance is closed after the test.
    """
    from reactive_record import ReactiveRecord

    made: list[ReactiveRecord] = []

    def make(
        url: str,
        models: Mapping[str, Any],
        plugins: Sequence[str] | None = None,
        **kw: Any,
    ) -> ReactiveRecord:
        rr = ReactiveRecord(database=url, models=models, plugins=plugins, **kw)
        made.append(rr)
        rr.create_tables()
        return rr

    yield make
    for rr in reversed(made):
        rr.close()


@pytest.fixture
def run_sql() -> Callable[..., None]:
    """``run_sql(url, *statements)``: run SQL on the database at ``url`` directly, in one
    transaction, as another program (or someone with database access) would."""

    def run(url: str, *statements: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
        engine.dispose()

    return run
