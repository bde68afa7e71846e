"""``reactive-record generate``: model configuration, or typed records, for an existing database.

:func:`describe_database` reflects tables into model tables (the shape of
``[tool.reactive-record.models.X]``) with associations both ways: a foreign key
``jobs.client_id -> clients.id`` gives ``Job`` a ``belongs_to.client`` and ``Client`` a
``has_many.jobs`` (``dependent = "destroy"`` where the key cascades on delete); a key
that cannot make one (several columns, a column other than the primary key, a table
left out) is noted in a comment instead.
:func:`render_toml` prints them with tomlkit; :func:`render_python` prints record
classes that type the handles (``ModelHandle[JobRecord]``) for editors and mypy.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
import tomlkit
from reactive_record import Record
from reactive_record.definitions import singular, snake
from tomlkit.items import InlineTable, Table

from .connect import make_engine
from .model_config import model_table
from .reflection import ForeignKeyInfo, TableInfo, inspect_table, table_names
from .types import SQLITE
from .urls import resolve

#: How each field type reads in Python, and what it needs imported.
PYTHON_TYPES = {
    "string": ("str", None),
    "text": ("str", None),
    "integer": ("int", None),
    "float": ("float", None),
    "decimal": ("_decimal.Decimal", "decimal"),
    "boolean": ("bool", None),
    "date": ("_datetime.date", "datetime"),
    "datetime": ("_datetime.datetime", "datetime"),
    "json": ("_Any", None),
    "uuid": ("_uuid.UUID", "uuid"),
}


def model_name(table: str) -> str:
    """The model name of a table: singular CamelCase (``job_tasks`` -> ``JobTask``)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", singular(table)) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Table"
    return name if name[0].isalpha() else f"T{name}"


@dataclass
class Description:
    """Model tables by model name, and the tables that cannot be models (with why)."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""


def describe_database(bind: sa.Connection, tables: Sequence[str] | None = None) -> Description:
    """The model tables of ``tables`` (every table when None), associations included.

    Tables without a one-column primary key cannot be models: they are left out and
    listed in ``skipped``.
    """
    names = list(tables) if tables else table_names(bind)
    infos: dict[str, TableInfo] = {name: inspect_table(bind, name) for name in names}
    models: dict[str, dict[str, Any]] = {}
    by_table: dict[str, str] = {}
    skipped: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    for table, info in infos.items():
        if len(info.primary_key) != 1:
            skipped[table] = (
                f"primary key ({', '.join(info.primary_key) or 'none'}) is not one column"
            )
            continue
        name = model_name(table)
        while name in models:
            name += "Table"
        models[name] = model_table(info)
        by_table[table] = name
        notes[name] = _notes(info)
    _associate(infos, models, by_table, notes)
    source = bind.engine.url.render_as_string(hide_password=True)
    return Description(models, skipped, notes, source)


def _notes(info: TableInfo) -> list[str]:
    """What reflection could not say in configuration, for the reader of the TOML."""
    found = [
        f"{column.name}: {column.unsupported} has no field type; read as text"
        for column in info.columns.values()
        if column.unsupported is not None
    ]
    found += [f"CHECK ({text}) is the database's to enforce" for text in info.unread_checks]
    return found


def _associate(
    infos: Mapping[str, TableInfo],
    models: dict[str, dict[str, Any]],
    by_table: Mapping[str, str],
    notes: dict[str, list[str]],
) -> None:
    made: list[tuple[str, ForeignKeyInfo]] = []
    children: dict[tuple[str, str], int] = {}
    for table in by_table:
        for fk in infos[table].foreign_keys:
            unmade = _no_association(fk, infos, models, by_table)
            if unmade is not None:
                notes[by_table[table]].append(
                    f"{', '.join(fk.columns)} -> {fk.referred_table} "
                    f"({', '.join(fk.referred_columns)}): no association: {unmade}"
                )
                continue
            made.append((table, fk))
            key = (table, fk.referred_table)
            children[key] = children.get(key, 0) + 1
    for table, fk in made:
        child = models[by_table[table]]
        parent_name = by_table[fk.referred_table]
        parent = models[parent_name]
        column = fk.columns[0]
        stem = column[:-3] if column.endswith("_id") and len(column) > 3 else snake(parent_name)
        belongs = _free_name(child, stem)
        child.setdefault("belongs_to", {})[belongs] = {
            "model": parent_name,
            "foreign_key": column,
        }
        plural = table if children[(table, fk.referred_table)] == 1 else f"{belongs}_{table}"
        many: dict[str, Any] = {"model": by_table[table], "foreign_key": column}
        if (fk.on_delete or "").upper() == "CASCADE":
            many["dependent"] = "destroy"
        parent.setdefault("has_many", {})[_free_name(parent, plural)] = many


def _no_association(
    fk: ForeignKeyInfo,
    infos: Mapping[str, TableInfo],
    models: Mapping[str, Mapping[str, Any]],
    by_table: Mapping[str, str],
) -> str | None:
    """Why ``fk`` makes no association (None: it makes one), for the TOML's reader."""
    referred = fk.referred_table
    if referred not in infos:
        return f"{referred} is not generated"
    if referred not in by_table:
        return f"{referred} is not a model"
    if len(fk.columns) != 1:
        return "its key has several columns"
    primary_key = models[by_table[referred]].get("primary_key", "id")
    if list(fk.referred_columns) != [primary_key]:
        return f"{fk.referred_columns[0]} is not the primary key of {referred}"
    return None


def _free_name(model: Mapping[str, Any], wanted: str) -> str:
    taken = set(model["fields"]) | set(model.get("belongs_to", {})) | set(model.get("has_many", {}))
    name = wanted
    while name in taken:
        name += "_records"
    return name


# -- TOML -----------------------------------------------------------------------------


def render_toml(description: Description) -> str:
    """The ``[tool.reactive-record.models.*]`` tables of ``description`` as TOML text."""
    document = tomlkit.document()
    document.add(
        tomlkit.comment(f"Generated by `reactive-record generate` from {description.source}.")
    )
    for table, reason in description.skipped.items():
        document.add(tomlkit.comment(f"Skipped table {table}: {reason}."))
    tables = tomlkit.table(is_super_table=True)
    for name, definition in description.models.items():
        tables.add(name, _model_toml(definition, description.notes.get(name, ())))
    root = tomlkit.table(is_super_table=True)
    config = tomlkit.table(is_super_table=True)
    config.add("models", tables)
    root.add("reactive-record", config)
    document.add("tool", root)
    return tomlkit.dumps(document)


def _model_toml(definition: Mapping[str, Any], notes: Iterable[str]) -> Table:
    table = tomlkit.table()
    for note in notes:
        table.add(tomlkit.comment(note))
    for key in ("table", "primary_key"):
        if key in definition:
            table.add(key, definition[key])
    if "indexes" in definition:
        table.add("indexes", definition["indexes"])
    for key in ("fields", "belongs_to", "has_many", "validations"):
        if definition.get(key):
            section = tomlkit.table()
            for name, value in definition[key].items():
                section.add(name, _inline(value))
            table.add(key, section)
    return table


def _inline(value: Mapping[str, Any]) -> InlineTable:
    table = tomlkit.inline_table()
    for key, item in value.items():
        table.append(key, _inline(item) if isinstance(item, Mapping) else _toml(item))
    return table


def _toml(value: Any) -> Any:
    """A value TOML can hold: a Decimal as its exact text (the field's type reads it back)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_toml(item) for item in value]
    return value


# -- Python ---------------------------------------------------------------------------


def render_python(description: Description) -> str:
    """A module of typed record classes, one per model, and a typed view of ``rr.models``."""
    imports: set[str] = set()
    names = list(description.models)
    classes = [_record_class(name, description.models[name], imports) for name in names]
    protocol = "\n".join(f"    {name}: ModelHandle[{name}Record]" for name in names) or "    pass"
    head = [
        '"""Typed records: generated by `reactive-record generate --format python`.',
        "",
        f"From {description.source}.",
        "",
        "Type a handle with its record class (``Job: ModelHandle[JobRecord] = rr.models.Job``),",
        "or every handle at once with ``models = typed_models(rr)``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        # Under private names: a column called uuid or datetime must not hide its type.
        *[f"import {module} as _{module}" for module in sorted(imports)],
        "from typing import Any as _Any",
        "from typing import Protocol, cast",
        "",
        "from reactive_record import ModelHandle, ReactiveRecord, Record",
    ]
    tail = [
        "class Models(Protocol):",
        '    """``rr.models`` with each handle typed by its record class."""',
        "",
        protocol,
        "",
        "",
        "def typed_models(rr: ReactiveRecord) -> Models:",
        '    """``rr.models``, typed for mypy and editors."""',
        "    return cast(Models, rr.models)",
    ]
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join([*classes, "\n".join(tail)]) + "\n"


#: Names a field may not take: Record's own, and those its class's annotations read.
_RESERVED = (
    frozenset(dir(Record))
    | {"str", "int", "float", "bool", "_Any"}
    | {f"_{module}" for _, module in PYTHON_TYPES.values() if module}
)


def _record_class(name: str, definition: Mapping[str, Any], imports: set[str]) -> str:
    lines = [
        f"class {name}Record(Record):",
        f'    """A row of table ``{definition["table"]}``."""',
        "",
    ]
    for field_name, spec in definition["fields"].items():
        python, module = PYTHON_TYPES[spec["type"]]
        nullable = spec.get("null", True) and not spec.get("primary_key", False)
        annotation = f"{python} | None" if nullable and python != "_Any" else python
        if (
            not field_name.isidentifier()
            or keyword.iskeyword(field_name)
            or field_name in _RESERVED
        ):
            lines.append(
                f"    # {field_name}: {annotation}  (read it by item: record[{field_name!r}])"
            )
            continue
        if module is not None:
            imports.add(module)
        lines.append(f"    {field_name}: {annotation}")
    return "\n".join(lines)


# -- the command ----------------------------------------------------------------------


def _split(values: Iterable[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _database_url(explicit: str | None) -> str:
    from reactive_record.cli import current_project
    from reactive_record.config import find_pyproject, read_pyproject

    project = current_project()
    url = explicit or project.database or os.environ.get("RR_DATABASE_URL")
    if url is None:
        path = project.path or find_pyproject()
        if path is not None:
            url = read_pyproject(path / "pyproject.toml" if path.is_dir() else path).get("database")
    if not url:
        raise click.UsageError("no database: pass --database URL (or configure `database`)")
    return str(url)


@click.command("generate")
@click.option(
    "--database", "url", metavar="URL", help="The database to read (default: the project's)."
)
@click.option(
    "--tables",
    multiple=True,
    metavar="NAMES",
    help="Only these tables (comma-separated or repeated).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["toml", "python"]),
    default="toml",
    show_default=True,
    help="toml: [tool.reactive-record.models.*] tables; python: typed record classes.",
)
def generate(url: str | None, tables: tuple[str, ...], output: str) -> None:
    """Print model configuration (or typed records) for the tables of an existing database."""
    target = resolve(_database_url(url))
    if target is None:
        raise click.UsageError("generate reads SQL databases: sqlite://, postgresql://, mysql://")
    database = target.url.database or ""
    plain_file = target.kind == SQLITE and not target.in_memory and database
    if plain_file and not database.startswith("file:") and not Path(database).exists():
        # Opening it would create an empty file and describe nothing: a typo, reported.
        raise click.UsageError(f"no SQLite database at {database}")
    engine = make_engine(target)
    wanted = _split(tables)
    try:
        with engine.connect() as connection:
            missing = sorted(set(wanted) - set(table_names(connection)))
            if missing:
                raise click.UsageError(f"no such table(s): {', '.join(missing)}")
            description = describe_database(connection, wanted or None)
    except sa.exc.SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise click.ClickException(f"cannot read {where}: {exc}") from None
    finally:
        engine.dispose()
    render = render_python if output == "python" else render_toml
    click.echo(render(description), nl=False)
