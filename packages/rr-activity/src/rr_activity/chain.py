"""Tamper evidence: each entry of a chained model is linked to its record's previous entry.

``hash = HMAC-SHA256(key, canonical(entry))``, where the canonical text covers every
field of the entry, ``prev_hash`` (the previous entry's ``hash``) included, and the key
comes from ``RR_ACTIVITY_KEY``, outside the database. Someone with database access
alone cannot forge a consistent chain: an edited entry no longer matches its hash, and
a deleted or moved one breaks the link of the entry after it.

``sequence`` (the position in the chain) is deliberately not hashed: it is how the log
is read in order, so moving entries shows as a broken link ("reordered") rather than as
an edit. Deleting the newest entries of a chain leaves a consistent, shorter chain; keep
:attr:`VerifyReport.heads` somewhere else to detect that too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reactive_record import ConfigError, ReactiveRecord, Record

from .codec import canonical_json, json_safe
from .settings import KEY_ENV, secret_key
from .state import state_of

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
    return json_safe(value)


def canonical(entry: Mapping[str, Any]) -> str:
    """The text an entry's hash covers (its stored form, field by field)."""
    return canonical_json({name: _text(entry.get(name)) for name in HASHED_FIELDS})


def digest(key: bytes, entry: Mapping[str, Any]) -> str:
    """``HMAC-SHA256(key, canonical(entry))`` as 64 hex digits."""
    return hmac.new(key, canonical(entry).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """The first entry of one record's chain that is not as written.

    ``kind`` is ``edited`` (its contents no longer match its hash), ``deleted`` (the entry
    before it is missing) or ``reordered`` (it links to an entry that comes after it).
    """

    kind: str
    entity_type: str
    entity_id: str
    entry_id: Any
    sequence: Any

    @property
    def message(self) -> str:
        """A sentence naming the entry and what is wrong with it."""
        where = f"{self.entity_type} {self.entity_id}: entry {self.entry_id} (#{self.sequence})"
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
            return ChainProblem(
                kind,
                str(entry.get("entity_type")),
                str(entry.get("entity_id")),
                entry.get("id"),
                entry.get("sequence"),
            )
        previous = stored
    return None


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
    problems: list[ChainProblem] = []
    heads: dict[tuple[str, str], str] = {}
    entries = chains = 0
    for chain in _chains(rr, model, progress):
        entries += len(chain)
        chains += 1
        problem = check_chain(key, chain)
        if problem is not None:
            problems.append(problem)
        heads[(str(chain[0]["entity_type"]), str(chain[0]["entity_id"]))] = str(
            chain[-1].get("hash")
        )
    return VerifyReport(entries, chains, tuple(problems), heads)


def count_chained(rr: ReactiveRecord, model: str | None = None) -> int:
    """How many entries belong to chains (for a progress bar)."""
    return int(_chained(rr, model).count())


def _chained(rr: ReactiveRecord, model: str | None) -> Any:
    query = state_of(rr).logs.unscoped().with_options(**{RAW_OPTION: True})
    query = query.where(sequence={"ne": None})
    return query if model is None else query.where(entity_type=model)


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
            if current and (entry["entity_type"], entry["entity_id"]) != (
                current[0]["entity_type"],
                current[0]["entity_id"],
            ):
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
