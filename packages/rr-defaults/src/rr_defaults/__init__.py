"""rr-defaults: schema defaults read from the database, computed defaults, forms, drift check.

A model with ``features = { defaults = true }`` gets every default on ``Job.new(...)``
and on ``create``, so what a form shows before saving is what the database stores.
The functions below take the instance first (``defaults_for(rr, "Job")``); the model
may be a name, a definition or a handle (``rr.models.Job``).
"""

from .api import defaults_for, describe, populate_form, refresh, server_generated
from .defaults import FieldDefault

__all__ = [
    "FieldDefault",
    "defaults_for",
    "describe",
    "populate_form",
    "refresh",
    "server_generated",
]
