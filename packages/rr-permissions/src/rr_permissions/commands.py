"""``reactive-record permissions explain Job 42 --user 7 --action update``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from reactive_record import ConfigError, RecordNotFound
from reactive_record.cli import pass_rr

from . import api
from .config import FEATURE
from .state import state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord

DEFAULT_USER_MODEL = "User"


@click.group()
def permissions() -> None:
    """Inspect permission rules and policies (rr-permissions)."""


@permissions.command()
@click.argument("model")
@click.argument("key")
@click.option(
    "--user",
    "user_ref",
    required=True,
    metavar="ID|JSON",
    help="A user id (loaded with user_loader, user_model or the User model) or a JSON object.",
)
@click.option("--action", default="read", show_default=True, help="The action to explain.")
@pass_rr
def explain(rr: ReactiveRecord, model: str, key: str, user_ref: str, action: str) -> None:
    """Print which rule allows or denies USER to ACTION the record MODEL KEY, and why."""
    definition = rr.model_definition(model)
    record = rr.models[definition.name].unscoped().find(key).data
    user = load_user(rr, user_ref)
    click.echo(f"user: {json.dumps(_plain(user), default=str, sort_keys=True)}")
    click.echo(str(api.explain(rr, user, action, definition, record)))


def load_user(rr: ReactiveRecord, reference: str) -> Any:
    """The user ``--user`` names: a JSON object, or an id loaded the configured way."""
    if reference.lstrip().startswith("{"):
        try:
            return json.loads(reference)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not a JSON object: {exc}", param_hint="--user") from None
    settings = state_of(rr).settings
    if settings.user_loader is not None:
        user = settings.user_loader(rr, reference)
        if user is None:
            raise click.BadParameter(
                f"user_loader found no user {reference!r}", param_hint="--user"
            )
        return user
    names = {m.name for m in rr.model_definitions()}
    user_model = settings.user_model or (
        DEFAULT_USER_MODEL if DEFAULT_USER_MODEL in names else None
    )
    if user_model is None:
        raise ConfigError(
            f"{rr.config_prefix}.{FEATURE}.user_model",
            None,
            "a model of users (or user_loader = 'pkg.mod:func') to load --user ID; "
            "or pass --user as a JSON object",
        )
    try:
        return rr.models[user_model].unscoped().find(reference).data
    except RecordNotFound:
        raise click.BadParameter(f"no {user_model} {reference!r}", param_hint="--user") from None


def _plain(user: Any) -> Any:
    if isinstance(user, dict):
        return user
    try:
        return dict(user)
    except (TypeError, ValueError):
        return {k: v for k, v in vars(user).items() if not k.startswith("_")}
