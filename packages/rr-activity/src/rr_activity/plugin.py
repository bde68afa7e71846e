"""The ``activity`` plugin: rr-activity's hook implementations (its entry point).

Every change of an activity-enabled model writes its entry in ``rr_on_write``, inside
the change's transaction; reads of ``ActivityLog`` decode field values and are scoped by
the read permission of each entry's record. State lives on ``rr.extensions["activity"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import (
    Association,
    ConfigError,
    InvalidQuery,
    PermissionDenied,
    Record,
    RecordBatch,
    StoreError,
    ValidationError,
    hookimpl,
)

from .chain import RAW_OPTION
from .codec import decode_changes
from .entries import append, entry_for_change
from .logmodel import ASSOCIATION, CHAIN_MODEL, LOG_MODEL, NEWEST_FIRST, chain_table, log_table
from .settings import NAME, any_chained, load_model, load_top, secret_key, tenant_type
from .state import ActivityState, identity

if TYPE_CHECKING:
    import click
    from reactive_record import Change, Model, Plan, Query, ReactiveRecord, Transaction


def _state(rr: ReactiveRecord) -> ActivityState | None:
    state = rr.extensions.get(NAME)
    return state if isinstance(state, ActivityState) else None


# -- start-up -------------------------------------------------------------------------


@hookimpl
def rr_model_features() -> Iterable[str]:
    """The ``activity`` feature."""
    return (NAME,)


@hookimpl
def rr_register_models(
    rr: ReactiveRecord, register: Callable[[str, Mapping[str, Any]], None]
) -> None:
    """Register ``ActivityLog`` (``client_id`` typed as the tenants), and ``ActivityChain``
    (the chain heads) when a model has ``chain = true``."""
    register(LOG_MODEL, log_table(tenant_type(rr.settings)))
    if any_chained(rr.settings):
        register(CHAIN_MODEL, chain_table())


@hookimpl
def rr_configure(rr: ReactiveRecord, config: Mapping[str, Any]) -> None:
    """Validate the sections, add ``activity_logs`` to each logged model, keep the state."""
    top = load_top(rr, config)
    log_model = rr.model_definition(LOG_MODEL)
    if "field_changes" not in log_model.fields:
        raise ConfigError(
            f"{rr.config_prefix}.models.{LOG_MODEL}.fields",
            None,
            "rr-activity's own fields (a model of that name may only add features)",
        )
    models = {}
    for model in rr.model_definitions():
        if not model.has_feature(NAME):
            continue
        if model is log_model:
            raise ConfigError(
                f"{rr.config_prefix}.models.{LOG_MODEL}.features.{NAME}", True, "false"
            )
        models[model.name] = load_model(rr, model, model.options.get(NAME))
        if ASSOCIATION in model.associations:
            raise ConfigError(
                f"{rr.config_prefix}.models.{model.name}.has_many.{ASSOCIATION}",
                ASSOCIATION,
                "another name: rr-activity adds this association",
            )
        model.associations[ASSOCIATION] = Association(
            ASSOCIATION,
            "has_many",
            LOG_MODEL,
            "entity_id",
            polymorphic_type=("entity_type", model.name),
            order=NEWEST_FIRST,
        )
    chained = any(activity.chain for activity in models.values())
    rr.extensions[NAME] = ActivityState(
        rr=rr,
        log_model=log_model,
        chain_model=rr.model_definition(CHAIN_MODEL) if chained else None,
        models=models,
        user_model=top["user_model"],
        key=secret_key(),
        client_text=log_model.fields["client_id"].type == "string",
    )


@hookimpl
def rr_query_methods(model: Model) -> Mapping[str, Callable[..., Any]] | None:
    """``Job.with_activity_logs(limit=5)`` on activity-enabled models."""
    if not model.has_feature(NAME):
        return None
    return {"with_activity_logs": with_activity_logs}


def with_activity_logs(query: Query[Any], limit: int | None = None) -> Query[Any]:
    """Include each record's entries as ``record.activity_logs``, newest first.

    :param limit: At most this many entries per record.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidQuery(
            f"with_activity_logs(limit=...) takes a non-negative integer, not {limit!r}"
        )
    limits = dict(query.spec.option("include_limits") or ())
    limits.pop(ASSOCIATION, None)
    if limit is not None:
        limits[ASSOCIATION] = limit
    if ASSOCIATION not in query.spec.includes:
        query = query.includes(ASSOCIATION)
    return query.with_options(include_limits=tuple(sorted(limits.items())))


@hookimpl
def rr_checks(rr: ReactiveRecord) -> Iterable[str]:
    """The log's table must exist once a model logs its changes."""
    state = _state(rr)
    if state is None or not state.models:
        return ()
    problems = []
    try:
        state.logs.unscoped().with_options(**{RAW_OPTION: True}).limit(1).all()
    except StoreError as exc:
        problems.append(
            f"activity: cannot read the {state.log_model.table} table (create it with "
            f"rr.create_tables() or your migrations): {exc}"
        )
    return problems


# -- reads ----------------------------------------------------------------------------


@hookimpl
def rr_plan_query(plan: Plan) -> None:
    """Entries inherit their record's read permission (asked through ``rr_authorize``).

    Applied as a post-filter on ``ActivityLog`` reads unless the read is unscoped or no
    installed plugin answers ``rr_authorize``. A destroyed record is judged as its log
    last knew it (its tenant included), so its history stays with its tenant.
    """
    state = _state(plan.rr)
    if state is None or plan.model is not state.log_model or plan.unscoped:
        return
    if not plan.rr.plugin_manager.hook.rr_authorize.get_hookimpls():
        return
    plan.add_post_filter(_ReadableEntities(state, plan.user))


class _ReadableEntities:
    """A post-filter keeping entries whose record the user may read (one check per record
    and tenant).

    Each entry is judged by the tenant it records: a record since moved to another tenant
    keeps its earlier history with the tenant it belonged to, and a destroyed record is
    judged as its log last knew it.
    """

    def __init__(self, state: ActivityState, user: Any) -> None:
        self.state = state
        self.user = user
        self.seen: dict[tuple[str, str, Any], bool] = {}

    def __call__(self, entry: Record) -> bool:
        found = (entry["entity_type"], entry["entity_id"], entry["client_id"])
        allowed = self.seen.get(found)
        if allowed is None:
            allowed = self.seen[found] = self._readable(entry)
        return allowed

    def _readable(self, entry: Record) -> bool:
        rr = self.state.rr
        activity = self.state.activity(entry["entity_type"])
        if activity is None:
            return False
        model = activity.model
        try:
            key = model.field(model.primary_key).coerce(entry["entity_id"], model.name)
        except InvalidQuery:
            return False
        record = rr.models[model.name].unscoped().where({model.primary_key: key}).first()
        row: dict[str, Any] = dict.fromkeys(model.fields) if record is None else dict(record)
        row[model.primary_key] = key
        if model.tenant_field is not None:
            client = entry["client_id"]
            tenant = model.fields[model.tenant_field]
            row[model.tenant_field] = None if client is None else tenant.coerce(client, model.name)
        return rr.authorize(self.user, "read", model, Record(model.name, row))


@hookimpl
def rr_decorate_records(plan: Plan, records: RecordBatch) -> None:
    """Decode logged field values; attach ``entry.user`` when ``user_model`` is configured."""
    state = _state(plan.rr)
    if state is None or plan.model is not state.log_model or not records:
        return
    if plan.spec.option(RAW_OPTION):
        return
    users = _users(state, plan, records) if state.user_model else None
    name = plan.model.name
    hidden = _HiddenFields(state, plan)
    for position, record in enumerate(records):
        values = dict(record)
        changes = decode_changes(values["field_changes"])
        unseen = hidden.of(record["entity_type"])
        if unseen:
            changes = [c for c in changes if c["field_name"] not in unseen]
        values["field_changes"] = changes
        extra = dict(record.extra)
        if users is not None:
            extra["user"] = users.get(record["user_id"])
        records[position] = Record(name, values, extra or None)


class _HiddenFields:
    """The fields each logged model hides from the reader (asked once per model): their
    changes are left out of the entries, as the fields are left out of the records."""

    def __init__(self, state: ActivityState, plan: Plan) -> None:
        self.state = state
        self.plan = plan
        self.found: dict[str, frozenset[str]] = {}

    def of(self, entity_type: str) -> frozenset[str]:
        found = self.found.get(entity_type)
        if found is None:
            activity = self.state.activity(entity_type)
            if activity is None or self.plan.unscoped:
                found = frozenset()
            else:
                found = self.state.rr.hidden_fields(self.plan.user, activity.model)
            self.found[entity_type] = found
        return found


def _users(state: ActivityState, plan: Plan, records: RecordBatch) -> dict[str, Record]:
    model = state.rr.model_definition(state.user_model or "")
    pk = model.fields[model.primary_key]
    keys = []
    for user_id in {record["user_id"] for record in records}:
        try:
            keys.append(pk.coerce(user_id, model.name))
        except InvalidQuery:
            continue  # "system", or an id of another shape: no user record
    if not keys:
        return {}
    query = state.rr.models[model.name].where({model.primary_key: keys})
    if plan.user is not None:
        query = query.as_user(plan.user)
    if plan.unscoped:
        query = query.unscoped()
    return {str(user[model.primary_key]): user for user in query.all()}


# -- writes ---------------------------------------------------------------------------


@hookimpl
def rr_authorize_change(change: Change) -> None:
    """The log is append-only; logged writes need an actor (or ``system_writes``)."""
    state = _state(change.rr)
    if state is None:
        return
    model = change.model
    if model is state.log_model or model is state.chain_model:
        raise PermissionDenied(
            change.operation,
            model.name,
            change.key,
            identity(change.user),
            "the activity log is append-only; rr-activity writes it",
        )
    if model.name not in state.models:
        return  # not logged: nothing more to require
    if change.user is None and not change.rr.settings.get("system_writes", False):
        raise PermissionDenied(
            change.operation,
            model.name,
            change.key,
            None,
            "a logged write needs an acting user (user=... or rr.acting_as); "
            "with `system_writes = true` it is attributed to system",
        )
    pk = model.primary_key
    if change.operation == "update" and pk in change.after and change.after[pk] != change.key:
        # The log keeps a record's history under its key: a new key would orphan it.
        raise ValidationError(
            model.name, {pk: ["cannot change: the record's activity log is kept under it"]}
        )
    if change.user is not None and not identity(change.user):
        # Never logged as system: an entry must name who made the change.
        raise PermissionDenied(
            change.operation,
            model.name,
            change.key,
            None,
            f"a logged write needs a user with an id; {change.user!r} has none",
        )


@hookimpl(trylast=True)
def rr_on_write(change: Change, tx: Transaction) -> None:
    """Write the change's entry in its transaction (nothing when no tracked field changed)."""
    state = _state(change.rr)
    if state is None:
        return
    activity = state.models.get(change.model.name)
    if activity is None:
        return
    entry = entry_for_change(state, activity, change, tx)
    if entry is not None:
        # Nothing in the entry comes from the database: no need to read it back.
        append(state, tx, activity, entry, read_back=False)


# -- tools ----------------------------------------------------------------------------


@hookimpl
def rr_register_commands(cli: click.Group) -> None:
    """``reactive-record activity log MODEL KEY`` and ``reactive-record activity verify``."""
    from .cli import activity

    cli.add_command(activity)


@hookimpl
def rr_demo_steps(register: Callable[..., None]) -> None:
    """Log the demo's jobs, and show an update and its history."""
    from .demo import MODELS, show_history

    register("Activity log: an update and its history", show_history, models=MODELS)
