"""The test plugin's command and demo step, so the CLI's plugin paths are tested for real.

``reactive-record tp-models`` prints the configured instance (it exercises ``pass_rr``);
the demo step turns the feature on for the demo's ``Job`` and shows its decoration (it
exercises ``rr_demo_steps``' ``models`` sections). Both are harmless when unused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from reactive_record import hookimpl
from reactive_record.cli import pass_rr

from .settings import NAME

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord


@click.command("tp-models")
@pass_rr
def tp_models(rr: ReactiveRecord) -> None:
    """Print the configured database URL, then each model name."""
    click.echo(rr.url)
    for name in rr.models:
        click.echo(name)


@hookimpl
def rr_register_commands(cli: click.Group) -> None:
    """Add ``tp-models``."""
    cli.add_command(tp_models)


def _demo_step(demo: Any) -> None:
    jobs = demo.rr.models.Job.unscoped().order("id").limit(2).all()
    demo.table([{"id": job.id, "tp_label": job.tp_label} for job in jobs])


@hookimpl
def rr_demo_steps(register: Callable[..., None]) -> None:
    """A step showing the ``tp_label`` the feature attaches to the demo's jobs."""
    register(
        "testplugin: decorated jobs",
        _demo_step,
        models={"Job": {"features": {NAME: True}, NAME: {"decorate": True}}},
    )
