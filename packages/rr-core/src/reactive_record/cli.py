"""The ``reactive-record`` command (click); plugins add subcommands via ``rr_register_commands``."""

from __future__ import annotations

import click


@click.group()
def cli() -> None:
    """ReactiveRecord: models, live queries and plugins from [tool.reactive-record]."""


def main() -> None:
    """Entry point of the ``reactive-record`` command."""
    cli()
