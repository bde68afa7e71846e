"""``reactive-record defaults show MODEL``: each field's default and where it comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from reactive_record.cli import pass_rr
from reactive_record.text_table import render_table

from .api import describe
from .defaults import FieldDefault, database_value

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord


def row(entry: FieldDefault) -> dict[str, Any]:
    """One line of ``defaults show``: field, default, source and the database's text."""
    if entry.source == "server-generated":
        shown: Any = "(the database fills it)"
    elif entry.source == "computed":
        shown = f"computed by {entry.expression}"
    elif entry.is_factory:
        shown = entry.value()
    else:
        shown = entry.value
    database = ""
    if entry.database is not None:
        database = entry.database.expression or repr(database_value(entry.database))
    return {"field": entry.field, "default": shown, "source": entry.source, "database": database}


@click.group("defaults")
def defaults() -> None:
    """Defaults from the database and the configuration (rr-defaults)."""


@defaults.command("show")
@click.argument("model")
@pass_rr
def show(rr: ReactiveRecord, model: str) -> None:
    """Print each field of MODEL that has a default, its value and its source."""
    rr.model_definition(model)  # an unknown name is a ConfigError listing the models
    entries = describe(rr.model(model))
    if not entries:
        click.echo(f"{model} has no defaults.")
        return
    click.echo(render_table([row(entry) for entry in entries], max_width=None))
