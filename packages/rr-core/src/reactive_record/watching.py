"""``reactive-record watch``: a live query's result, then its changes as they happen.

Each line is one record as JSON after a mark: ``=`` a row of the first result, ``+`` a
row that entered, ``-`` one that left, ``~`` one that changed (its new values). A line
``! incomplete`` says the change feed is down (the result may be missing changes until
it reconnects and re-reads).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .conditions import json_value
from .errors import InvalidQuery

if TYPE_CHECKING:
    from .core import ReactiveRecord
    from .records import Record
    from .snapshots import Snapshot

#: How often the waiting thread wakes, so Ctrl-C is seen promptly.
WAKE_SECONDS = 0.2


def line(mark: str, record: Record) -> str:
    """One record as a marked JSON line."""
    return f"{mark} {json.dumps(dict(record), default=json_value, ensure_ascii=False)}"


def run(
    rr: ReactiveRecord,
    model: str,
    where: str,
    order: Sequence[str],
    limit: int | None,
    changes: int | None,
    echo: Callable[[str], Any],
) -> None:
    """Subscribe and print until interrupted (or after ``changes`` commits)."""
    rr.model_definition(model)
    try:
        condition = json.loads(where)
    except ValueError as exc:
        raise InvalidQuery(f"--where is not JSON: {exc}") from None
    query = rr.model(model).where(condition)
    if order:
        query = query.order(*order)
    if limit is not None:
        query = query.limit(limit)
    done = threading.Event()
    seen = [-1]

    def show(snapshot: Snapshot) -> None:
        seen[0] += 1
        if seen[0] == 0:
            for record in snapshot.data:
                echo(line("=", record))
        for record in snapshot.removed:
            echo(line("-", record))
        for record in snapshot.added if seen[0] else ():
            echo(line("+", record))
        for _, record in snapshot.changed:
            echo(line("~", record))
        if not snapshot.complete:
            echo("! incomplete: the change feed is down; re-reading when it is back")
        if changes is not None and seen[0] >= changes:
            done.set()

    unsubscribe = query.subscribe(show)
    try:
        while not done.wait(WAKE_SECONDS):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        unsubscribe()
