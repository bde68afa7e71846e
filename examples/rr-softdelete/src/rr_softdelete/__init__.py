"""Soft delete for ReactiveRecord: a third-party plugin built on rr-core's public hooks.

Install it and enable it per model (``features = { softdelete = true }``); ``destroy``
then sets ``deleted_at`` and reads hide deleted rows unless ``with_deleted()``.
"""

from .plugin import only_deleted, with_deleted
from .restore import restore

__all__ = ["only_deleted", "restore", "with_deleted"]
