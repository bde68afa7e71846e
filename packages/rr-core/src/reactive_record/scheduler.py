"""Wakes the live layer when the clock reaches its next deadline.

Deadlines are instants of ``rr.clock`` (a relative-time boundary, a TTL expiry). The
live layer checks them itself whenever it is used; this daemon thread covers the time
in between. It sleeps until the earliest deadline by the wall clock, and at most
``poll`` seconds, so an injected clock that does not follow the wall clock is still
looked at (and so is the store's freshness). Tests drive time through the clock and any
live call, never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("reactive_record.live")

#: Longest sleep between two looks at the clock and the store's freshness.
POLL_SECONDS = 1.0
#: Shortest sleep, so a deadline the clock never reaches cannot spin the thread.
MIN_SLEEP = 0.001


class Scheduler:
    """A daemon thread calling ``tick()`` at the next deadline (or every ``poll`` seconds)."""

    def __init__(
        self,
        clock: Callable[[], dt.datetime],
        tick: Callable[[], dt.datetime | None],
        poll: float = POLL_SECONDS,
    ) -> None:
        self._clock = clock
        self._tick = tick
        self._poll = poll
        self._cond = threading.Condition()
        self._due: dt.datetime | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def wake_at(self, due: dt.datetime | None) -> None:
        """Make sure the thread runs and looks at the clock by ``due``."""
        with self._cond:
            if self._stopped or (self._thread is not None and due == self._due):
                return
            self._due = due
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="reactive-record-scheduler", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def close(self) -> None:
        """Stop the thread (it exits at its next wake-up, which is now)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                timeout = self._poll
                if self._due is not None:
                    left = (self._due - self._clock()).total_seconds()
                    timeout = min(max(left, MIN_SLEEP), self._poll)
                notified = self._cond.wait(timeout)
                if self._stopped:
                    return
                if notified:
                    continue  # a new deadline: sleep again until it
            try:
                due = self._tick()
            except Exception:
                log.exception("live queries: the scheduled check failed")
                due = None
            with self._cond:
                self._due = due
