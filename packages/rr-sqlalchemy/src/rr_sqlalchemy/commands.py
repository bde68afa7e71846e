"""``reactive-record db create`` and ``db sql``: make the tables, or print their DDL."""

from __future__ import annotations

import click
import sqlalchemy as sa
from reactive_record import ReactiveRecord
from reactive_record.cli import CommandError, pass_rr

from .store import SqlStore


def _sql_store(rr: ReactiveRecord) -> SqlStore:
    store = rr.store
    if not isinstance(store, SqlStore):
        raise CommandError(f"{rr.url} is not a SQL database: there is no schema to make")
    return store


def _tables(store: SqlStore) -> set[str]:
    with store.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


@click.group()
def db() -> None:
    """The database schema: create the tables, or print their DDL."""


@db.command()
@pass_rr
def create(rr: ReactiveRecord) -> None:
    """Create every model's table that does not exist yet (indexes and foreign keys too)."""
    store = _sql_store(rr)
    before = _tables(store)
    rr.create_tables()
    made = sorted(_tables(store) - before)
    if made:
        click.echo(f"created {len(made)} table(s): {', '.join(made)}")
    else:
        click.echo("every table exists already")


@db.command()
@pass_rr
def sql(rr: ReactiveRecord) -> None:
    """Print the CREATE statements of every model's table, for Alembic or hand migrations."""
    click.echo(_sql_store(rr).ddl(), nl=False)
