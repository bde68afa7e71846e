"""ReactiveRecord: an ActiveRecord-style, reactive data layer for Python.

This module re-exports the public API and nothing else.
"""

from .actors import SYSTEM
from .conditions import Node
from .core import ReactiveRecord
from .engine import Change, Plan
from .errors import (
    ActivityRejected,
    ConfigError,
    InvalidPlugin,
    InvalidQuery,
    PermissionDenied,
    PluginNotInstalled,
    QueryTooLarge,
    ReactiveRecordError,
    RecordNotFound,
    StaleRecord,
    StoreError,
    UnknownField,
    ValidationError,
)
from .hookspecs import hookimpl, hookspec
from .live import LiveRecord, LiveValue
from .model import Association, Field, Model, Scope
from .query import ModelHandle, Query, QuerySpec
from .records import Record, RecordBatch
from .snapshots import RecordSnapshot, Snapshot, ValueSnapshot
from .store import MemoryStore, SchemaDefault, Store, Transaction

__all__ = [
    "SYSTEM",
    "ActivityRejected",
    "Association",
    "Change",
    "ConfigError",
    "Field",
    "InvalidPlugin",
    "InvalidQuery",
    "LiveRecord",
    "LiveValue",
    "MemoryStore",
    "Model",
    "ModelHandle",
    "Node",
    "PermissionDenied",
    "Plan",
    "PluginNotInstalled",
    "Query",
    "QuerySpec",
    "QueryTooLarge",
    "ReactiveRecord",
    "ReactiveRecordError",
    "Record",
    "RecordBatch",
    "RecordNotFound",
    "RecordSnapshot",
    "SchemaDefault",
    "Scope",
    "Snapshot",
    "StaleRecord",
    "Store",
    "StoreError",
    "Transaction",
    "UnknownField",
    "ValidationError",
    "ValueSnapshot",
    "hookimpl",
    "hookspec",
]
