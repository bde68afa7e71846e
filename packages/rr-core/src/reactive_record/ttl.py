"""The query cache with TTLs, preloading, and the coordinator of query groups.

A live result stays in the cache while something holds it (a subscriber, a coordinator
group) or a preload keeps it warm; after the last holder leaves it stays for its TTL
(``"none"``: not at all, ``"forever"``: until the size bound needs the room). The TTL
is the query's own (``with_ttl``), else the model's for the kind of query (``find``,
``collection``, ``scopes``, ``preload``), else ``"none"``. The size bound
(``max_cached_queries``) evicts the least recently used results nothing holds.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .durations import parse_ttl
from .errors import InvalidQuery

if TYPE_CHECKING:
    from .live import LiveQueries
    from .query import Query
    from .records import Record
    from .snapshots import Snapshot

DEFAULT_TTL = "none"
DEFAULT_TTLS = {"preload": "forever"}
DEFAULT_MAX_CACHED = 1000

#: How long a result stays, as parsed: ``None`` is forever.
Lifetime = dt.timedelta | None


def resolve_ttl(explicit: str | None, model_ttls: Mapping[str, str], kind: str) -> Lifetime:
    """The TTL of a query: its own, else the model's for ``kind``, else the default.

    The default is ``"none"``, except for a preload, which is kept ``"forever"`` (until
    the size bound needs the room): a preload that expired at once would do nothing.
    """
    text = explicit or model_ttls.get(kind) or DEFAULT_TTLS.get(kind, DEFAULT_TTL)
    try:
        return parse_ttl(text)
    except ValueError as exc:
        raise InvalidQuery(str(exc)) from None


def longer(a: Lifetime, b: Lifetime) -> Lifetime:
    """The longer of two lifetimes (forever wins)."""
    if a is None or b is None:
        return None
    return max(a, b)


@dataclass
class Entry:
    """A cached live result and what keeps it."""

    live: Any
    ttl: Lifetime = dt.timedelta(0)
    holders: int = 0
    expires_at: dt.datetime | None = None
    preload_until: dt.datetime | None = None
    preload_forever: bool = False

    def kept(self, now: dt.datetime) -> bool:
        """Whether a holder or a preload keeps the entry at ``now``."""
        if self.holders or self.preload_forever:
            return True
        return self.preload_until is not None and now < self.preload_until

    def expired(self, now: dt.datetime) -> bool:
        """Whether nothing keeps it and its TTL has run out."""
        if self.kept(now):
            return False
        return self.expires_at is not None and now >= self.expires_at


class QueryCache:
    """Live results by key, with holders, TTLs, preloads and a size bound."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        #: Entries with a deadline (nothing holds them): the only ones that can expire.
        self._timed: dict[str, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def lives(self) -> list[Any]:
        """Every cached live result."""
        return [entry.live for entry in self._entries.values()]

    def get(self, key: str) -> Any | None:
        """The live result cached under ``key`` (marked recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.live

    def peek(self, key: str) -> Any | None:
        """The live result cached under ``key``, without marking it used."""
        entry = self._entries.get(key)
        return None if entry is None else entry.live

    def add(self, live: Any) -> None:
        """Cache a new live result (nothing holds it yet)."""
        self._entries[live.key] = Entry(live)

    def hold(self, live: Any, ttl: Lifetime) -> None:
        """One more holder; its TTL counts once the last holder leaves."""
        entry = self._entries[live.key]
        entry.holders += 1
        entry.ttl = longer(entry.ttl, ttl)
        entry.expires_at = None
        self._track(live.key, entry)

    def release(self, live: Any, now: dt.datetime) -> None:
        """One holder fewer; the last one starts the TTL."""
        entry = self._entries.get(live.key)
        if entry is None or entry.holders == 0:
            return
        entry.holders -= 1
        if entry.holders == 0:
            entry.expires_at = None if entry.ttl is None else now + entry.ttl
        self._track(live.key, entry)

    def preload(self, live: Any, ttl: Lifetime, now: dt.datetime) -> None:
        """Keep ``live`` warm for ``ttl`` (forever for None) with no holder."""
        entry = self._entries[live.key]
        if ttl is None:
            entry.preload_forever = True
            return
        until = now + ttl
        if entry.preload_until is None or until > entry.preload_until:
            entry.preload_until = until
        if entry.holders == 0 and (entry.expires_at is None or entry.expires_at < until):
            entry.expires_at = until
        self._track(live.key, entry)

    def _track(self, key: str, entry: Entry) -> None:
        if entry.expires_at is not None or entry.preload_until is not None:
            self._timed[key] = entry
        else:
            self._timed.pop(key, None)

    def sweep(self, now: dt.datetime) -> list[Any]:
        """Remove expired entries, then over the bound the least recently used unheld ones.

        Entries only kept by their TTL go first, preloaded ones next; entries with a
        holder (a subscriber) are never evicted.
        """
        evicted = [key for key, entry in self._timed.items() if entry.expired(now)]
        over = len(self._entries) - len(evicted) - self.bound
        for preloaded in (False, True) if over > 0 else ():
            for key, entry in self._entries.items():
                if over <= 0:
                    break
                if key in evicted or entry.holders or entry.kept(now) != preloaded:
                    continue
                evicted.append(key)
                over -= 1
        for key in evicted:
            self._timed.pop(key, None)
        return [self._entries.pop(key).live for key in evicted]

    def next_expiry(self) -> dt.datetime | None:
        """The earliest instant an entry may expire."""
        moments = [
            moment
            for entry in self._timed.values()
            for moment in (entry.expires_at, entry.preload_until)
            if moment is not None
        ]
        return min(moments, default=None)

    def clear(self) -> list[Any]:
        """Remove everything."""
        lives = self.lives()
        self._entries.clear()
        self._timed.clear()
        return lives


# -- the coordinator ------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """A named query of a coordinator."""

    name: str
    factory: Callable[[], Query[Any]]
    ttl: str | None = None
    required: bool = False
    preload: bool = False

    def build(self) -> Query[Any]:
        """The query, with the registration's TTL."""
        query = self.factory()
        return query.with_ttl(self.ttl) if self.ttl is not None else query


@dataclass(frozen=True)
class CombinedSnapshot:
    """A group's state after a commit: every member's data and which ones changed."""

    data: Mapping[str, tuple[Record, ...]]
    loading: bool
    changes: Mapping[str, Snapshot] = field(default_factory=dict)


class Coordinator:
    """Named queries with TTLs, some preloaded, some required, combined into groups."""

    def __init__(self, live: LiveQueries) -> None:
        self._live = live
        self._registrations: dict[str, Registration] = {}

    def register(
        self,
        name: str,
        factory: Callable[[], Query[Any]],
        *,
        ttl: str | None = None,
        required: bool = False,
        preload: bool = False,
    ) -> None:
        """Name a query; ``preload`` keeps it warm now, for ``ttl`` or the model's preload TTL."""
        if ttl is not None:
            try:
                parse_ttl(ttl)
            except ValueError as exc:
                raise InvalidQuery(f"coordinator query {name!r}: {exc}") from None
        registration = Registration(name, factory, ttl, required, preload)
        self._registrations[name] = registration
        if preload:
            self._live.preload(registration.build(), ttl)

    def query(self, name: str) -> Query[Any]:
        """The registered query called ``name``."""
        return self._registration(name).build()

    def combined(self, names: Iterable[str]) -> Combined:
        """A group of registered queries with one subscription for all of them."""
        chosen = [self._registration(name) for name in names]
        return Combined(self._live, chosen)

    def _registration(self, name: str) -> Registration:
        try:
            return self._registrations[name]
        except KeyError:
            known = ", ".join(sorted(self._registrations)) or "none"
            raise InvalidQuery(f"no coordinator query {name!r}; registered: {known}") from None


class Combined:
    """Several live queries as one: ``data[name]``, ``loading``, one callback per commit."""

    def __init__(self, live: LiveQueries, registrations: list[Registration]) -> None:
        self._live = live
        self._required = {r.name for r in registrations if r.required}
        self._data: dict[str, tuple[Record, ...]] = {}
        self._complete: dict[str, bool] = {}
        self._pending: dict[str, Snapshot] = {}
        self._callbacks: list[Callable[[CombinedSnapshot], None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._closed = False
        for registration in registrations:
            self._data[registration.name] = ()
            self._complete[registration.name] = False
            callback = self._member(registration.name)
            self._unsubscribe.append(live.subscribe(registration.build(), callback))

    def _member(self, name: str) -> Callable[[Snapshot], None]:
        def received(snapshot: Snapshot) -> None:
            self._data[name] = snapshot.data
            self._complete[name] = snapshot.complete
            self._pending[name] = snapshot
            self._live.dispatcher.defer(self._flush)

        return received

    @property
    def data(self) -> Mapping[str, tuple[Record, ...]]:
        """Each member's current result by name."""
        return dict(self._data)

    @property
    def loading(self) -> bool:
        """Whether a required member has not yet got a complete result."""
        return any(not self._complete[name] for name in self._required)

    def subscribe(self, callback: Callable[[CombinedSnapshot], None]) -> Callable[[], None]:
        """``callback(snapshot)`` now and once per commit that changes any member."""
        self._callbacks.append(callback)
        self._live.deliver_soon(lambda: callback(CombinedSnapshot(self.data, self.loading)))

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def close(self) -> None:
        """Release every member (each then stays cached for its TTL)."""
        if self._closed:
            return
        self._closed = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._callbacks.clear()

    def _flush(self) -> None:
        if not self._pending:
            return
        snapshot = CombinedSnapshot(self.data, self.loading, dict(self._pending))
        self._pending.clear()
        for callback in list(self._callbacks):
            callback(snapshot)

    def __enter__(self) -> Combined:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
