"""A separate process with a live query, for the change-feed tests.

``python live_feed_worker.py URL MODELS_JSON``: subscribes to ``Job.where(status="x")``
ordered by id and prints every snapshot as one JSON line (titles of ``data``, ``added``,
``removed``, changed pairs, ``complete``); exits when its standard input closes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from reactive_record import ReactiveRecord


def show(snapshot: Any) -> None:
    """One snapshot as a JSON line on stdout."""
    line = {
        "data": [r.title for r in snapshot.data],
        "added": [r.title for r in snapshot.added],
        "removed": [r.title for r in snapshot.removed],
        "changed": [[old.title, new.title] for old, new in snapshot.changed],
        "complete": snapshot.complete,
    }
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    url, models = sys.argv[1:]
    with ReactiveRecord(database=url, models=json.loads(models), plugins=["sqlalchemy"]) as rr:
        rr.models.Job.where(status="x").order("id").subscribe(show)
        sys.stdin.read()
