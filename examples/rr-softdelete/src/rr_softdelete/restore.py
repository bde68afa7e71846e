"""``restore``: bring a soft-deleted record back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from reactive_record import InvalidQuery, ModelHandle, Record

from .settings import DEFAULT_FIELD, FEATURE

R = TypeVar("R", bound=Record)


def restore(handle: ModelHandle[R], key: Any, *, user: Any = None) -> R:
    """Bring a deleted record back: ``restore(rr.models.Job, 42, user=alice)``.

    An update through the whole write pipeline (validated, authorized, logged): it is
    ``Job.update(42, {"deleted_at": None})`` without having to know the field's name.
    """
    model = handle.model
    if not model.has_feature(FEATURE):
        raise InvalidQuery(
            f"{model.name} does not soft delete: enable it with features.{FEATURE} = true",
            model=model.name,
        )
    # rr_configure validated the section at start-up.
    section: Mapping[str, Any] = model.options.get(FEATURE) or {}
    return handle.update(key, {section.get("field", DEFAULT_FIELD): None}, user=user)
