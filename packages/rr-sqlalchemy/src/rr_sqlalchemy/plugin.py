"""The ``sqlalchemy`` plugin: SQL databases as ReactiveRecord stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reactive_record import hookimpl

from .store import SqlStore
from .urls import resolve

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord


@hookimpl
def rr_open_store(rr: ReactiveRecord, url: str) -> SqlStore | None:
    """Open a SqlStore for ``sqlite://``, ``postgresql://`` and ``mysql://``/``mariadb://`` URLs."""
    target = resolve(url)
    return SqlStore(rr, url, target) if target is not None else None
