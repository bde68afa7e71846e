"""The ``sqlalchemy`` plugin: SQL databases as ReactiveRecord stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from reactive_record import hookimpl

from .commands import db
from .generate import generate
from .store import SqlStore
from .urls import resolve

if TYPE_CHECKING:
    import click
    from reactive_record import Model, ReactiveRecord, SchemaDefault


@hookimpl
def rr_open_store(rr: ReactiveRecord, url: str) -> SqlStore | None:
    """Open a SqlStore for ``sqlite://``, ``postgresql://`` and ``mysql://``/``mariadb://`` URLs."""
    target = resolve(url)
    return SqlStore(rr, url, target) if target is not None else None


@hookimpl
def rr_schema_defaults(rr: ReactiveRecord, model: Model) -> Mapping[str, SchemaDefault] | None:
    """The column defaults the database declares for ``model``'s table, as Python values."""
    store = rr.store
    if not isinstance(store, SqlStore):
        return None
    return store.schema_defaults(model, rr.clock)


@hookimpl
def rr_checks(rr: ReactiveRecord) -> Iterable[str]:
    """Every model's table, with a column for each field, must exist in the database."""
    store = rr.store
    if not isinstance(store, SqlStore):
        return ()
    return store.schema_problems(rr.model_definitions())


@hookimpl
def rr_register_commands(cli: click.Group) -> None:
    """``reactive-record generate`` (configuration or typed records from a database) and
    ``db create`` / ``db sql`` (the tables, or their DDL)."""
    cli.add_command(generate)
    cli.add_command(db)
