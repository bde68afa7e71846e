"""The public functions. Each takes the instance first, as a process may hold several.

``model`` may be a name, a :class:`~reactive_record.Model` or a handle:
``defaults_for(rr, "Job")`` and ``defaults_for(rr, rr.models.Job)`` are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from . import forms
from .defaults import FieldDefault
from .state import ModelRef, resolve_model, state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord

Form = TypeVar("Form")


def defaults_for(rr: ReactiveRecord, model: ModelRef, user: Any = None) -> dict[str, Any]:
    """The defaults a new record of ``model`` gets now, by field (server-generated left out).

    Time defaults are evaluated on the instance's clock, JSON defaults are fresh objects,
    and computed defaults run with ``user`` as the acting user.
    """
    definition = resolve_model(rr, model)
    return state_of(rr).defaults(definition).evaluated(user)


def describe(rr: ReactiveRecord, model: ModelRef) -> tuple[FieldDefault, ...]:
    """Every field of ``model`` that has a default, with its source, in field order."""
    definition = resolve_model(rr, model)
    return tuple(state_of(rr).defaults(definition).entries.values())


def server_generated(rr: ReactiveRecord, model: ModelRef) -> frozenset[str]:
    """The fields the database fills itself at insert: forms should leave them out."""
    definition = resolve_model(rr, model)
    return state_of(rr).defaults(definition).server_generated


def populate_form(rr: ReactiveRecord, form: Form, model: ModelRef, user: Any = None) -> Form:
    """Fill the missing fields of ``form`` with ``model``'s defaults, as form strings.

    ``form`` is a dict or a multi-value form (``getlist`` / ``add``, as werkzeug's
    ``MultiDict``); it is changed in place and returned. Keys it has are left alone,
    unless empty where the model counts "" as missing. Computed defaults see the values
    the form already holds. Nothing is filled when the model sets
    ``apply_on_form_population = false``.
    """
    definition = resolve_model(rr, model)
    state = state_of(rr)
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


def refresh(rr: ReactiveRecord, model: ModelRef | None = None) -> None:
    """Read the database's defaults again on next use (call it after a migration)."""
    definition = None if model is None else resolve_model(rr, model)
    state_of(rr).refresh(definition)
