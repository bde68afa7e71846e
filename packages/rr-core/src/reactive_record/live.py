"""Live queries: results kept current after every commit (DESIGN.md §7).

:class:`LiveQueries` is the live layer of one engine: the index (``live_index``), the
cache with TTLs (``ttl``), the dispatcher (``dispatcher``), the clock's scheduler
(``scheduler``) and, where the store has one, its change feed. Results are shared by
fingerprint (the acting user included); each subscription is a *view* that adds its
own computed values. ``find`` / ``find_by`` give :class:`LiveRecord`\\ s and
``aggregate`` gives :class:`LiveValue`\\ s: both are lazily live — cheap while nobody
subscribes (a read when something may have changed), maintained once subscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import conditions as cond
from .dispatcher import (
    CallTask,
    CommitTask,
    Dispatcher,
    FeedChanges,
    FeedTask,
    IncompleteTask,
    RereadTask,
    Task,
)
from .errors import ReactiveRecordError
from .live_aggregate import LiveAggregate, check_function
from .live_index import LiveIndex
from .live_query import LiveQuery
from .live_reads import rows_by_key
from .records import Record
from .row_changes import UNKNOWN, RowChange, from_change
from .scheduler import Scheduler
from .snapshots import RecordSnapshot, Snapshot, ValueSnapshot, diff
from .ttl import DEFAULT_MAX_CACHED, Coordinator, Lifetime, QueryCache, resolve_ttl

if TYPE_CHECKING:
    from .engine import Change, Engine
    from .model import Model
    from .query import Query, QuerySpec

__all__ = ["LiveQueries", "LiveRecord", "LiveValue", "RecordSnapshot", "Snapshot", "ValueSnapshot"]

log = logging.getLogger("reactive_record.live")

R = TypeVar("R", bound=Record)
Live = LiveQuery | LiveAggregate
Computed = tuple[tuple[str, Callable[[Record], Any]], ...]

#: Options that shape a view, not the shared result.
VIEW_OPTIONS = ("computed", "ttl")
#: How many keys written in this process are remembered against the feed's older rows.
RECENT_KEYS = 10_000


class _Unset:
    pass


_UNSET = _Unset()


# -- views ------------------------------------------------------------------------------


class View:
    """One subscription to a shared live result, with its own computed values."""

    def __init__(
        self,
        owner: LiveQueries,
        live: Live,
        callback: Callable[[Any], None],
        computed: Computed,
        shape: str,
    ) -> None:
        self.owner = owner
        self.live = live
        self.callback = callback
        self.computed = computed
        self.shape = shape
        self.active = True
        self.last: Any = _UNSET
        self._presented: dict[Any, tuple[Record, Record]] = {}

    def first(self, data: Any, complete: bool) -> None:
        """Deliver the current result as the first snapshot."""
        if not self.active:
            return
        if self.shape == "value":
            self.last = data
            self.callback(ValueSnapshot(data, None, complete))
            return
        self.last = data
        self._send(data, data, (), (), complete)

    def deliver(self, old: Any, snapshot: Snapshot | ValueSnapshot) -> None:
        """Deliver one commit's snapshot (re-diffed if this view saw a different result)."""
        if not self.active or self.last is _UNSET:
            return
        if isinstance(snapshot, ValueSnapshot):
            self.last = snapshot.data
            self.callback(snapshot)
            return
        if self.last is old:
            added, removed, changed = snapshot.added, snapshot.removed, snapshot.changed
        else:
            added, removed, changed = diff(self.last, snapshot.data, self.owner.key_of(self.live))
        self.last = snapshot.data
        self._send(snapshot.data, added, removed, changed, snapshot.complete)

    def _send(
        self,
        data: tuple[Record, ...],
        added: Sequence[Record],
        removed: Sequence[Record],
        changed: Sequence[tuple[Record, Record]],
        complete: bool,
    ) -> None:
        if self.computed:
            present = self._presenter()
            data = tuple(present(r) for r in data)
            added = tuple(present(r) for r in added)
            changed = tuple((present(o), present(n)) for o, n in changed)
            removed = tuple(present(r) for r in removed)
            self._keep(data)
        if self.shape == "record":
            first = data[0] if data else None
            self.callback(
                RecordSnapshot(first, tuple(added), tuple(removed), tuple(changed), complete)
            )
        else:
            self.callback(Snapshot(data, tuple(added), tuple(removed), tuple(changed), complete))

    def _presenter(self) -> Callable[[Record], Record]:
        """Adds this view's computed values, recomputing only records that changed."""
        engine = self.owner.engine
        model = engine.model_named(self.live.model_name)
        pk = model.primary_key
        presented = self._presented
        computed = self.computed

        def present(record: Record) -> Record:
            seen = presented.get(record[pk])
            if seen is not None and seen[0] is record:
                return seen[1]
            shown = engine._compute(model, record, computed)
            presented[record[pk]] = (record, shown)
            return shown

        return present

    def _keep(self, data: tuple[Record, ...]) -> None:
        pk = self.owner.key_of(self.live)
        kept = {record[pk] for record in data}
        for key in [k for k in self._presented if k not in kept]:
            del self._presented[key]


# -- lazily live objects ----------------------------------------------------------------


class LiveRecord(Generic[R]):
    """One record found by ``find`` / ``find_by``; ``.data`` is the record, None once gone.

    While nobody subscribes it re-reads when a commit may have changed it; once
    subscribed (``subscribe``, ``watch``) it is a live query maintained by the index.
    """

    def __init__(self, owner: LiveQueries, query: Query[R]) -> None:
        self._owner = owner
        self.query = query
        self._record: R | None = None
        self._version = -1
        self._moving = cond.has_relative_time(query.spec.where)
        self.refresh()

    @property
    def data(self) -> R | None:
        """The record as it is now (None when there is none, or once it is deleted)."""
        shared = self._owner.cached(self.query)
        if shared is not None:
            return shared[0] if shared else None  # type: ignore[return-value]
        if self._moving or not self._owner.current(self._version):
            self.refresh()
        return self._record

    def refresh(self) -> None:
        """Read the record again now."""
        owner = self._owner
        version = owner.version if not owner.engine.in_transaction else -1
        found = self.query.all()
        self._record = found[0] if found else None
        self._version = version

    def subscribe(self, callback: Callable[[RecordSnapshot], None]) -> Callable[[], None]:
        """``callback(snapshot)`` now and after every commit that changes this record."""
        return self._owner.subscribe(self.query, callback, shape="record", kind="find")

    def watch(self) -> AsyncIterator[RecordSnapshot]:
        """``async for snapshot in record.watch()``: now, then after each change."""
        return self._owner.watch(self.query, shape="record", kind="find")

    def __bool__(self) -> bool:
        return self.data is not None

    def __repr__(self) -> str:
        return f"<LiveRecord {self._record!r}>"


class LiveValue:
    """A live aggregate (``count``, ``sum``): ``.data`` is its value now."""

    def __init__(self, owner: LiveQueries, query: Query[Any], function: str, field: str | None):
        self._owner = owner
        self.query = query
        self.function = function
        self.field = field
        self._value: Any = None
        self._version = -1
        self._moving = cond.has_relative_time(query.spec.where)

    @property
    def data(self) -> Any:
        """The aggregate's current value."""
        owner = self._owner
        shared = owner.shared_value(self)
        if shared is not _UNSET:
            return shared
        if self._moving or not owner.current(self._version):
            version = owner.version if not owner.engine.in_transaction else -1
            self._value = owner.compute_value(self)
            self._version = version
        return self._value

    def subscribe(self, callback: Callable[[ValueSnapshot], None]) -> Callable[[], None]:
        """``callback(snapshot)`` now and after every commit that changes the value."""
        return self._owner.subscribe_value(self, callback)

    def watch(self) -> AsyncIterator[ValueSnapshot]:
        """``async for snapshot in value.watch()``: now, then after each change."""
        return self._owner.watch_value(self)

    def __repr__(self) -> str:
        target = f"{self.function}({self.field or ''})"
        return f"<LiveValue {self.query.model.name}.{target} = {self._value!r}>"


# -- asyncio ----------------------------------------------------------------------------


class _Latest:
    """The newest snapshot for an asyncio consumer, merged while it is busy (bounded)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, key: str | None) -> None:
        self._loop = loop
        self._key = key
        self._event = asyncio.Event()
        self._pending: Any = None
        self._base: Any = _UNSET
        self._closed = False

    def push(self, snapshot: Any) -> None:
        """Called from the delivering thread."""
        self._loop.call_soon_threadsafe(self._put, snapshot)

    def close(self) -> None:
        """End the iteration (the instance closed); callable from any thread."""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
            self._loop.call_soon_threadsafe(self._close)

    def _close(self) -> None:
        self._closed = True
        self._event.set()

    def _put(self, snapshot: Any) -> None:
        self._pending = snapshot if self._pending is None else self._merge(snapshot)
        self._event.set()

    def _merge(self, latest: Any) -> Any:
        if isinstance(latest, ValueSnapshot):
            previous = None if self._base is _UNSET else self._base
            return ValueSnapshot(latest.data, previous, latest.complete)
        base = () if self._base is _UNSET else self._base
        if isinstance(latest, RecordSnapshot):
            now = (latest.data,) if latest.data is not None else ()
            added, removed, changed = diff(base, now, self._key or "")
            return RecordSnapshot(latest.data, added, removed, changed, latest.complete)
        added, removed, changed = diff(base, latest.data, self._key or "")
        return Snapshot(latest.data, added, removed, changed, latest.complete)

    async def next(self) -> Any:
        """Wait for the next (possibly merged) snapshot; ``_UNSET`` once closed."""
        await self._event.wait()
        self._event.clear()
        if self._pending is None and self._closed:
            return _UNSET
        snapshot, self._pending = self._pending, None
        if isinstance(snapshot, RecordSnapshot):
            self._base = (snapshot.data,) if snapshot.data is not None else ()
        else:
            self._base = snapshot.data
        return snapshot


async def _subscribed(
    subscribe: Callable[[Callable[[Any], None]], Callable[[], None]],
    callback: Callable[[Any], None],
) -> Callable[[], None]:
    """``subscribe(callback)`` in a worker thread; a task cancelled meanwhile leaves no
    subscription behind (the thread finishes subscribing, then it is undone)."""
    lock = threading.Lock()
    state: dict[str, Any] = {"cancelled": False, "unsubscribe": None}

    def start() -> Callable[[], None]:
        unsubscribe = subscribe(callback)
        with lock:
            state["unsubscribe"] = unsubscribe
            cancelled = state["cancelled"]
        if cancelled:
            unsubscribe()
        return unsubscribe

    try:
        return await asyncio.to_thread(start)
    except asyncio.CancelledError:
        with lock:
            state["cancelled"] = True
            unsubscribe = state["unsubscribe"]
        if unsubscribe is not None:
            unsubscribe()
        raise


# -- the live layer ---------------------------------------------------------------------


class _Commit:
    """The engine's handle on one commit: take the commit order just before committing.

    As a context manager it wraps the transaction: once committed, the changes are
    queued and delivered before the block is left.
    """

    def __init__(self, live: LiveQueries) -> None:
        self._live = live
        self._dispatcher = live.dispatcher
        self._held = False
        self._changes: Sequence[Change] = ()

    def __enter__(self) -> _Commit:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        live = self._live
        if kind is not None:
            self.release()
            if not self._dispatcher.idle:  # first snapshots of subscriptions made inside
                live._drain(self._dispatcher.last)
            return
        seq = self.queue()
        if seq is not None:
            live._drain(seq)
        elif not self._dispatcher.idle:
            live._drain(self._dispatcher.last)
        live._due_check()

    def ready(self, changes: Sequence[Change]) -> None:
        """Called inside the transaction, after its last write, right before the commit."""
        if not changes:
            return
        self._changes = changes
        self._dispatcher.commit_order.acquire()
        self._held = True
        self._live.written_here(changes)

    def queue(self) -> int | None:
        """Called once committed: queue the changes, then let other commits proceed."""
        if not self._held:
            return None
        try:
            if self._live._unheard():
                return None
            return self._dispatcher.enqueue(CommitTask(source=tuple(self._changes)))
        finally:
            self.release()

    def release(self) -> None:
        """Let other commits proceed (after a failed commit too)."""
        if self._held:
            self._held = False
            self._dispatcher.commit_order.release()


class LiveQueries:
    """Every live result of one engine: the index, the dispatcher, the cache and the feed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rr = engine.rr
        self.index: LiveIndex[Live] = LiveIndex()
        bound = self.rr.settings.get("max_cached_queries")
        self.cache = QueryCache(DEFAULT_MAX_CACHED if bound is None else bound)
        self.dispatcher = Dispatcher(
            self._process, self._report, getattr(engine.store, "connection_lock", None)
        )
        self.scheduler = Scheduler(self.rr.clock, self._scheduled_tick)
        #: Bumped whenever a commit or re-read may have changed any result.
        self.version = 0
        self._committed = self.rr.signal("committed")
        self._serial = itertools.count(1)
        self._timed: dict[Live, dt.datetime] = {}
        self._next_due: dt.datetime | None = None
        self._token: Any = _UNSET
        self._feed: Any = None
        #: The asyncio consumers of ``watch()``, ended when the instance closes.
        self._watchers: weakref.WeakSet[_Latest] = weakref.WeakSet()
        #: Keys this process wrote lately (while a feed listens), oldest first.
        self._recent: OrderedDict[tuple[str, Any], None] = OrderedDict()
        self._feed_down = False
        self._closed = False

    # -- public entry points (through Query, LiveRecord, LiveValue, ReactiveRecord) ----------

    def subscribe(
        self,
        query: Query[Any],
        callback: Callable[[Any], None],
        *,
        shape: str = "collection",
        kind: str | None = None,
    ) -> Callable[[], None]:
        """Make ``query`` live; ``callback(snapshot)`` now and after every change."""
        spec, computed, ttl = self._split(query, kind or "collection")
        if shape == "record" and spec.limit is None:
            spec = replace(spec, limit=1)
        return self._view(spec, computed, ttl, callback, shape, self._query)

    def subscribe_value(
        self, value: LiveValue, callback: Callable[[ValueSnapshot], None]
    ) -> Callable[[], None]:
        """Make a live aggregate maintained; ``callback(snapshot)`` now and after changes."""
        spec, _, ttl = self._split(value.query, "collection")
        key = self._value_key(spec, value)
        return self._view(
            spec,
            (),
            ttl,
            callback,
            "value",
            partial(self._aggregate, value=value, key=key),
            key,
        )

    def _aggregate(self, spec: QuerySpec, serial: int, *, value: LiveValue, key: str) -> Live:
        return LiveAggregate(self.engine, spec, value.function, value.field, serial, key)

    def watch(
        self, query: Query[Any], *, shape: str = "collection", kind: str | None = None
    ) -> AsyncIterator[Any]:
        """``async for snapshot in query.watch()``: the current result, then each change."""
        key = query.model.primary_key
        return self._watch(lambda push: self.subscribe(query, push, shape=shape, kind=kind), key)

    def watch_value(self, value: LiveValue) -> AsyncIterator[ValueSnapshot]:
        """``async for snapshot in value.watch()``."""
        return self._watch(lambda push: self.subscribe_value(value, push), None)

    async def _watch(
        self, subscribe: Callable[[Callable[[Any], None]], Callable[[], None]], key: str | None
    ) -> AsyncIterator[Any]:
        latest = _Latest(asyncio.get_running_loop(), key)
        self._watchers.add(latest)  # before subscribing: a close meanwhile still ends it
        try:
            unsubscribe = await _subscribed(subscribe, latest.push)
        except BaseException:
            self._watchers.discard(latest)
            raise
        try:
            while (snapshot := await latest.next()) is not _UNSET:
                yield snapshot
        finally:
            self._watchers.discard(latest)
            unsubscribe()

    def aggregate(self, query: Query[Any], function: str, field: str | None = None) -> LiveValue:
        """A live ``count`` or ``sum`` of ``query``."""
        check_function(query.spec, function, field, self.engine)
        return LiveValue(self, query, function, field)

    def record(self, query: Query[Any]) -> LiveRecord[Any]:
        """A live record for ``query`` (read now; ``.data`` None when there is none)."""
        return LiveRecord(self, query.limit(1) if query.spec.limit is None else query)

    def preload(self, query: Query[Any], ttl: str | None = None) -> None:
        """Keep ``query`` live and cached for ``ttl`` (else the model's ``preload`` TTL)."""
        spec, _, _ = self._split(query, "preload")
        lifetime = resolve_ttl(ttl, query.model.ttl, "preload")
        self._check_open()
        with self.dispatcher.state:
            live = self._obtain(spec, spec.fingerprint, self._query)
            self.cache.preload(live, lifetime, self.rr.clock())
            self._reschedule()
        self._keep_bound()

    def coordinator(self) -> Coordinator:
        """A new coordinator of named queries and groups."""
        return Coordinator(self)

    def cached(self, query: Query[Any]) -> tuple[Record, ...] | None:
        """``query``'s result from a live result in the cache, if it may be served now."""
        if not len(self.cache) or self.engine.in_transaction:
            return None
        self._due_check()
        spec, computed, _ = self._split(query, "collection")
        served = self._served(spec.fingerprint)
        if served is None or not isinstance(served[0], LiveQuery):
            return None
        live, data = served
        if computed:
            return tuple(self.engine._compute(live.model, r, computed) for r in data)
        return data  # type: ignore[no-any-return]

    def shared_value(self, value: LiveValue) -> Any:
        """The aggregate's value from a maintained live aggregate (``_UNSET``: none)."""
        if not len(self.cache) or self.engine.in_transaction:
            return _UNSET
        self._due_check()
        spec, _, _ = self._split(value.query, "collection")
        served = self._served(self._value_key(spec, value))
        return _UNSET if served is None else served[1]

    def current(self, version: int) -> bool:
        """Whether nothing can have changed since ``version`` was read (lazily live reads).

        Never inside a transaction: its own writes are not yet in the version count.
        """
        return (
            version == self.version
            and not self.engine.in_transaction
            and self.dispatcher.idle
            and self.provably_fresh()
        )

    def _served(self, key: str) -> tuple[Live, Any] | None:
        """The cached result under ``key`` and its data, if it may be served now: provably
        fresh, complete, nothing being dispatched (never waiting for a dispatch: then read)."""
        if not self._serveable():
            return None
        state = self.dispatcher.state
        if not state.acquire(blocking=False):
            return None
        try:
            live: Live | None = self.cache.get(key)
            if live is None or not live.complete:
                return None
            return live, live.data
        finally:
            state.release()

    def compute_value(self, value: LiveValue) -> Any:
        """The aggregate's value read from the store now."""
        spec, _, _ = self._split(value.query, "collection")
        probe = LiveAggregate(self.engine, spec, value.function, value.field, 0, "")
        if self.engine.in_transaction:
            return probe.value_in_transaction()
        probe.load()
        return probe.data

    def provably_fresh(self) -> bool:
        """Whether results read earlier still reflect the store (no other process wrote)."""
        token = self._read_token()
        if token is None:
            return False
        if self._token is _UNSET:
            self._token = token
        elif token != self._token:
            self._token = token
            self._reread_all()
        return True

    def key_of(self, live: Live) -> str:
        """The primary key field of ``live``'s model."""
        return live.model.primary_key

    def deliver_soon(self, work: Callable[[], None]) -> None:
        """Call ``work`` in commit order with the subscribers (groups' first snapshots)."""
        seq = self.dispatcher.enqueue(CallTask(work=lambda: [work]))
        self._drain(seq)

    def tick(self) -> dt.datetime | None:
        """Act on the clock now: re-read at relative-time boundaries, evict expired results.

        Called by every live entry point and by the scheduler thread; returns the next
        deadline.
        """
        now = self.rr.clock()
        with self.dispatcher.state:
            due = [live for live, when in self._timed.items() if when <= now]
            for live in due:
                del self._timed[live]
            evicted = self.cache.sweep(now)
            for live in evicted:
                self._forget(live)
            self._reschedule(wake=False)
            upcoming = self._next_due
        if due:
            self._drain(self.dispatcher.enqueue(RereadTask(targets=due)))
        for live in evicted:
            self._send("evicted", key=live.key, query=live.spec)
        return upcoming

    def close(self) -> None:
        """Stop the feed and the scheduler and drop every live result."""
        self._closed = True
        for latest in list(self._watchers):
            latest.close()
        self.scheduler.close()
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()
        with self.dispatcher.state:
            for live in self.cache.clear():
                self._forget(live)

    # -- the engine's side of a commit -----------------------------------------------------

    def committing(self) -> _Commit:
        """Wrap one outermost transaction: its changes are queued in commit order.

        The engine calls ``commit.ready(changes)`` inside the transaction right before it
        commits; once committed they are queued and delivered when the block ends.
        """
        return _Commit(self)

    def _unheard(self) -> bool:
        """Take a commit that no live result or ``committed`` receiver needs off the queue.

        Called holding the commit order, after the database commit. Under the state lock
        no live result is half-built (``_obtain`` reads and registers under it), so one
        registered later read this commit's rows; the version still moves for lazily live
        reads. Never blocks on the state lock: a busy one means queue as usual.
        """
        if len(self.index) or self._committed.receivers:
            return False
        state = self.dispatcher.state
        if not state.acquire(blocking=False):
            return False
        try:
            if len(self.index) or not self.dispatcher.count():
                return False
            self.version += 1
            return True
        finally:
            state.release()

    # -- the change feed's side ----------------------------------------------------------

    def external_changes(self, changes: dict[str, FeedChanges]) -> None:
        """Another process committed these changes, by model name; called by a feed.

        Per model: ``{key: row}`` (the rows as stored, None for gone), or a list of keys
        whose rows are re-read, or None (too many to name: every result on it re-reads).
        """
        with self.dispatcher.commit_order:
            seq = self.dispatcher.enqueue(FeedTask(keys=changes))
        self.dispatcher.drain(seq, wait=False)

    def feed_lost(self) -> None:
        """The change feed dropped: results may miss changes until it is back."""
        self._feed_down = True
        self.dispatcher.drain(self.dispatcher.enqueue(IncompleteTask()), wait=False)

    def feed_restored(self) -> None:
        """The change feed reconnected: re-read every live result, so nothing is missed."""
        self._feed_down = False
        with self.dispatcher.commit_order:
            seq = self.dispatcher.enqueue(RereadTask(targets=None))
        self.dispatcher.drain(seq, wait=False)

    # -- internals: building and sharing results ------------------------------------------------

    def _split(self, query: Query[Any], kind: str) -> tuple[QuerySpec, Computed, Lifetime]:
        spec = query.spec
        if spec.option("user") is None:
            user = self.engine.user_of(spec)
            if user is not None:
                spec = spec.with_option("user", user)
        computed: Computed = tuple(spec.option("computed") or ())
        ttl = resolve_ttl(spec.option("ttl"), query.model.ttl, kind)
        kept = tuple((k, v) for k, v in spec.options if k not in VIEW_OPTIONS)
        if len(kept) != len(spec.options):
            spec = replace(spec, options=kept)
        return spec, computed, ttl

    def _value_key(self, spec: QuerySpec, value: LiveValue) -> str:
        return f"{spec.fingerprint}:{value.function}:{value.field or ''}"

    def _query(self, spec: QuerySpec, serial: int) -> LiveQuery:
        return LiveQuery(self.engine, spec, serial, spec.fingerprint)

    def _view(
        self,
        spec: QuerySpec,
        computed: Computed,
        ttl: Lifetime,
        callback: Callable[[Any], None],
        shape: str,
        make: Callable[[QuerySpec, int], Live],
        key: str | None = None,
    ) -> Callable[[], None]:
        self._check_open()
        self._due_check()
        fresh = self.provably_fresh()
        with self.dispatcher.state:
            existed = (key or spec.fingerprint) in self.cache
            live = self._obtain(spec, key or spec.fingerprint, make)
            view = View(self, live, callback, computed, shape)
            live.views.append(view)
            self.cache.hold(live, ttl)
            if existed and not fresh:
                self.dispatcher.enqueue(RereadTask(targets=[live]))
            seq = self.dispatcher.enqueue(CallTask(work=partial(self._first, view)))
        self._drain(seq)
        self._keep_bound()

        def unsubscribe() -> None:
            with self.dispatcher.state:
                if not view.active:
                    return
                view.active = False
                views: list[View] = live.views
                if view in views:
                    views.remove(view)
                self.cache.release(live, self.rr.clock())
            self.tick()

        return unsubscribe

    def _first(self, view: View) -> list[Callable[[], None]]:
        live = view.live
        return [partial(view.first, live.data, live.complete)]

    def _obtain(self, spec: QuerySpec, key: str, make: Callable[[QuerySpec, int], Live]) -> Live:
        cached: Live | None = self.cache.get(key)
        if cached is not None:
            return cached
        live = make(spec, next(self._serial))
        self._start_feed()  # listening before the first read, so no commit falls between
        if self._token is _UNSET:
            self.provably_fresh()
        live.synced = self.dispatcher.read(partial(live.load, check_size=True))
        live.complete = not self._feed_down
        self.cache.add(live)
        self.index.add(live)
        self._schedule(live)
        self._reschedule()
        return live

    def _keep_bound(self) -> None:
        """Evict at once when a new result takes the cache over ``max_cached_queries``
        (otherwise only a clock tick would, and with no TTL none may come)."""
        if len(self.cache) > self.cache.bound:
            self.tick()

    def _forget(self, live: Live) -> None:
        self.index.remove(live)
        self._timed.pop(live, None)
        for view in list(live.views):
            view.active = False

    def _serveable(self) -> bool:
        return self.dispatcher.idle and not self._feed_down and self.provably_fresh()

    def _check_open(self) -> None:
        if self._closed:
            raise ReactiveRecordError("this ReactiveRecord is closed; live queries have stopped")

    # -- internals: time, freshness, the feed -----------------------------------------------

    def _read_token(self) -> Any:
        if self._feed is not None and self._feed_down:
            return None
        read = getattr(self.engine.store, "freshness_token", None)
        return read() if read is not None else None

    def _reread_all(self) -> None:
        self._drain(self.dispatcher.enqueue(RereadTask(targets=None)))

    def _schedule(self, live: Live) -> None:
        if live.next_boundary is None:
            self._timed.pop(live, None)
        else:
            self._timed[live] = live.next_boundary

    def _reschedule(self, wake: bool = True) -> None:
        moments = [m for m in (*self._timed.values(), self.cache.next_expiry()) if m is not None]
        self._next_due = min(moments, default=None)
        poll = getattr(self.engine.store, "freshness_poll", None)
        if wake and (self._next_due is not None or (poll and len(self.index))):
            self.scheduler.wake_at(self._next_due)

    def _due_check(self) -> None:
        if self._next_due is not None and self.rr.clock() >= self._next_due:
            self.tick()

    def _scheduled_tick(self) -> dt.datetime | None:
        if self._closed:
            return None
        if getattr(self.engine.store, "freshness_poll", None) and len(self.index):
            self.provably_fresh()
        return self.tick()

    def _start_feed(self) -> None:
        if self._feed is not None:
            return
        open_feed = getattr(self.engine.store, "change_feed", None)
        if open_feed is None:
            return
        feed = open_feed()
        if feed is None:
            return
        self._feed = feed
        feed.start(self)

    def _drain(self, seq: int) -> None:
        if self.engine.in_transaction:
            return  # delivered when the transaction ends (never inside it)
        self.dispatcher.drain(seq)

    # -- internals: processing the queue (under the state lock) ---------------------------------

    def _process(self, task: Task) -> list[Callable[[], None]]:
        if isinstance(task, CommitTask):
            deliveries: list[Callable[[], None]] = []
            if len(self.index):
                changes = task.changes or [from_change(change) for change in task.source]
                deliveries = self._apply(task, changes)
            else:
                self.version += 1
            if task.source and self._committed.receivers:
                deliveries.insert(0, partial(self._send, "committed", changes=task.source))
            return deliveries
        if isinstance(task, FeedTask):
            whole = [name for name, keys in task.keys.items() if keys is None]
            return self._apply(task, self._feed_rows(task), whole)
        if isinstance(task, RereadTask):
            targets = list(self.index) if task.targets is None else task.targets
            return self._reread(task, [live for live in targets if self._registered(live)])
        if isinstance(task, IncompleteTask):
            return self._incomplete(list(self.index))
        if isinstance(task, CallTask):
            return task.work()
        raise TypeError(f"unknown dispatch task {task!r}")

    def _registered(self, live: Live) -> bool:
        return self.cache.peek(live.key) is live

    def written_here(self, changes: Sequence[Change]) -> None:
        """Remember the keys this process writes while a change feed listens."""
        if self._feed is None:
            return
        recent = self._recent
        for change in changes:
            key = (change.model.name, change.key)
            recent[key] = None
            recent.move_to_end(key)
        while len(recent) > RECENT_KEYS:
            recent.popitem(last=False)

    def _feed_rows(self, task: FeedTask) -> list[RowChange]:
        changes: list[RowChange] = []
        with self.engine.committed_reads():
            for name, found in task.keys.items():
                if found is None:
                    continue
                model: Model = self.engine.model_named(name)
                if isinstance(found, dict):
                    rows = dict(found)
                    # A row carried by a notification is as that commit left it; a commit
                    # of this process may have written the same row since, and been applied
                    # first (the listener was busy): read such rows as they are now.
                    again = [key for key in found if (name, key) in self._recent]
                else:
                    rows = dict.fromkeys(found)
                    again = list(found)
                if again:
                    rows.update(dict.fromkeys(again))
                    rows.update(rows_by_key(self.rr, model, again))
                changes.extend(RowChange(name, key, UNKNOWN, row) for key, row in rows.items())
        return changes

    def _apply(
        self, task: Task, changes: Sequence[RowChange], whole: Sequence[str] = ()
    ) -> list[Callable[[], None]]:
        now = self.rr.clock()
        started: dict[Live, Any] = {}
        index = self.index
        for name in whole:  # too many rows to name: re-read every result that reads them
            for live in (*index.on_model(name), *index.dependents(name)):
                if live.synced < task.seq:
                    self._start(live, started, now)
                    live.invalidate()
        for change in changes:
            if change.before is UNKNOWN:
                own = index.on_model(change.model)
            else:
                own = index.affected(change.model, change.known_rows)
            for live in own:
                if live.synced >= task.seq:
                    continue
                self._start(live, started, now)
                try:
                    live.apply(change, now)
                except Exception:
                    log.exception("live queries: applying a change to %r failed", live)
                    live.invalidate()
            for live in index.dependents(change.model):
                if live.synced >= task.seq:
                    continue
                self._start(live, started, now)
                live.apply_dependency(change)
        self.version += 1
        return self._finish(started)

    def _reread(self, task: Task, targets: Sequence[Live]) -> list[Callable[[], None]]:
        now = self.rr.clock()
        started: dict[Live, Any] = {}
        for live in targets:
            if live.synced >= task.seq:
                continue
            self._start(live, started, now)
            live.invalidate()
        self.version += 1
        return self._finish(started)

    def _incomplete(self, targets: Sequence[Live]) -> list[Callable[[], None]]:
        now = self.rr.clock()
        started: dict[Live, Any] = {}
        for live in targets:
            self._start(live, started, now)
            live.mark_incomplete()
        self.version += 1
        return self._finish(started)

    @staticmethod
    def _start(live: Live, started: dict[Live, Any], now: dt.datetime) -> None:
        if live not in started:
            started[live] = live.data
            live.begin(now)

    def _finish(self, started: dict[Live, Any]) -> list[Callable[[], None]]:
        deliveries: list[Callable[[], None]] = []
        if not started:
            return deliveries
        for live in sorted(started, key=_serial):
            old = started[live]
            snapshot = live.finish_batch(self.dispatcher.read)
            error = live.error
            if error is not None:
                live.error = None
                deliveries.append(partial(self._report, error, live))
            if live in self._timed or live.next_boundary is not None:
                self._schedule(live)
            if snapshot is None:
                continue
            for view in live.views:
                deliveries.append(partial(view.deliver, old, snapshot))
        self._reschedule()
        return deliveries

    # -- internals: signals ----------------------------------------------------------------

    def _report(self, error: BaseException, where: Any) -> None:
        log.error("live queries: %s (in %r)", error, where, exc_info=error)
        self._send("callback-error", error=error, source=where)

    def _send(self, name: str, **kwargs: Any) -> None:
        try:
            self.rr.signal(name).send(self.rr, **kwargs)
        except Exception:
            log.exception("a receiver of the %r signal raised", name)


def _serial(live: Live) -> int:
    return live.serial
