"""rr-defaults: schema defaults read from the database, computed defaults, forms, drift check.

A model with ``features = { defaults = true }`` gets every default on ``Job.new(...)``
and on ``create``, so what a form shows before saving is what the database stores.
The functions below take a model's handle, which names the instance too:
``defaults_for(rr.models.Job)``, ``populate_form(form, rr.models.Job)``.
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
