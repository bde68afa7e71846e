"""Which URLs open a SQL store, and with which driver."""

from __future__ import annotations

import pytest
from reactive_record import ConfigError, ReactiveRecord
from rr_sqlalchemy import SqlStore
from rr_sqlalchemy.urls import resolve


@pytest.mark.parametrize(
    ("url", "kind", "driver", "in_memory"),
    [
        ("sqlite://", "sqlite", "sqlite+pysqlite", True),
        ("sqlite:///:memory:", "sqlite", "sqlite+pysqlite", True),
        ("sqlite:///app.db", "sqlite", "sqlite+pysqlite", False),
        ("postgresql://u@h/db", "postgresql", "postgresql+psycopg", False),
        ("postgres://u@h/db", "postgresql", "postgresql+psycopg", False),
        ("postgresql+psycopg://u@h/db", "postgresql", "postgresql+psycopg", False),
        ("mysql://u@h/db", "mysql", "mysql+pymysql", False),
        ("mariadb://u@h/db", "mysql", "mariadb+pymysql", False),
        ("mariadb+pymysql://u@h/db", "mysql", "mariadb+pymysql", False),
    ],
)
def test_sql_urls(url: str, kind: str, driver: str, in_memory: bool) -> None:
    target = resolve(url)
    assert target is not None
    assert (target.kind, target.url.drivername, target.in_memory) == (kind, driver, in_memory)
    if kind == "mysql":
        assert target.url.query["charset"] == "utf8mb4"


@pytest.mark.parametrize("url", ["memory://", "oracle://u@h/db", "redis://h", "app.db", ""])
def test_other_urls_are_not_ours(url: str) -> None:
    assert resolve(url) is None


def test_sqlite_is_opened_through_the_hook() -> None:
    with ReactiveRecord(database="sqlite://", models={}, plugins=["sqlalchemy"]) as rr:
        assert isinstance(rr.store, SqlStore)


def test_a_url_no_store_handles_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="oracle"):
        ReactiveRecord(database="oracle://u@h/db", models={}, plugins=["sqlalchemy"])
