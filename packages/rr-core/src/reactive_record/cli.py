"""The ``reactive-record`` command (click); plugins add subcommands via ``rr_register_commands``.

Plugin authors give their commands the configured instance with :func:`pass_rr`::

    import click
    from reactive_record import hookimpl
    from reactive_record.cli import pass_rr

    @click.command("stats")
    @pass_rr
    def stats(rr):
        click.echo(rr.models.Job.count())

    @hookimpl
    def rr_register_commands(cli):
        cli.add_command(stats)

The instance is built lazily from ``--project`` / ``--database`` (or the nearest
``pyproject.toml``), so ``reactive-record --help`` works anywhere. A
:class:`ReactiveRecordError` becomes a one-line message and exit status 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import click
import pluggy

from .errors import ReactiveRecordError

if TYPE_CHECKING:
    from .core import ReactiveRecord

P = ParamSpec("P")
T = TypeVar("T")

#: Where the root context keeps the commands plugins registered for this invocation.
PLUGIN_COMMANDS = "reactive_record.plugin_commands"


class CommandError(click.ClickException):
    """A ReactiveRecord error shown as one line; exits with status 2 like a usage error."""

    exit_code = 2


class Project:
    """The ``--project`` / ``--database`` choice; builds the instance on first use."""

    def __init__(self, path: Path | None = None, database: str | None = None) -> None:
        self.path = path
        self.database = database
        self._rr: ReactiveRecord | None = None

    @property
    def rr(self) -> ReactiveRecord:
        """The configured :class:`ReactiveRecord` (built once, closed with the command)."""
        if self._rr is None:
            from .core import ReactiveRecord

            self._rr = ReactiveRecord.from_pyproject(self.path, database=self.database)
        return self._rr

    def close(self) -> None:
        """Release the instance if one was built."""
        if self._rr is not None:
            self._rr.close()
            self._rr = None


def current_project() -> Project:
    """The :class:`Project` of the running command (a default one outside ``reactive-record``)."""
    ctx = click.get_current_context()
    project = ctx.find_object(Project)
    if project is None:
        project = ctx.ensure_object(Project)
        ctx.call_on_close(project.close)
    return project


def pass_rr(command: Callable[Concatenate[ReactiveRecord, P], T]) -> Callable[P, T]:
    """Decorate a click command callback to receive the configured ReactiveRecord first."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return command(current_project().rr, *args, **kwargs)

    return wrapper


class RootGroup(click.Group):
    """The root group: built-in commands plus those installed plugins register.

    Plugin commands are collected once per invocation (so ``RR_DISABLE_PLUGIN_AUTOLOAD``
    is read when the command starts), without a database or a pyproject.
    """

    def plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        """The commands installed plugins add, collected through ``rr_register_commands``."""
        root = ctx.find_root()
        found: dict[str, click.Command] | None = root.meta.get(PLUGIN_COMMANDS)
        if found is None:
            from .plugins import make_plugin_manager

            collected = click.Group(self.name)
            try:
                make_plugin_manager().hook.rr_register_commands(cli=collected)
            except ReactiveRecordError as exc:
                raise CommandError(str(exc)) from None
            except pluggy.PluginValidationError as exc:
                raise CommandError(f"a plugin is broken: {exc}") from None
            found = root.meta[PLUGIN_COMMANDS] = dict(collected.commands)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and plugin command names, sorted."""
        return sorted(set(super().list_commands(ctx)) | set(self.plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in command, else a plugin's."""
        return super().get_command(ctx, cmd_name) or self.plugin_commands(ctx).get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; a ReactiveRecordError becomes a one-line message, exit 2."""
        try:
            return super().invoke(ctx)
        except ReactiveRecordError as exc:
            raise CommandError(str(exc)) from None


@click.group(cls=RootGroup)
@click.option(
    "--project",
    type=click.Path(exists=True, path_type=Path),
    help="A pyproject.toml, or the folder holding one (default: nearest upward from the cwd).",
)
@click.option("--database", metavar="URL", help="Database URL; overrides the configuration.")
@click.version_option(package_name="rr-core", prog_name="reactive-record")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, database: str | None) -> None:
    """ReactiveRecord: models, live queries and plugins from [tool.reactive-record]."""
    chosen = ctx.ensure_object(Project)
    chosen.path = project
    chosen.database = database
    ctx.call_on_close(chosen.close)


# -- built-in commands ----------------------------------------------------------------


def _hook_names() -> list[str]:
    """Every hook name in the order ``hookspecs.py`` declares them (the lifecycle order)."""
    from . import hookspecs

    declared = vars(hookspecs).items()
    return [name for name, value in declared if name.startswith("rr_") and callable(value)]


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed plugins and the hooks each implements.

    Shows each plugin's name, distribution, version and hooks; built-in behaviour shows
    as core.*. The call order of every hook with several implementations follows.
    """
    from .plugins import call_order, describe, make_plugin_manager
    from .text_table import render_table

    pm = make_plugin_manager()
    order = _hook_names()
    listed = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "hooks": sorted(info.hooks, key=order.index),
        }
        for info in describe(pm)
    ]
    calls = {name: call_order(pm, name) for name in order}
    if as_json:
        import json

        click.echo(json.dumps({"plugins": listed, "call_order": calls}, indent=2))
        return
    rows = [{**info, "hooks": ", ".join(info["hooks"])} for info in listed]
    click.echo(render_table(rows, max_width=None))
    shared = {name: names for name, names in calls.items() if len(names) > 1}
    if shared:
        click.echo("\nCall order of hooks with several implementations:")
        for name, names in shared.items():
            click.echo(f"  {name}: {' -> '.join(names)}")


def reference_problems(path: Path) -> list[str]:
    """Every ``computed`` "pkg.mod:func" reference of the project that does not import."""
    from .config import TABLE, read_pyproject
    from .references import import_reference

    problems = []
    for model_name, table in _table(read_pyproject(path).get("models")).items():
        for name, reference in _table(_table(table).get("computed")).items():
            where = f"{TABLE}.models.{model_name}.computed.{name}"
            try:
                import_reference(str(reference), where, path.parent.resolve())
            except ReactiveRecordError as exc:
                problems.append(str(exc))
    return problems


def _table(value: Any) -> dict[str, Any]:
    # Shape mistakes are the schema's to report (when the instance is built), not ours.
    return value if isinstance(value, dict) else {}


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Report problems in the project and from every plugin's checks.

    Checks the configuration and its "pkg.mod:func" references, and asks every plugin
    (``rr_checks``). A configuration that does not load counts as a problem here. Exit
    status 1 when there is any problem, 0 when there is none.
    """
    from .config import find_pyproject

    project = current_project()
    path = project.path or find_pyproject()
    if path is None:
        raise CommandError(f"no pyproject.toml in {Path.cwd()} or above; pass --project PATH")
    if path.is_dir():
        path = path / "pyproject.toml"
    if not path.is_file():
        raise CommandError(f"no pyproject.toml at {path}")
    project.path = path
    try:
        problems = reference_problems(path)
    except ReactiveRecordError as exc:
        problems = [str(exc)]
    try:
        rr = project.rr
    except ReactiveRecordError as exc:
        problems.append(str(exc))
    else:
        problems.extend(rr.checks())
    problems = list(dict.fromkeys(problems))
    if not problems:
        click.echo(f"{path}: no problems found.")
        return
    for problem in problems:
        click.echo(f"- {problem}")
    click.echo(f"{len(problems)} problem(s) found in {path}.", err=True)
    ctx.exit(1)


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the demo's database and print where it is.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> None:
    """Build a small field-service app and walk through the API.

    The app lives in a temporary folder (SQLite with rr-sqlalchemy, else memory). Needs
    no project and writes nothing in the current folder. Installed plugins add their own
    steps. Exit status 1 when a step fails.
    """
    from .demo import run

    if run(keep=keep):
        ctx.exit(1)


@cli.command()
@click.argument("model")
@click.option("--where", default="{}", metavar="JSON", help="A condition as JSON (§6).")
@click.option("--order", multiple=True, metavar="FIELD", help="Order by FIELD (-FIELD: desc).")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many records.")
@click.option(
    "--changes", type=click.IntRange(min=0), help="Stop after this many commits (default: never)."
)
def watch(
    model: str, where: str, order: tuple[str, ...], limit: int | None, changes: int | None
) -> None:
    """Print a live query's records, then its changes as they happen (Ctrl-C stops).

    Lines are records as JSON: "=" the first result, "+" entered, "-" left, "~" changed.
    Other processes' writes arrive through PostgreSQL's change feed, or SQLite's
    data_version (within a second).
    """
    from .watching import run

    run(current_project().rr, model, where, order, limit, changes, click.echo)


def main() -> None:
    """Entry point of the ``reactive-record`` command."""
    cli(prog_name="reactive-record")
