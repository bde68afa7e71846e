"""The live index: which live results a committed row can affect, found without a scan.

Each live result is filed under its model, and under *one* of its equality predicates
(``status = 'active'``, ``client_id IN (1, 2)``) when it has one: a changed row can only
enter or leave such a result if its old or new value of that field is one of the
predicate's values, so one dictionary lookup per indexed field finds every candidate.
Results without an equality predicate are candidates for every change of their model.
Results that read other models (``any`` conditions, ``includes``) are filed as
dependents of those models too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar


class Indexed(Protocol):
    """What the index needs to know about a live result."""

    serial: int
    model_name: str
    index_field: str | None
    index_values: tuple[Any, ...]
    depends_on: frozenset[str]


T = TypeVar("T", bound=Indexed)


class _ModelEntries(Generic[T]):
    __slots__ = ("fields", "scan")

    def __init__(self) -> None:
        self.scan: dict[T, None] = {}
        self.fields: dict[str, dict[Any, dict[T, None]]] = {}


class LiveIndex(Generic[T]):
    """Live results by model, by one equality predicate, and by the models they depend on."""

    def __init__(self) -> None:
        self._models: dict[str, _ModelEntries[T]] = {}
        self._dependents: dict[str, dict[T, None]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        seen: dict[T, None] = {}
        for entries in self._models.values():
            seen.update(entries.scan)
            for by_value in entries.fields.values():
                for items in by_value.values():
                    seen.update(items)
        return iter(sorted(seen, key=_serial))

    def add(self, item: T) -> None:
        """File ``item`` under its model, its equality predicate and its dependencies."""
        entries: _ModelEntries[T] = self._models.setdefault(item.model_name, _ModelEntries())
        if item.index_field is None:
            entries.scan[item] = None
        else:
            by_value = entries.fields.setdefault(item.index_field, {})
            for value in item.index_values:
                by_value.setdefault(value, {})[item] = None
        for model in item.depends_on:
            self._dependents.setdefault(model, {})[item] = None
        self._count += 1

    def remove(self, item: T) -> None:
        """Forget ``item`` everywhere it was filed."""
        entries = self._models.get(item.model_name)
        if entries is not None:
            if item.index_field is None:
                entries.scan.pop(item, None)
            else:
                by_value = entries.fields.get(item.index_field, {})
                for value in item.index_values:
                    items = by_value.get(value)
                    if items is not None:
                        items.pop(item, None)
                        if not items:
                            del by_value[value]
                if not by_value:
                    entries.fields.pop(item.index_field, None)
            if not entries.scan and not entries.fields:
                del self._models[item.model_name]
        for model in item.depends_on:
            dependents = self._dependents.get(model)
            if dependents is not None:
                dependents.pop(item, None)
                if not dependents:
                    del self._dependents[model]
        self._count -= 1

    def affected(self, model: str, rows: Iterable[Mapping[str, Any] | None]) -> list[T]:
        """Results on ``model`` that a change from/to any of ``rows`` may affect, in order."""
        entries = self._models.get(model)
        if entries is None:
            return []
        found: dict[T, None] = dict(entries.scan)
        if entries.fields:
            present = [row for row in rows if row is not None]
            for name, by_value in entries.fields.items():
                for row in present:
                    try:
                        items = by_value.get(row.get(name))
                    except TypeError:  # an unhashable value (JSON) is never an indexed literal
                        continue
                    if items:
                        found.update(items)
        if len(found) < 2:
            return list(found)
        return sorted(found, key=_serial)

    def on_model(self, model: str) -> list[T]:
        """Every result on ``model`` (for a change whose old row is unknown)."""
        entries = self._models.get(model)
        if entries is None:
            return []
        found: dict[T, None] = dict(entries.scan)
        for by_value in entries.fields.values():
            for items in by_value.values():
                found.update(items)
        return sorted(found, key=_serial)

    def dependents(self, model: str) -> list[T]:
        """Results on other models that read ``model`` (through ``any`` or ``includes``)."""
        found = self._dependents.get(model)
        return sorted(found, key=_serial) if found else []


def _serial(item: Indexed) -> int:
    return item.serial
