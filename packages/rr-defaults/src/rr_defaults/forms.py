"""Pre-filling forms: a plain dict, or a multi-value form object such as werkzeug's MultiDict.

Keys the form already has are left alone (unless empty and the model counts "" as
missing); each default is written as the string a browser would send back. Fields the
database generates are never written: forms leave them out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, MutableMapping
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from reactive_record import InvalidQuery
from reactive_record.model import Model


@runtime_checkable
class MultiValueForm(Protocol):
    """A form with several values per key: ``getlist(key)`` and ``add(key, value)``."""

    def getlist(self, key: str) -> list[Any]:
        """Every value of ``key`` (empty when absent)."""

    def add(self, key: str, value: Any) -> None:
        """Append a value to ``key``."""


def form_text(value: Any) -> str:
    """A value as a form field's string: ISO dates, ``true``/``false``, JSON for objects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def present_values(form: Any, model: Model, empty_missing: bool) -> dict[str, Any]:
    """The model's fields the form already fills, coerced where they can be (else as sent)."""
    present: dict[str, Any] = {}
    for name, field in model.fields.items():
        sent = _sent(form, name)
        if sent is None or (empty_missing and sent == ""):
            continue
        try:
            present[name] = field.coerce(sent, model.name)
        except InvalidQuery:
            present[name] = sent
    return present


def _sent(form: Any, name: str) -> Any:
    if isinstance(form, MultiValueForm):
        sent = [v for v in form.getlist(name) if v is not None]
        if not sent:
            return None
        return sent[0] if all(v == "" for v in sent) or len(sent) == 1 else sent
    if isinstance(form, Mapping):
        return form.get(name)
    raise TypeError(f"populate_form takes a dict or a multi-value form, not {type(form).__name__}")


def write(form: Any, name: str, value: Any) -> None:
    """Set ``name`` to ``value``'s form text, replacing an empty value the form had."""
    text = form_text(value)
    if isinstance(form, MultiValueForm):
        setlist = getattr(form, "setlist", None)
        if setlist is not None:
            setlist(name, [text])
            return
        if name in form:  # type: ignore[operator]
            del form[name]  # type: ignore[attr-defined]
        form.add(name, text)
        return
    if isinstance(form, MutableMapping):
        form[name] = text
        return
    raise TypeError(f"populate_form cannot write to {type(form).__name__}")
