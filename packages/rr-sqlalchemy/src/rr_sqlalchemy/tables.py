"""Models as SQLAlchemy tables: columns, binary collation, defaults, foreign keys, indexes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from reactive_record import Model

from .types import MYSQL, SQLITE, column_type, server_default

#: The longest identifier every supported database accepts (PostgreSQL: 63, MariaDB: 64).
MAX_NAME = 63


def index_name(table: str, columns: Iterable[str]) -> str:
    """``ix_<table>_<columns>``, shortened with a hash when it would be too long."""
    name = f"ix_{table}_{'_'.join(columns)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def foreign_key_columns(
    models: Iterable[Model], lookup: Callable[[str], Model]
) -> set[tuple[str, tuple[str, ...]]]:
    """(table, columns) of the index every foreign key the associations imply wants.

    Found from either side. A polymorphic ``has_many`` is always looked up by type and
    key together (``entity_type``, ``entity_id``), so its index is on both columns.
    """
    found: set[tuple[str, tuple[str, ...]]] = set()
    for model in models:
        for assoc in model.associations.values():
            if assoc.kind == "belongs_to":
                found.add((model.table, (assoc.foreign_key,)))
                continue
            target = lookup(assoc.model)
            if assoc.through:
                middle = lookup(model.associations[assoc.through].model)
                if assoc.foreign_key in middle.fields:
                    found.add((middle.table, (assoc.foreign_key,)))
                    continue
            if assoc.polymorphic_type is not None:
                found.add((target.table, (assoc.polymorphic_type[0], assoc.foreign_key)))
                continue
            found.add((target.table, (assoc.foreign_key,)))
    return found


def add_tables(
    metadata: sa.MetaData,
    kind: str,
    collation: str | None,
    models: Iterable[Model],
    lookup: Callable[[str], Model],
) -> None:
    """Add the table of every model (that has fields and is not there yet) to ``metadata``."""
    wanted = [m for m in models if m.fields and m.table not in metadata.tables]
    indexed = foreign_key_columns(wanted, lookup)
    for model in wanted:
        _add_table(metadata, kind, collation, model, lookup, indexed)


def _add_table(
    metadata: sa.MetaData,
    kind: str,
    collation: str | None,
    model: Model,
    lookup: Callable[[str], Model],
    indexed: set[tuple[str, tuple[str, ...]]],
) -> None:
    references = {}
    for assoc in model.associations.values():
        if assoc.kind == "belongs_to" and assoc.foreign_key in model.fields:
            target = lookup(assoc.model)
            references[assoc.foreign_key] = f"{target.table}.{target.primary_key}"
    columns = []
    for name, field in model.fields.items():
        is_pk = name == model.primary_key
        args: list[Any] = []
        if name in references:
            args.append(sa.ForeignKey(references[name]))
        columns.append(
            sa.Column(
                name,
                column_type(kind, field, collation),
                *args,
                primary_key=is_pk,
                autoincrement=is_pk and field.type == "integer",
                nullable=field.null and not is_pk,
                server_default=server_default(kind, field),
            )
        )
    options: dict[str, Any] = {}
    if kind == MYSQL:
        options = _both_prefixes({"engine": "InnoDB", "charset": "utf8mb4", "collate": collation})
    elif kind == SQLITE and model.fields[model.primary_key].type == "integer":
        # Without AUTOINCREMENT SQLite hands a destroyed row's id (the largest) to the next
        # insert, which would inherit the old row's activity history and live subscribers.
        options = {"sqlite_autoincrement": True}
    table = sa.Table(model.table, metadata, *columns, **options)
    declared = [tuple(ix) for ix in model.indexes]
    implied = [
        cols
        for (tbl, cols) in sorted(indexed)
        if tbl == model.table and all(col in model.fields for col in cols)
    ]
    seen: list[tuple[str, ...]] = []
    for cols in declared + implied:
        # A foreign key's index that a declared one (or the primary key) starts with
        # would only cost every write: the longer one serves the same lookups.
        covered = any(ix[: len(cols)] == cols for ix in seen) if cols in implied else False
        if cols == (model.primary_key,) or cols in seen or covered:
            continue
        seen.append(cols)
        sa.Index(
            index_name(model.table, cols),
            *(table.c[c] for c in cols),
            **_index_options(kind, model, cols),
        )


def _index_options(kind: str, model: Model, cols: tuple[str, ...]) -> dict[str, Any]:
    # MariaDB indexes a TEXT column only by a prefix.
    if kind != MYSQL:
        return {}
    lengths = {c: 255 for c in cols if model.fields[c].type in ("text", "json")}
    return _both_prefixes({"length": lengths}) if lengths else {}


def _both_prefixes(options: dict[str, Any]) -> dict[str, Any]:
    # SQLAlchemy's MariaDB dialect (mariadb://) reads mariadb_*, its MySQL dialect mysql_*.
    return {f"{prefix}_{k}": v for prefix in ("mysql", "mariadb") for k, v in options.items()}


def create_ddl(metadata: sa.MetaData, dialect: sa.Dialect) -> list[str]:
    """The CREATE TABLE and CREATE INDEX statements of ``metadata``, in dependency order."""
    out = []
    for table in metadata.sorted_tables:
        out.append(str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
            out.append(str(sa.schema.CreateIndex(index).compile(dialect=dialect)).strip())
    return out
