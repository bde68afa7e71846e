"""The drift check: configured defaults that disagree with the database's own.

Each ``values`` entry, and each field's ``default``, of a model that enables the feature
is compared with what the database declares for that column (where it declares
anything): ``Job.priority: config 2, database 3``. ``overrides`` and ``computed`` are
deliberate and never reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reactive_record import SchemaDefault

from .defaults import database_value
from .state import state_of

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Model


def show(value: Any) -> str:
    """A value as a problem message shows it: strings quoted, dates and decimals plain."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value)


def drift(rr: ReactiveRecord) -> list[str]:
    """Every configured default of a defaults-enabled model that the database contradicts."""
    state = state_of(rr)
    problems: list[str] = []
    for model in rr.model_definitions():
        settings = state.settings_for(model)
        if not settings.enabled:
            continue
        declared = state.defaults(model).database
        for name, value, where in _configured(model, settings.values):
            found = declared.get(name)
            if found is not None:
                problem = _compare(model, name, value, where, found)
                if problem is not None:
                    problems.append(problem)
    return problems


def _configured(model: Model, values: Any) -> Iterator[tuple[str, Any, str]]:
    yield from ((name, value, "") for name, value in values.items())
    if model.reflect:
        return  # a reflected model's field defaults were read from the database
    for name, field in model.fields.items():
        if field.default is not None and name not in values:
            yield name, field.default, f" (fields.{name}.default)"


def _compare(model: Model, name: str, value: Any, where: str, found: SchemaDefault) -> str | None:
    label = f"{model.name}.{name}: config {show(value)}{where}, database"
    if found.server_generated:
        return f"{label} generates it ({found.expression})"
    current = database_value(found)
    if value == current and type(value) is type(current):
        return None
    shown = (
        show(current)
        if not callable(found.value) or isinstance(current, (dict, list))
        else (found.expression or show(current))
    )
    return f"{label} {shown}"
