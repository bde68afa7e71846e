"""The ``permissions`` plugin: every hook it implements, each delegating to its module."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import Change, ConfigError, Plan, RecordBatch, hookimpl

from . import checks, commands, demo, reads, writes
from .authority import ModelPermissions
from .config import FEATURE, load_model, load_settings
from .state import Permissions, is_system, permissions_for, state_of

if TYPE_CHECKING:
    import click
    from reactive_record import Query, ReactiveRecord
    from reactive_record.model import Model


@hookimpl
def rr_model_features() -> Iterable[str]:
    """The ``permissions`` feature."""
    return (FEATURE,)


@hookimpl
def rr_configure(rr: ReactiveRecord, config: Mapping[str, Any]) -> None:
    """Validate ``[tool.reactive-record.permissions]`` and every model's section; compile rules."""
    settings = load_settings(rr, config.get(FEATURE), f"{rr.config_prefix}.{FEATURE}")
    models: dict[str, ModelPermissions] = {}
    for model in rr.model_definitions():
        path = f"{rr.config_prefix}.models.{model.name}.{FEATURE}"
        if not model.has_feature(FEATURE):
            if FEATURE in model.options:
                raise ConfigError(
                    path,
                    model.options[FEATURE],
                    f"a section of a model that enables the feature: "
                    f"features = {{ {FEATURE} = true }} on {model.name}",
                )
            continue
        parsed = load_model(rr, model, model.options.get(FEATURE), path, settings)
        models[model.name] = ModelPermissions(rr, model, parsed, settings.cache_size)
    rr.extensions[FEATURE] = Permissions(
        settings, models, bool(rr.settings.get("system_writes", False))
    )


@hookimpl
def rr_query_methods(model: Model) -> Mapping[str, Callable[..., Any]]:
    """``with_permissions(user, action="read")``: scope a read to a user and an action."""
    del model
    return {"with_permissions": with_permissions}


def with_permissions(query: Query[Any], user: Any, action: str = "read") -> Query[Any]:
    """``Job.with_permissions(alice, "update")``: the records ``alice`` may update."""
    return query.with_options(user=user, action=action)


@hookimpl
def rr_plan_query(plan: Plan) -> None:
    """Scope every read of a permissions-enabled model to its user (SQL where possible)."""
    reads.scope_plan(plan)


@hookimpl
def rr_decorate_records(plan: Plan, records: RecordBatch) -> None:
    """Hide the fields the user's role may not see."""
    reads.hide_fields(plan, records)


@hookimpl(tryfirst=True)
def rr_rewrite_change(change: Change) -> None:
    """Remember the fields the caller wrote, before other rewrites and defaults."""
    if permissions_for(change.rr, change.model) is not None:
        writes.remember_requested(change)


@hookimpl
def rr_authorize_change(change: Change) -> None:
    """Authorize the change against the row before and after; refuse forbidden fields."""
    writes.authorize_change(change)


@hookimpl
def rr_authorize(
    rr: ReactiveRecord, user: Any, action: str, model: Model, record: Mapping[str, Any] | None
) -> bool | None:
    """Answer for permissions-enabled models; no opinion on the others."""
    perms = permissions_for(rr, model)
    if perms is None:
        return None
    if user is None:
        return False
    if is_system(user):
        return state_of(rr).system_may(action)
    return perms.allows(user, action, record)


@hookimpl
def rr_hidden_fields(rr: ReactiveRecord, user: Any, model: Model) -> Iterable[str] | None:
    """The model's ``hidden_fields`` for the user's role (none for SYSTEM)."""
    perms = permissions_for(rr, model)
    if perms is None or user is None or is_system(user):
        return None
    return perms.hidden_fields(user)


@hookimpl
def rr_checks(rr: ReactiveRecord) -> Iterable[str]:
    """Actions without rules, policy methods that name no action, fields and callables."""
    return checks.problems(rr)


@hookimpl
def rr_register_commands(cli: click.Group) -> None:
    """``reactive-record permissions explain``."""
    cli.add_command(commands.permissions)


@hookimpl
def rr_demo_steps(register: Callable[..., None]) -> None:
    """Two users of different tenants and roles see different jobs; an update is refused."""
    demo.register_steps(register)
