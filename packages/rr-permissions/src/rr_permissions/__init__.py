"""rr-permissions: Pundit-style policies and declarative rules for ReactiveRecord.

Rules that are data go into SQL for reads and are evaluated in memory for single
records, so a list and a per-record check never disagree. Every read of a model with
``features = { permissions = true }`` is scoped to its user, every write is checked
before and after, and nothing is allowed that no rule grants.
"""

from .api import allowed, authorize, explain, permitted_fields
from .policy import Policy
from .rules import Explanation
from .wire import Permitted, Refused, validate_query

__all__ = [
    "Explanation",
    "Permitted",
    "Policy",
    "Refused",
    "allowed",
    "authorize",
    "explain",
    "permitted_fields",
    "validate_query",
]
