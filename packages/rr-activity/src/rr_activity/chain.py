"""Tamper evidence: each entry of a chained model is linked to its record's previous entry.

``hash = HMAC-SHA256(key, canonical(entry))``, where the canonical text covers every
field of the entry, ``prev_hash`` (the previous entry's ``hash``) included, and the key
comes from ``RR_ACTIVITY_KEY``, outside the database. Someone with database access
alone cannot forge a consistent chain: an edited entry no longer matches its hash, and
a deleted or moved one breaks the link of the entry after it.

Each chain has a head row (``ActivityChain``) holding its last ``sequence`` and ``hash``
with their own HMAC. Appending reads the head FOR UPDATE, so writers of one chain queue
on it whatever the database's isolation level, and deleting the newest entries leaves a
head that no longer matches the tail.

``sequence`` (the position in the chain) is deliberately not hashed: it is how the log
is read in order, so moving entries shows as a broken link ("reordered") rather than as
an edit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reactive_record import Change, ConfigError, InvalidQuery, ReactiveRecord, Record

from .codec import canonical_json, json_safe
from .settings import KEY_ENV, secret_key
from .state import state_of

if TYPE_CHECKING:
    from reactive_record import Transaction

    from .state import ActivityState

#: The query option that reads entries as stored (field values not decoded).
RAW_OPTION = "activity_raw"

#: The fields the hash covers.
HASHED_FIELDS = (
    "id",
    "entity_type",
    "entity_id",
    "entity_uuid",
    "client_id",
    "user_id",
    "action",
    "field_changes",
    "metadata",
    "transaction_id",
    "created_at",
    "prev_hash",
)

PAGE = 1000


def _text(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return stamp.astimezone(dt.timezone.utc).isoformat()
    return _numbers(json_safe(value))


def _numbers(value: Any) -> Any:
    """JSON numbers by their decimal value, as every database keeps them.

    PostgreSQL's JSONB stores a number as ``numeric``: ``1e16`` comes back as the integer
    ``10000000000000000`` and ``-0.0`` as ``0.0``. An integral float is hashed as that
    integer, so an untouched entry verifies wherever it is stored.
    """
    if isinstance(value, float) and math.isfinite(value):
        exact = Decimal(repr(value))
        return int(exact) if exact == exact.to_integral_value() else value
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    return value


def canonical(entry: Mapping[str, Any]) -> str:
    """The text an entry's hash covers (its stored form, field by field)."""
    return canonical_json({name: _text(entry.get(name)) for name in HASHED_FIELDS})


def digest(key: bytes, entry: Mapping[str, Any]) -> str:
    """``HMAC-SHA256(key, canonical(entry))`` as 64 hex digits."""
    return hmac.new(key, canonical(entry).encode(), hashlib.sha256).hexdigest()


def head_id(entity_type: str, entity_id: str) -> str:
    """The key of a record's chain head: ``"Job:42"``."""
    return f"{entity_type}:{entity_id}"


def head_mac(key: bytes, head: str, sequence: int, last: str) -> str:
    """The HMAC that seals a head's ``sequence`` and ``hash``."""
    text = canonical_json({"head": head, "sequence": sequence, "hash": last})
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def link(state: ActivityState, tx: Transaction, entry: dict[str, Any]) -> None:
    """Give ``entry`` its place in its record's chain and move the chain's head to it.

    The head is read with a row lock in ``tx``, so the next writer of this chain waits
    for this transaction and then sees its entry as the tail.
    """
    key = state.key
    heads = state.chain_model
    if key is None or heads is None:  # start-up made both for a chained model
        raise ConfigError(KEY_ENV, None, "the secret the chains are written with")
    name = head_id(entry["entity_type"], entry["entity_id"])
    head = tx.read(heads, name, lock=True)
    entry["sequence"] = 1 if head is None else head["sequence"] + 1
    entry["prev_hash"] = None if head is None else head["hash"]
    entry["hash"] = digest(key, entry)
    values = {
        "sequence": entry["sequence"],
        "hash": entry["hash"],
        "mac": head_mac(key, name, entry["sequence"], entry["hash"]),
    }
    if head is None:
        tx.insert(heads, {"id": name, **values})
    else:
        tx.write(Change(heads, "update", name, Record(heads.name, head), values, None, state.rr))


@dataclass(frozen=True)
class ChainProblem:
    """The first entry of one record's chain that is not as written.

    ``kind`` is ``edited`` (its contents no longer match its hash), ``deleted`` (the entry
    before it is missing, or with ``entry_id`` the last one kept, the newest ones are) or
    ``reordered`` (it links to an entry that comes after it).
    """

    kind: str
    entity_type: str
    entity_id: str
    entry_id: Any
    sequence: Any
    truncated: bool = False

    @property
    def message(self) -> str:
        """A sentence naming the entry and what is wrong with it."""
        record = f"{self.entity_type} {self.entity_id}"
        where = f"{record}: entry {self.entry_id} (#{self.sequence})"
        if self.truncated:
            if self.entry_id is None:
                return f"{record}: every entry of its chain (#1 to #{self.sequence}) was deleted"
            return f"{where} was the newest when entries after it were deleted"
        if self.kind == "edited":
            return f"{where} was edited: its contents do not match its hash"
        if self.kind == "deleted":
            return f"{where} follows a deleted entry: the entry it links to is missing"
        return f"{where} was reordered: it links to an entry that comes after it"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found: entries and chains checked, problems, and each chain's head."""

    entries: int
    chains: int
    problems: tuple[ChainProblem, ...]
    heads: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every chain verified."""
        return not self.problems


def check_chain(key: bytes, entries: Sequence[Mapping[str, Any]]) -> ChainProblem | None:
    """The first problem of one record's chain (entries in ``sequence`` order), or None."""
    position = {entry.get("hash"): index for index, entry in enumerate(entries)}
    previous: str | None = None
    for index, entry in enumerate(entries):
        stored = entry.get("hash")
        kind = None
        if not isinstance(stored, str) or not hmac.compare_digest(stored, digest(key, entry)):
            kind = "edited"
        elif entry.get("prev_hash") != previous:
            linked = position.get(entry.get("prev_hash"))
            kind = "reordered" if linked is not None and linked != index - 1 else "deleted"
        if kind is not None:
            return _problem(kind, entry)
        previous = stored
    return None


def check_head(
    key: bytes, entries: Sequence[Mapping[str, Any]], head: Mapping[str, Any] | None
) -> ChainProblem | None:
    """Whether the chain ends where its head says (None when it does, or has no head)."""
    if head is None or not entries:
        return None
    last = entries[-1]
    sealed = head_mac(key, str(head["id"]), head["sequence"], str(head["hash"]))
    if not hmac.compare_digest(str(head["mac"]), sealed):
        return _problem("edited", last)
    if head["hash"] != last.get("hash"):
        return _problem("deleted", last, truncated=True)
    return None


def _problem(kind: str, entry: Mapping[str, Any], truncated: bool = False) -> ChainProblem:
    return ChainProblem(
        kind,
        str(entry.get("entity_type")),
        str(entry.get("entity_id")),
        entry.get("id"),
        entry.get("sequence"),
        truncated,
    )


def verify(
    rr: ReactiveRecord,
    model: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk every chain (or ``model``'s) and report the first problem of each.

    :param rr: The instance whose log to check; needs ``RR_ACTIVITY_KEY``.
    :param model: Only this entity type.
    :param progress: Called with the number of entries checked since the last call.
    """
    key = secret_key()
    if key is None:
        raise ConfigError(KEY_ENV, None, "the secret the chains were written with")
    state = state_of(rr)
    problems: list[ChainProblem] = []
    found: dict[tuple[str, str], str] = {}
    entries = 0
    for batch in _batches(_chains(rr, model, progress), PAGE):
        heads = _heads(state, [head_id(*_identity(chain)) for chain in batch])
        for chain in batch:
            entries += len(chain)
            identity = _identity(chain)
            problem = check_chain(key, chain) or check_head(
                key, chain, heads.get(head_id(*identity))
            )
            if problem is not None:
                problems.append(problem)
            found[identity] = str(chain[-1].get("hash"))
    problems.extend(_emptied(state, model, found))
    return VerifyReport(entries, len(found), tuple(problems), found)


def count_chained(rr: ReactiveRecord, model: str | None = None) -> int:
    """How many entries belong to chains (for a progress bar)."""
    return int(_chained(rr, model).count())


def _identity(chain: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    return str(chain[0]["entity_type"]), str(chain[0]["entity_id"])


def _heads(state: ActivityState, names: list[str]) -> dict[str, Record]:
    if state.chain_model is None:
        return {}
    query = state.rr.models[state.chain_model.name].unscoped().where(id=names)
    return {str(head["id"]): head for head in query.all()}


def _emptied(
    state: ActivityState, model: str | None, seen: Mapping[tuple[str, str], str]
) -> Iterator[ChainProblem]:
    """Heads whose chain has no entry left at all."""
    if state.chain_model is None:
        return
    for head in state.rr.models[state.chain_model.name].unscoped().all():
        entity_type, _, entity_id = str(head["id"]).partition(":")
        if model not in (None, entity_type):
            continue
        if (entity_type, entity_id) not in seen:
            yield ChainProblem("deleted", entity_type, entity_id, None, head["sequence"], True)


def _chained(rr: ReactiveRecord, model: str | None) -> Any:
    state = state_of(rr)
    query = state.logs.unscoped().with_options(**{RAW_OPTION: True})
    query = query.where(sequence={"ne": None})
    if model is None:
        return query
    if state.activity(model) is None:
        rr.model_definition(model)  # an unknown model is a ConfigError naming the models
        raise InvalidQuery(f"{model} does not keep an activity log (features.activity is off)")
    return query.where(entity_type=model)


def _batches(chains: Iterable[list[Record]], size: int) -> Iterator[list[list[Record]]]:
    batch: list[list[Record]] = []
    for chain in chains:
        batch.append(chain)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _chains(
    rr: ReactiveRecord, model: str | None, progress: Callable[[int], None] | None
) -> Iterator[list[Record]]:
    """Each record's chain in ``sequence`` order, read in pages (keyset, not offsets)."""
    base = _chained(rr, model).order("entity_type", "entity_id", "sequence").limit(PAGE)
    current: list[Record] = []
    after: Record | None = None
    while True:
        query = base if after is None else base.where(_after(after))
        page = query.all()
        for entry in page:
            if current and (entry["entity_type"], entry["entity_id"]) != _identity(current):
                yield current
                current = []
            current.append(entry)
        if progress is not None and page:
            progress(len(page))
        if len(page) < PAGE:
            break
        after = page[-1]
    if current:
        yield current


def _after(entry: Record) -> dict[str, Any]:
    kind, key, sequence = entry["entity_type"], entry["entity_id"], entry["sequence"]
    return {
        "or": [
            {"entity_type": {"gt": kind}},
            {"entity_type": kind, "entity_id": {"gt": key}},
            {"entity_type": kind, "entity_id": key, "sequence": {"gt": sequence}},
            {
                "entity_type": kind,
                "entity_id": key,
                "sequence": sequence,
                "id": {"gt": entry["id"]},
            },
        ]
    }
