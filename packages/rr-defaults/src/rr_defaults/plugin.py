"""The ``defaults`` plugin: its hook implementations, and nothing else.

Defaults are filled in write phase 1 (``rr_fill_change``) for creates and for
``Model.new()``; reads ask for them with ``with_defaults()`` (read phase 1). What the
database declares comes from the store through ``rr_schema_defaults``: this plugin never
imports a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import Record, hookimpl

from .checks import drift
from .commands import defaults as defaults_command
from .config import FEATURE, Settings, model_settings, project_settings, settings_from
from .demo import register_steps
from .state import DefaultsState, state_of

if TYPE_CHECKING:
    import click
    from reactive_record import Change, Plan, Query, ReactiveRecord, RecordBatch
    from reactive_record.model import Model


@hookimpl
def rr_model_features() -> Iterable[str]:
    """The ``defaults`` feature."""
    return (FEATURE,)


@hookimpl
def rr_configure(rr: ReactiveRecord, config: Mapping[str, Any]) -> None:
    """Validate the project's and every model's ``defaults`` sections; keep the state."""
    project = project_settings(rr, config.get(FEATURE))
    settings: dict[str, Settings] = {}
    for model in rr.model_definitions():
        section = model.options.get(FEATURE)
        if section is not None or model.has_feature(FEATURE):
            settings[model.name] = model_settings(rr, model, section, project)
    rr.extensions[FEATURE] = DefaultsState(rr, settings, settings_from(project))


@hookimpl(tryfirst=True)
def rr_fill_change(change: Change) -> None:
    """Fill a create's (or ``new()``'s) missing fields with the model's defaults.

    Runs before the core fills plain field defaults, so overrides and computed
    defaults win. Applies to models that enable the feature (unless
    ``apply_on_creation = false``), and to ``Job.with_defaults().new()`` on any model.
    """
    if change.operation != "create":
        return
    state = state_of(change.rr)
    defaults = state.on_creation(change.model)
    if defaults is None:
        query = change.meta.get("query")
        if query is None or not query.option(FEATURE):
            return
        defaults = state.defaults(change.model)
    defaults.fill(change.after, change.user)


@hookimpl
def rr_fill_records(plan: Plan, records: RecordBatch) -> None:
    """``with_defaults()`` reads: fill fields a record holds as NULL with their default."""
    if not plan.spec.option(FEATURE) or not records:
        return
    defaults = state_of(plan.rr).defaults(plan.model)
    fillable = defaults.fillable
    for position, record in enumerate(records):
        if any(record.get(name) is None for name in fillable):
            values = dict(record)
            defaults.fill(values, plan.user, none=True)
            records[position] = Record(plan.model.name, values, record.extra)


def _with_defaults(query: Query[Any]) -> Query[Any]:
    return query.with_options(**{FEATURE: True})


@hookimpl
def rr_query_methods(model: Model) -> Mapping[str, Callable[..., Any]]:
    """``Job.with_defaults()``: reads fill NULLs with defaults; ``.new()`` fills every default."""
    return {"with_defaults": _with_defaults}


@hookimpl
def rr_checks(rr: ReactiveRecord) -> Iterable[str]:
    """Configured defaults the database contradicts (``Job.priority: config 2, database 3``)."""
    return drift(rr)


@hookimpl
def rr_register_commands(cli: click.Group) -> None:
    """``reactive-record defaults show MODEL``."""
    cli.add_command(defaults_command)


@hookimpl
def rr_demo_steps(register: Callable[..., None]) -> None:
    """A new-job form pre-filled from the schema."""
    register_steps(register)
