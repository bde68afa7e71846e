"""Associated rows for rules that say ``{"tasks": {"any": {...}}}``, read through the engine.

The per-record check evaluates such a rule in memory; the rows it needs are read with
system (unscoped) queries, inside the open transaction when there is one, so a write is
checked against the rows as that transaction sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reactive_record import conditions as cond

if TYPE_CHECKING:
    from reactive_record import ReactiveRecord
    from reactive_record.model import Association, Model


def related_rows(rr: ReactiveRecord) -> cond.Related:
    """The resolver :func:`reactive_record.conditions.evaluate` uses for ``any``."""

    def rows(model: Model, where: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return rr.models[model.name].unscoped().where(dict(where)).all()

    def related(
        model: Model, association: Association, row: Mapping[str, Any]
    ) -> tuple[Model, Iterable[Mapping[str, Any]]]:
        target = rr.model_definition(association.model)
        if association.kind == "belongs_to":
            key = row.get(association.foreign_key)
            return target, () if key is None else rows(target, {target.primary_key: key})
        if association.through:
            middle, middles = related(model, model.associations[association.through], row)
            fk = association.foreign_key
            if fk in middle.fields:
                keys = [m[fk] for m in middles if m.get(fk) is not None]
                return target, rows(target, {target.primary_key: keys}) if keys else ()
            keys = [m[middle.primary_key] for m in middles]
            return target, rows(target, {fk: keys}) if keys else ()
        key = row.get(model.primary_key)
        if key is None:
            return target, ()
        where: dict[str, Any] = {association.foreign_key: key}
        if association.polymorphic_type is not None:
            type_field, type_value = association.polymorphic_type
            where = {association.foreign_key: str(key), type_field: type_value}
        return target, rows(target, where)

    return related
