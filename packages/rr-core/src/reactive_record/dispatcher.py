"""The dispatcher: one per ReactiveRecord, turning commits into snapshots, in commit order.

Every commit is queued with a sequence number while the *commit order* lock is held from
just before the database commit until the queue entry exists, so queue order is commit
order. One thread at a time drains the queue: for each entry it updates every affected
live result under the state lock, then calls subscribers with the lock released. A
thread that committed waits until its entry has been delivered, so a write returns after
its subscribers ran; a write made *inside* a subscriber is queued behind the current
entry instead (the draining thread delivers it next).

Reads that (re)build a live result check that no commit overlapped them, so a result
knows exactly which commits it already includes (``synced``) and skips them when they
are dispatched.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Change
    from .row_changes import RowChange

log = logging.getLogger("reactive_record.live")

#: Attempts at a read no commit overlaps before it is taken under the commit order.
OPTIMISTIC_READS = 20


@dataclass
class Task:
    """One entry of the dispatch queue."""

    seq: int = 0


@dataclass
class CommitTask(Task):
    """One transaction's changes: the engine's (``source``), or rows as live results see them."""

    source: tuple[Change, ...] = ()
    changes: list[RowChange] = field(default_factory=list)


#: What a feed reports for one model: rows by key, keys to re-read, or None (re-read all).
FeedChanges = dict[Any, dict[str, Any] | None] | list[Any] | None


@dataclass
class FeedTask(Task):
    """Rows another process changed (keys alone are re-read when the entry is processed)."""

    keys: dict[str, FeedChanges] = field(default_factory=dict)


@dataclass
class RereadTask(Task):
    """Re-read some live results (None: all), e.g. at a clock boundary or after a reconnect."""

    targets: list[Any] | None = None


@dataclass
class IncompleteTask(Task):
    """The change feed is down: every result may be missing changes."""


@dataclass
class CallTask(Task):
    """Run ``work`` under the state lock; it returns what to call outside it."""

    work: Callable[[], list[Callable[[], None]]] = lambda: []


Processor = Callable[[Task], list[Callable[[], None]]]


class Dispatcher:
    """The queue, the commit-order lock, the state lock, and the draining thread."""

    def __init__(
        self,
        process: Processor,
        on_error: Callable[[BaseException, Any], None],
        connection_lock: AbstractContextManager[Any] | None = None,
    ):
        self._process = process
        self._on_error = on_error
        #: Held from just before a commit until it is queued, and around live reads.
        self.commit_order = threading.Lock()
        #: The store's ``connection_lock`` (one shared connection), taken before the order.
        self.connection_lock = connection_lock
        #: Guards every live result, the index and the cache.
        self.state = threading.RLock()
        self._queue: deque[Task] = deque()
        self._cond = threading.Condition()
        self._last = 0
        self._delivered = 0
        self._drainer: int | None = None
        self._deferred: dict[Callable[[], None], None] = {}

    @property
    def last(self) -> int:
        """The sequence number of the last queued entry."""
        return self._last

    @property
    def idle(self) -> bool:
        """Whether nothing is queued or being processed."""
        return self._delivered == self._last and self._drainer is None

    def read(self, work: Callable[[], None]) -> int:
        """Run ``work`` (a read) and return the last commit it is known to include.

        The read is exact when no commit was queued or in flight while it ran; it is
        retried until one is, and only then taken under the commit order (a store whose
        reads wait for open transactions would otherwise stall behind its writers). A
        store's ``connection_lock`` is taken first: a writer holds it while it waits for
        the commit order, so taking them the other way round would deadlock.
        """
        order = self.commit_order
        for _ in range(OPTIMISTIC_READS):
            before = self._last
            if order.locked():
                continue
            work()
            if self._last == before and not order.locked():
                return before
        with self.connection_lock or nullcontext(), order:
            work()
            return self._last

    def enqueue(self, task: Task) -> int:
        """Queue ``task``; commits must hold :attr:`commit_order` while calling this."""
        with self._cond:
            self._last += 1
            task.seq = self._last
            self._queue.append(task)
            return task.seq

    def count(self) -> bool:
        """Count a commit as queued and delivered at once, if nothing is queued before it.

        For a commit no live result or subscriber needs: reads that overlapped it still
        see the sequence move (and retry), and nothing waits on a queue. False when the
        queue is busy; the commit must then be queued.
        """
        with self._cond:
            if self._queue or self._drainer is not None or self._delivered != self._last:
                return False
            self._last += 1
            self._delivered = self._last
            return True

    def defer(self, work: Callable[[], None]) -> None:
        """Run ``work`` once after the current entry's subscribers (groups use this)."""
        self._deferred[work] = None

    def drain(self, seq: int, wait: bool = True) -> None:
        """Deliver everything queued, or wait for the thread that is delivering.

        Inside a subscriber the entry stays queued and is delivered after the current
        one; with ``wait`` False the caller never blocks on another thread.
        """
        me = threading.get_ident()
        with self._cond:
            if self._drainer == me:
                return
            while self._drainer is not None and self._delivered < seq:
                if not wait:
                    return
                self._cond.wait()
            if self._delivered >= seq:
                return
            self._drainer = me
        try:
            self._drain()
        finally:
            with self._cond:
                self._drainer = None
                self._cond.notify_all()

    def _drain(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    return
                task = self._queue.popleft()
            try:
                with self.state:
                    deliveries = self._process(task)
            except Exception as exc:  # a bug must not wedge the queue or the writer
                log.exception("live queries: processing entry %s failed", task.seq)
                self._on_error(exc, task)
                deliveries = []
            self._deliver(deliveries)
            with self._cond:
                self._delivered = task.seq
                self._cond.notify_all()

    def _deliver(self, deliveries: list[Callable[[], None]]) -> None:
        for deliver in deliveries:
            self._call(deliver)
        while self._deferred:
            deferred = list(self._deferred)
            self._deferred.clear()
            for work in deferred:
                self._call(work)

    def _call(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:
            log.exception("live queries: a subscriber raised")
            self._on_error(exc, work)
