"""The public functions. Each takes a model's handle (``rr.models.Job``), which names the
instance too: a process may hold several instances, and the plugin keeps no module state.
``refresh`` takes the instance (every model) or a handle (that model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from reactive_record import Query

from . import forms
from .defaults import FieldDefault, ModelDefaults
from .state import DefaultsState, state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Model

Form = TypeVar("Form")


def _target(model: Query[Any]) -> tuple[DefaultsState, Model]:
    if not isinstance(model, Query):
        raise TypeError(f"pass the model's handle (such as rr.models.Job), not {model!r}")
    return state_of(model.rr), model.model


def _defaults(model: Query[Any]) -> ModelDefaults:
    state, definition = _target(model)
    return state.defaults(definition)


def defaults_for(model: Query[Any], user: Any = None) -> dict[str, Any]:
    """The defaults a new record of ``model`` gets now, by field (server-generated left out).

    Time defaults are evaluated on the instance's clock, JSON defaults are fresh objects,
    and computed defaults run with ``user`` as the acting user.
    """
    return _defaults(model).evaluated(user)


def describe(model: Query[Any]) -> tuple[FieldDefault, ...]:
    """Every field of ``model`` that has a default, with its source, in field order."""
    return tuple(_defaults(model).entries.values())


def server_generated(model: Query[Any]) -> frozenset[str]:
    """The fields the database fills itself at insert: forms should leave them out."""
    return _defaults(model).server_generated


def populate_form(form: Form, model: Query[Any], user: Any = None) -> Form:
    """Fill the missing fields of ``form`` with ``model``'s defaults, as form strings.

    ``form`` is a dict or a multi-value form (``getlist`` / ``add``, as werkzeug's
    ``MultiDict``; copy an immutable ``request.form`` first); it is changed in place and
    returned. Keys it has are left alone, unless empty where the model counts "" as
    missing. Computed defaults see the values the form already holds. Nothing is filled
    when the model sets ``apply_on_form_population = false``.
    """
    state, definition = _target(model)
    settings = state.settings_for(definition)
    if not settings.apply_on_form_population:
        return form
    values = forms.present_values(form, definition, settings.empty_missing)
    present = set(values)
    state.defaults(definition).fill(values, user)
    for name, value in values.items():
        if name not in present and value is not None:
            forms.write(form, name, value)
    return form


def refresh(target: ReactiveRecord | Query[Any]) -> None:
    """Read the database's defaults again on next use (call it after a migration).

    ``target`` is the instance (every model) or a model's handle (that model only).
    """
    if isinstance(target, Query):
        state, definition = _target(target)
        state.refresh(definition)
    else:
        state_of(target).refresh()
