"""Client-generated entries: made where the change happens, validated by the authority.

The client calls :func:`generate` with the record as it was, the changed values and its
user, and sends the result (plain JSON) along with its change. The authority calls
:func:`validate` (or :func:`validate_batch`) with the user it authenticated; an entry is
stored only when it is well formed, attributed to that user, about a record that exists
and that the user may read, with a known action and tracked fields only. The server owns
``client_id``, ``created_at``, ``transaction_id``, the chain fields and the uniqueness of
``id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError as SchemaError
from reactive_record import (
    SYSTEM,
    ActivityRejected,
    InvalidQuery,
    ReactiveRecord,
    Record,
    Transaction,
)

from . import request_context
from .chain import RAW_OPTION
from .codec import REDACTED, decode_changes, json_safe
from .entries import append, base_metadata, diff, field_change, now
from .errors import BatchRejected, MalformedEntry
from .schema import EntrySchema, messages_text
from .settings import ModelActivity
from .state import ActivityState, identity, model_name, state_of

_SCHEMA = EntrySchema()
_WITHOUT_CHANGES = ("update", "revert")


def generate(
    rr: ReactiveRecord,
    record_before: Record | None,
    changes: Mapping[str, Any],
    user: Any,
    action: str = "update",
    *,
    model: Any = None,
) -> dict[str, Any] | None:
    """Build the entry of a change where it is made, as JSON-ready data to send.

    :param rr: The instance that knows the model and its activity configuration.
    :param record_before: The record before the change (None for a create: then pass
        ``model=`` and include the primary key in ``changes``).
    :param changes: The new values of the changed fields; untracked fields are left out,
        redacted ones logged as ``"[REDACTED]"``.
    :param user: Who made the change.
    :param action: ``create``, ``update``, ``destroy`` or a custom action of the model.
    :returns: The entry, or None when no tracked field changed (nothing to log).
    """
    state = state_of(rr)
    name = record_before.model_name if record_before is not None else model_name(model)
    activity = state.activity(name)
    if activity is None:
        raise ActivityRejected(f"{name} does not keep an activity log (features.activity is off)")
    who = identity(user)
    if who is None:
        raise ActivityRejected("an entry needs the user who made the change")
    definition = activity.model
    values = definition.coerce_values(changes)
    before = dict(record_before) if record_before is not None else None
    operation = action if action in ("create", "destroy") else "update"
    field_changes = diff(activity, operation, before, values)
    if not field_changes and action in _WITHOUT_CHANGES:
        return None
    row = {**(before or {}), **values}
    key = row.get(definition.primary_key)
    if key is None:
        raise ActivityRejected(f"the {name} entry needs the record's {definition.primary_key}")
    created_at = now(state)
    context_action, extra = request_context.current()
    metadata = base_metadata(state, created_at, extra)
    metadata["client_generated"] = True
    uuid_value = row.get(activity.uuid_field) if activity.uuid_field else None
    return {
        "id": str(state.new_id()),
        "entity_type": name,
        "entity_id": str(key),
        "entity_uuid": None if uuid_value is None else str(uuid_value),
        "client_id": json_safe(state.client_id(activity, row)),
        "user_id": who,
        "action": context_action or action,
        "field_changes": field_changes,
        "metadata": metadata,
        "transaction_id": None,
        "created_at": created_at.isoformat(),
    }


def validate(rr: ReactiveRecord, entry: Mapping[str, Any], authenticated_user: Any) -> Record:
    """Accept one client entry and store it, or raise :class:`ActivityRejected`.

    :returns: The stored entry as :class:`Record` (field values decoded).
    """
    state = state_of(rr)
    with rr.transaction() as tx:
        return _accept(state, tx, entry, authenticated_user)


@dataclass(frozen=True)
class EntryResult:
    """The outcome of one entry of a batch."""

    index: int
    entry: Any
    record: Record | None
    error: ActivityRejected | None

    @property
    def accepted(self) -> bool:
        """True when the entry passed every check."""
        return self.error is None

    @property
    def reason(self) -> str | None:
        """Why the entry was refused (None when accepted)."""
        return None if self.error is None else self.error.reason


@dataclass(frozen=True)
class BatchReport:
    """Entry by entry, what ``validate_batch`` decided; ``stored`` says whether it was kept."""

    results: tuple[EntryResult, ...]
    stored: bool

    @property
    def accepted(self) -> tuple[EntryResult, ...]:
        """The entries that passed."""
        return tuple(r for r in self.results if r.accepted)

    @property
    def rejected(self) -> tuple[EntryResult, ...]:
        """The entries that were refused, each with its reason."""
        return tuple(r for r in self.results if not r.accepted)

    @property
    def ok(self) -> bool:
        """True when every entry was accepted."""
        return not self.rejected

    def __iter__(self) -> Iterator[EntryResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


def validate_batch(
    rr: ReactiveRecord,
    entries: Sequence[Mapping[str, Any]],
    authenticated_user: Any,
    *,
    all_or_nothing: bool = True,
) -> BatchReport:
    """Validate many client entries in one transaction and report on each.

    With ``all_or_nothing`` one refusal refuses the batch: nothing is stored and
    :class:`BatchRejected` (an ActivityRejected) carries the report. Otherwise the
    accepted entries are stored and the report lists the refused ones with reasons.
    """
    state = state_of(rr)
    results: list[EntryResult] = []
    with rr.transaction() as tx:
        for index, entry in enumerate(entries):
            try:
                record = _accept(state, tx, entry, authenticated_user)
            except ActivityRejected as exc:
                results.append(EntryResult(index, entry, None, exc))
            else:
                results.append(EntryResult(index, entry, record, None))
        report = BatchReport(tuple(results), stored=True)
        if all_or_nothing and not report.ok:
            raise BatchRejected(BatchReport(tuple(results), stored=False))
    return report


def _accept(state: ActivityState, tx: Transaction, raw: Any, user: Any) -> Record:
    if not isinstance(raw, Mapping):
        raise MalformedEntry({"_schema": ["Invalid input type."]}, "not a mapping", raw)
    try:
        data = _SCHEMA.load(raw)
    except SchemaError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise MalformedEntry(messages, messages_text(messages), raw) from None
    who = identity(user)
    if who is None:
        raise ActivityRejected("no authenticated user", raw)
    if user is SYSTEM and not state.rr.settings.get("system_writes", False):
        raise ActivityRejected("entries as SYSTEM need `system_writes = true`", raw)
    if data["user_id"] != who:
        raise ActivityRejected(
            f"the entry is attributed to user {data['user_id']!r}, "
            f"but the authenticated user is {who!r}",
            raw,
        )
    activity = _known_model(state, data["entity_type"], raw)
    model = activity.model
    action = data["action"]
    if not activity.knows_action(action):
        known = ", ".join(sorted(activity.actions))
        raise ActivityRejected(f"unknown action {action!r} for {model.name} ({known})", raw)
    changes = _checked_changes(activity, data["field_changes"], raw)
    if not changes and action in _WITHOUT_CHANGES:
        raise ActivityRejected(f"an {action} entry must change a tracked field", raw)
    try:
        key = model.field(model.primary_key).coerce(data["entity_id"], model.name)
    except InvalidQuery:
        key = None
    row = None if key is None else tx.read(model, key, lock=True)
    if row is None and action == "destroy" and key is not None:
        row = _last_known(state, activity, key)
    if row is None:
        raise ActivityRejected(f"unknown entity: there is no {model.name} {data['entity_id']}", raw)
    if not state.rr.authorize(user, "read", model, Record(model.name, row)):
        raise ActivityRejected(f"user {who!r} may not read {model.name} {key}", raw)
    logs = state.logs.unscoped().with_options(**{RAW_OPTION: True})
    if data["id"] is not None and logs.where(id=data["id"]).exists():
        raise ActivityRejected(f"an entry with id {data['id']} already exists", raw)
    created_at = now(state)
    entry_id = data["id"] or state.new_id()
    metadata = json_safe(data["metadata"], "metadata")
    metadata["client_generated"] = True
    stored = append(
        state,
        tx,
        activity,
        {
            "id": entry_id,
            "entity_type": model.name,
            "entity_id": str(key),
            "entity_uuid": row.get(activity.uuid_field) if activity.uuid_field else None,
            "client_id": state.client_id(activity, row),
            "user_id": who,
            "action": action,
            "field_changes": changes,
            "metadata": metadata,
            "transaction_id": state.transaction_id(tx, entry_id),
            "created_at": created_at,
        },
    )
    stored["field_changes"] = decode_changes(stored["field_changes"])
    return Record(state.log_model.name, stored)


def _known_model(state: ActivityState, name: str, raw: Any) -> ModelActivity:
    activity = state.activity(name)
    if activity is not None:
        return activity
    if name in state.rr.models:
        raise ActivityRejected(f"{name} does not keep an activity log", raw)
    raise ActivityRejected(f"unknown entity type {name!r}", raw)


def _checked_changes(
    activity: ModelActivity, changes: Sequence[Mapping[str, Any]], raw: Any
) -> list[dict[str, Any]]:
    model = activity.model
    seen: set[str] = set()
    out = []
    for change in changes:
        name = change["field_name"]
        if name not in model.fields:
            raise ActivityRejected(f"{model.name} has no field {name!r}", raw)
        if name not in activity.tracked:
            raise ActivityRejected(f"field {name!r} of {model.name} is not tracked", raw)
        if name in seen:
            raise ActivityRejected(f"field {name!r} is changed twice in one entry", raw)
        seen.add(name)
        expected = activity.types[name]
        if change["data_type"] != expected:
            raise ActivityRejected(
                f"field {name!r} of {model.name} is {expected}, not {change['data_type']}", raw
            )
        for side in ("old_value", "new_value"):
            value = change[side]
            if value is not None and value != REDACTED:
                try:
                    model.fields[name].coerce(value, model.name)
                except InvalidQuery as exc:
                    raise ActivityRejected(f"{side} of {name!r}: {exc}", raw) from None
        out.append(
            field_change(
                name, change["old_value"], change["new_value"], expected, name in activity.redact
            )
        )
    return out


def _last_known(state: ActivityState, activity: ModelActivity, key: Any) -> dict[str, Any] | None:
    """A destroyed record as its log last knew it (tenant included), for permission checks."""
    model = activity.model
    entries = (
        state.logs.unscoped()
        .where(entity_type=model.name, entity_id=str(key))
        .order("created_at", "id")
        .all()
    )
    if not entries:
        return None
    row: dict[str, Any] = dict.fromkeys(model.fields)
    row[model.primary_key] = key
    for entry in entries:
        if entry["action"] == "destroy":
            continue
        for change in entry["field_changes"]:
            row[change["field_name"]] = change["new_value"]
    tenant = model.tenant_field
    if tenant is not None and entries[-1]["client_id"] is not None:
        row[tenant] = model.fields[tenant].coerce(entries[-1]["client_id"], model.name)
    return row
