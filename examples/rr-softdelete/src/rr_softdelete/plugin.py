"""The ``softdelete`` plugin: destroy sets a timestamp, reads hide rows that have one.

Written only against rr-core's public hooks and API, as any third party could:

- ``rr_rewrite_change`` turns a ``destroy`` into an ``update`` of the timestamp field
  (and soft deletes the ``dependent = "destroy"`` children that soft delete too);
  destroying a row that is already deleted removes it for good.
- ``rr_plan_query`` adds ``{deleted_at: None}`` to every read of the model, so the
  filter runs in SQL (or in the memory store) and counts, ``find`` and includes agree.
- ``rr_query_methods`` adds ``with_deleted()`` and ``only_deleted()``, which set a query
  option that ``rr_plan_query`` reads.
- ``rr_authorize_change`` still asks ``destroy`` of whoever answers ``rr_authorize``
  (rr-permissions, when installed): a soft delete must not pass as a mere update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from reactive_record import (
    Change,
    Model,
    PermissionDenied,
    Plan,
    Query,
    ReactiveRecord,
    Record,
    hookimpl,
)

# pluggy registers the hooks of this module, the demo step's included.
from .demo import rr_demo_steps as rr_demo_steps
from .settings import FEATURE, deleted_fields

R = TypeVar("R", bound=Record)

#: What a read shows; the default hides deleted rows.
HIDE, WITH, ONLY = "hide", "with", "only"


def with_deleted(query: Query[R]) -> Query[R]:
    """``Job.with_deleted()``: deleted rows too."""
    return _showing(query, WITH)


def only_deleted(query: Query[R]) -> Query[R]:
    """``Job.only_deleted()``: deleted rows only (the trash)."""
    return _showing(query, ONLY)


def _showing(query: Query[R], visibility: str) -> Query[R]:
    # Includes copy a query's options to the associated reads; naming the model keeps
    # Job.with_deleted().includes("tasks") from showing deleted tasks.
    return query.with_options(softdelete=(query.model.name, visibility))


def visibility(plan: Plan) -> str:
    """What ``plan`` shows of its model: ``hide``, ``with`` or ``only``.

    An ``unscoped()`` read sees deleted rows too, as Rails' ``unscoped`` drops every
    default scope: the engine's ``dependent = "destroy"`` cascade reads that way.
    """
    if plan.unscoped:
        return WITH
    option = plan.spec.option(FEATURE)
    if option is not None and option[0] == plan.model.name:
        return str(option[1])
    return HIDE


def deleted_field(rr: ReactiveRecord, model: Model) -> str | None:
    """The model's timestamp field, or None when the model does not soft delete."""
    fields: Mapping[str, str] = rr.extensions[FEATURE]
    return fields.get(model.name)


# -- start-up -------------------------------------------------------------------------


@hookimpl
def rr_model_features() -> Iterable[str]:
    """The one feature this plugin provides."""
    return (FEATURE,)


@hookimpl
def rr_configure(rr: ReactiveRecord, config: Mapping[str, Any]) -> None:
    """Validate every model's section; keep each enabled model's field on ``rr.extensions``."""
    rr.extensions[FEATURE] = deleted_fields(rr, config)


@hookimpl
def rr_query_methods(model: Model) -> Mapping[str, Callable[..., Any]] | None:
    """``with_deleted()`` and ``only_deleted()`` on models that enable the feature."""
    if not model.has_feature(FEATURE):
        return None
    return {"with_deleted": with_deleted, "only_deleted": only_deleted}


# -- reads ----------------------------------------------------------------------------


@hookimpl
def rr_plan_query(plan: Plan) -> None:
    """Hide deleted rows unless the query asked for them."""
    field = deleted_field(plan.rr, plan.model)
    if field is None:
        return
    shown = visibility(plan)
    if shown == HIDE:
        plan.add_condition({field: None})
    elif shown == ONLY:
        plan.add_condition({field: {"is_null": False}})


# -- writes ---------------------------------------------------------------------------


@hookimpl
def rr_rewrite_change(change: Change) -> None:
    """Turn a destroy into setting the timestamp, unless the row is deleted already."""
    if change.operation != "destroy" or change.before is None:
        return
    _soft_delete_children(change)
    field = deleted_field(change.rr, change.model)
    if field is None or change.before[field] is not None:
        return
    change.operation = "update"
    change.after = {field: change.rr.clock()}
    change.meta[FEATURE] = "destroy"


def _soft_delete_children(change: Change) -> None:
    """Soft delete the live children that ``dependent = "destroy"`` cascades to.

    When the row stays (a soft delete), its children go to the trash with it. When it
    goes for good, the engine's cascade then finds them deleted and removes them too,
    instead of soft deleting them under a parent that no longer exists.
    """
    rr = change.rr
    for association in change.model.associations.values():
        if association.kind != "has_many" or association.dependent != "destroy":
            continue
        if association.through or association.polymorphic_type is not None:
            continue
        field = deleted_field(rr, rr.model_definition(association.model))
        if field is None:
            continue
        live = {association.foreign_key: change.key, field: None}
        rr.models[association.model].unscoped().where(live).destroy_all(user=change.user)


@hookimpl
def rr_authorize_change(change: Change) -> None:
    """A soft delete is still a destroy: ask ``rr_authorize`` for that action too."""
    if change.meta.get(FEATURE) != "destroy":
        return
    if not change.rr.authorize(change.user, "destroy", change.model, change.before):
        raise PermissionDenied(
            "destroy", change.model.name, change.key, _user_id(change.user), "soft delete"
        )


def _user_id(user: Any) -> Any:
    if isinstance(user, Mapping):
        return user.get("id")
    return getattr(user, "id", None)
