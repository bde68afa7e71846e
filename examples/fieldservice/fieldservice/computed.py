"""Computed properties named in ``pyproject.toml`` (``computed.label``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def job_label(job: Mapping[str, Any]) -> str:
    """``#12 Fix leaking roof drain (active)``: how a job is shown in lists."""
    return f"#{job['id']} {job['title']} ({job['status']})"
