"""Which database URLs the store handles, and the SQLAlchemy URL (driver) each one means."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from .types import MYSQL, POSTGRESQL, SQLITE

#: scheme -> (dialect kind, the SQLAlchemy dialect+driver used when none is named)
SCHEMES = {
    "sqlite": (SQLITE, "sqlite+pysqlite"),
    "postgresql": (POSTGRESQL, "postgresql+psycopg"),
    "postgres": (POSTGRESQL, "postgresql+psycopg"),
    "mysql": (MYSQL, "mysql+pymysql"),
    "mariadb": (MYSQL, "mariadb+pymysql"),
}


@dataclass(frozen=True)
class Target:
    """A database URL resolved: the dialect kind, SQLAlchemy's URL, in-memory or not."""

    kind: str
    url: sa.URL
    in_memory: bool


def resolve(url: str) -> Target | None:
    """The target of ``url``, or None when it is not a SQL URL this store handles.

    ``postgresql://`` and ``postgres://`` use psycopg 3, ``mysql://`` and ``mariadb://``
    PyMySQL, ``sqlite://`` the standard library; a named driver (``postgresql+psycopg://``)
    is kept as written.
    """
    scheme, sep, _ = url.partition("://")
    if not sep:
        return None
    backend, _, driver = scheme.partition("+")
    if backend not in SCHEMES:
        return None
    kind, default = SCHEMES[backend]
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        return None
    if not driver:
        parsed = parsed.set(drivername=default)
    if kind == MYSQL and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    in_memory = kind == SQLITE and parsed.database in (None, "", ":memory:")
    return Target(kind, parsed, in_memory)
