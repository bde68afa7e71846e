"""``reactive-record activity``: read a record's history, verify the chains."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from typing import Any

import click
from reactive_record import ReactiveRecord, Record
from reactive_record.cli import pass_rr

from .chain import count_chained, verify
from .history import history

#: Longest value shown in a history line before it is cut.
MAX_VALUE = 60


@click.group("activity")
def activity() -> None:
    """The activity log: a record's history, and the tamper-evident chains."""


@activity.command("log")
@click.argument("model")
@click.argument("key")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@pass_rr
def log_command(rr: ReactiveRecord, model: str, key: str, limit: int) -> None:
    """Print the history of MODEL KEY, newest first (an operator's read: unscoped)."""
    entries = history(rr, model, key, limit=limit, unscoped=True)
    if not entries:
        click.echo(f"{model} {key}: no activity logged")
        return
    click.echo(
        f"{model} {key}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, newest first"
    )
    for entry in entries:
        click.echo("")
        click.echo(describe(entry))


def describe(entry: Record) -> str:
    """One entry as readable lines: when, what, who, then one line per field."""
    when = entry["created_at"].strftime("%Y-%m-%d %H:%M:%S UTC")
    source = " (client-generated)" if _metadata(entry).get("client_generated") else ""
    lines = [
        f"{when}  {entry['action']} by {entry['user_id']}{source}  "
        f"[tx {str(entry['transaction_id'])[:8]}]"
    ]
    for change in entry["field_changes"]:
        old, new = show_value(change.get("old_value")), show_value(change.get("new_value"))
        lines.append(f"    {change.get('field_name')}: {old} -> {new}")
    return "\n".join(lines)


def _metadata(entry: Record) -> Mapping[str, Any]:
    metadata = entry["metadata"]
    return metadata if isinstance(metadata, Mapping) else {}


def show_value(value: Any) -> str:
    """A logged value as a person reads it: dates in ISO 8601, long values cut."""
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


@activity.command("verify")
@click.option("--model", help="Only the chains of this model.")
@pass_rr
def verify_command(rr: ReactiveRecord, model: str | None) -> None:
    """Walk every chain and name the first edited, deleted or reordered entry of each.

    Exits with status 1 when any chain is broken.
    """
    total = count_chained(rr, model)
    # The bar goes to stderr, so the findings on stdout stay clean for scripts.
    with click.progressbar(length=total, label="Verifying chains", file=sys.stderr) as bar:
        report = verify(rr, model, progress=bar.update)
    for problem in report.problems:
        click.echo(problem.message)
    summary = f"{report.entries} entries in {report.chains} chains"
    if report.ok:
        click.echo(f"{summary}: every chain verified")
        return
    click.echo(f"{summary}: {len(report.problems)} broken")
    raise SystemExit(1)
