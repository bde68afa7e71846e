"""Model validations, enforced in ``rr_validate_change`` through generated marshmallow schemas.

Presence (implied by ``null = false``), length (implied by a string field's ``length``),
inclusion, exclusion, numericality and format. Declared field defaults are filled first,
so a NOT NULL field with a default never fails presence.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as SchemaError

from ..errors import ValidationError
from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..core import ReactiveRecord
    from ..engine import Change
    from ..model import Field, Model

EXTENSION = "core.validation"
BLANK = "can't be blank"


def _present(value: Any) -> bool:
    if value is None:
        raise SchemaError(BLANK)
    if isinstance(value, str) and not value.strip():
        raise SchemaError(BLANK)
    return True


_BOUNDS: tuple[tuple[str, str, Callable[[Any, Any], bool]], ...] = (
    ("gt", "greater than", operator.gt),
    ("gte", "greater than or equal to", operator.ge),
    ("lt", "less than", operator.lt),
    ("lte", "less than or equal to", operator.le),
)


def _numericality(rules: Mapping[str, Any]) -> Any:
    bounds = [(text, test, rules[op]) for op, text, test in _BOUNDS if rules.get(op) is not None]
    # A decimal compares with each bound as written (0.1), not the float just above it.
    exact = [(text, test, Decimal(repr(bound))) for text, test, bound in bounds]

    def check(value: Any) -> bool:
        if value is None:
            return True
        if isinstance(value, bool) or (
            not isinstance(value, (int, float)) and not hasattr(value, "as_tuple")
        ):
            raise SchemaError("is not a number")
        if rules.get("only_integer") and value != int(value):
            raise SchemaError("must be an integer")
        for text, test, bound in exact if isinstance(value, Decimal) else bounds:
            if not test(value, bound):
                raise SchemaError(f"must be {text} {bound:g}")
        return True

    return check


def _digits(field: Field) -> Any:
    """A decimal's declared precision and scale, as NUMERIC(p, s) holds them.

    Checked here so every store agrees: PostgreSQL would round extra places and refuse
    extra digits, SQLite and the MemoryStore would keep both.
    """
    scale = field.scale if field.scale is not None else 0 if field.precision else None
    whole = None if field.precision is None else field.precision - (scale or 0)

    def check(value: Any) -> bool:
        if not isinstance(value, Decimal):
            return True
        exponent = value.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if scale is not None and places > scale:
            raise SchemaError(
                f"must have at most {scale} decimal places" if scale else "must be a whole number"
            )
        if whole is not None and abs(value) >= Decimal(10) ** whole:
            raise SchemaError(f"must have at most {whole} digits before the decimal point")
        return True

    return check


def _format(pattern: str) -> Any:
    compiled = re.compile(pattern)

    def check(value: Any) -> bool:
        if value is not None and not compiled.search(str(value)):
            raise SchemaError(f"is invalid (must match {pattern})")
        return True

    return check


def _allow_none(validator: Any) -> Any:
    def check(value: Any) -> Any:
        return True if value is None else validator(value)

    return check


def schema_for(model: Model) -> Schema:
    """The marshmallow schema that validates a full row of ``model``."""
    declared: dict[str, fields.Field[Any]] = {}
    for name, field in model.fields.items():
        rules = model.validations.get(name, {})
        validators: list[Any] = []
        presence = rules.get("presence", not field.null and not field.primary_key)
        if presence:
            validators.append(_present)
        length = dict(rules.get("length") or {})
        if field.length and field.type in ("string", "text"):
            length.setdefault("max", field.length)
        if length:
            validators.append(
                _allow_none(
                    validate.Length(length.get("min"), length.get("max"), equal=length.get("exact"))
                )
            )
        if "inclusion" in rules:
            validators.append(_allow_none(validate.OneOf(rules["inclusion"])))
        if "exclusion" in rules:
            validators.append(_allow_none(validate.NoneOf(rules["exclusion"])))
        if field.type == "decimal" and (field.precision or field.scale is not None):
            validators.append(_digits(field))
        if "numericality" in rules:
            validators.append(_numericality(rules["numericality"]))
        if "format" in rules:
            validators.append(_format(rules["format"]))
        if validators:
            # marshmallow skips validators for None, so presence also refuses null itself.
            declared[name] = fields.Raw(
                allow_none=not presence, validate=validators, error_messages={"null": BLANK}
            )
    return Schema.from_dict(declared, name=f"{model.name}Validation")(unknown=EXCLUDE)


#: One field's checks: its name, whether it may be None, and its validators.
Check = tuple[str, bool, tuple[Callable[[Any], Any], ...]]


def checks_for(model: Model) -> tuple[Check, ...]:
    """The checks of ``model``'s schema, each field's validators run as marshmallow would.

    Field by field as ``Schema.validate`` runs them, without its load machinery
    (processors, unknown keys, a validator chain built per call: most of its cost on a
    one-row write): the schema has no processors, its fields are ``Raw`` and every
    validator raises rather than returning False.
    """
    schema = schema_for(model)
    return tuple(
        (name, field.allow_none, tuple(field.validators))
        for name, field in schema.load_fields.items()
    )


@hookimpl
def rr_configure(rr: ReactiveRecord) -> None:
    """Build each model's checks from its generated schema, once, at start-up."""
    rr.extensions[EXTENSION] = {model.name: checks_for(model) for model in rr.model_definitions()}


@hookimpl
def rr_fill_change(change: Change) -> None:
    """Fill the model's declared field defaults into a create's absent fields."""
    if change.operation != "create":
        return
    for name, field in change.model.fields.items():
        if field.default is not None and name not in change.after:
            change.after[name] = field.default


@hookimpl
def rr_validate_change(change: Change) -> None:
    """Validate the row as it will be written; raise ValidationError (field -> messages)."""
    if change.operation == "destroy":
        return
    model = change.model
    checks = change.rr.extensions.get(EXTENSION, {}).get(model.name)
    if checks is None:
        checks = change.rr.extensions.setdefault(EXTENSION, {})[model.name] = checks_for(model)
    row = change.row
    errors: dict[str, Any] = {}
    for name, nullable, validators in checks:
        value = row.get(name)
        if value is None:
            # The primary key of a create is the database's to give.
            if not nullable and not (change.operation == "create" and name == model.primary_key):
                errors[name] = [BLANK]
            continue
        for validator in validators:
            try:
                validator(value)
            except SchemaError as exc:
                errors.setdefault(name, []).extend(exc.messages)
    if errors:
        raise ValidationError(change.model.name, _messages(errors), change.key)


def _messages(errors: Any) -> dict[str, list[str]]:
    if isinstance(errors, Mapping):
        return {
            str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()
        }
    return {"_": [str(errors)]}
