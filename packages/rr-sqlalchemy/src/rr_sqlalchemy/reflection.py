"""Reading an existing table: columns, field types, keys, indexes and CHECK constraints.

:func:`inspect_table` asks SQLAlchemy's Inspector (and, on MariaDB, the
``information_schema``, whose column defaults and column-level CHECKs the Inspector
misses) and returns a :class:`TableInfo`. Field types are the ten of DESIGN.md §8;
CHECK constraints of the shapes ``col IN (...)``, ``col = ANY (ARRAY[...])``, comparisons
with numbers and ``length(col)`` bounds become validations; MariaDB's
``json_valid(col)`` marks a JSON column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from .sql_text import identifier, parse_literal, split_top, strip_parens

#: Functions whose default a database fills per row: never evaluated client-side.
_SEQUENCE = re.compile(r"^nextval\(", re.IGNORECASE)
_JSON_VALID = re.compile(r"^json_valid\s*\((.+)\)$", re.IGNORECASE)
#: A column definition ``name TEXT COLLATE rr_decimal`` in SQLite's CREATE TABLE text.
_DECIMAL_TEXT = re.compile(
    r'(?:^|[(,])\s*("[^"]+"|`[^`]+`|\w+)\s+TEXT\s+COLLATE\s+"?rr_decimal"?(?![\w"])',
    re.IGNORECASE,
)
_COMPARISON = re.compile(r"^(.+?)\s*(>=|<=|<>|!=|>|<|=)\s*(.+)$")
_BETWEEN = re.compile(r"^(.+?)\s+BETWEEN\s+(.+?)\s+AND\s+(.+)$", re.IGNORECASE)
_LENGTH_CALL = re.compile(r"^(?:char_length|character_length|length)\s*\((.+)\)$", re.IGNORECASE)
_FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}
_NUMERICALITY = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}


@dataclass(frozen=True)
class ColumnInfo:
    """One reflected column, with its field type (DESIGN.md §8) and raw default text."""

    name: str
    sql_type: Any
    type: str
    nullable: bool
    default: str | None
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    generated: str | None = None
    time_precision: int | None = None
    labels: tuple[str, ...] = ()
    unsupported: str | None = None


@dataclass(frozen=True)
class ForeignKeyInfo:
    """A foreign key: this table's ``columns`` refer to ``referred_table``'s columns."""

    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    on_delete: str | None = None


@dataclass
class TableInfo:
    """Everything reflection learned about one table."""

    name: str
    dialect: str
    columns: dict[str, ColumnInfo]
    primary_key: tuple[str, ...]
    foreign_keys: list[ForeignKeyInfo] = field(default_factory=list)
    indexes: list[tuple[str, ...]] = field(default_factory=list)
    validations: dict[str, dict[str, Any]] = field(default_factory=dict)
    unread_checks: list[str] = field(default_factory=list)

    @property
    def escapes(self) -> bool:
        """Whether the database's string literals use backslash escapes (MySQL/MariaDB)."""
        return self.dialect in ("mysql", "mariadb")


def dialect_name(bind: sa.Connection | sa.Engine) -> str:
    """``sqlite``, ``postgresql``, ``mariadb`` or ``mysql`` (MariaDB told apart from MySQL)."""
    dialect = bind.dialect
    if dialect.name in ("mysql", "mariadb"):
        return "mariadb" if getattr(dialect, "is_mariadb", False) else "mysql"
    return str(dialect.name)


def table_names(bind: sa.Connection) -> list[str]:
    """Every table of the database's default schema, sorted."""
    return sorted(sa.inspect(bind).get_table_names())


def inspect_table(bind: sa.Connection, table: str) -> TableInfo:
    """Reflect ``table`` (raises ``sqlalchemy.exc.NoSuchTableError`` when it does not exist)."""
    inspector = sa.inspect(bind)
    dialect = dialect_name(bind)
    raw_columns = inspector.get_columns(table)
    primary_key = tuple(inspector.get_pk_constraint(table).get("constrained_columns") or ())
    if dialect == "mariadb":
        overrides, checks = _mariadb_extras(bind, table)
    else:
        overrides, checks = {}, [c["sqltext"] for c in inspector.get_check_constraints(table)]
    info = TableInfo(table, dialect, {}, primary_key)
    json_columns: set[str] = set()
    for text in checks:
        json_column = _json_valid_column(text)
        if json_column is not None:
            json_columns.add(json_column)
    decimals = _sqlite_decimal_columns(bind, table) if dialect == "sqlite" else set()
    for raw in raw_columns:
        name = raw["name"]
        default = overrides[name] if name in overrides else raw.get("default")
        info.columns[name] = _column(raw, default, dialect, primary_key, name in json_columns)
        if name in decimals:  # the store's own exact decimal text reads back as a decimal
            info.columns[name] = replace(info.columns[name], type="decimal")
    for text in checks:
        if _json_valid_column(text) is None and not _read_check(info, text):
            info.unread_checks.append(text)
    for name, column in info.columns.items():
        if column.labels:
            info.validations.setdefault(name, {}).setdefault("inclusion", list(column.labels))
    on_delete = _sqlite_on_delete(bind, table) if dialect == "sqlite" else {}
    info.foreign_keys = [
        ForeignKeyInfo(
            tuple(fk["constrained_columns"]),
            fk["referred_table"],
            tuple(fk["referred_columns"]),
            (fk.get("options") or {}).get("ondelete")
            or on_delete.get(tuple(fk["constrained_columns"])),
        )
        for fk in inspector.get_foreign_keys(table)
        if fk.get("referred_schema") in (None, inspector.default_schema_name)
    ]
    seen: set[tuple[str, ...]] = {primary_key}
    for index in inspector.get_indexes(table):
        names = tuple(index.get("column_names") or ())
        columns = tuple(name for name in names if name is not None)
        if columns and len(columns) == len(names) and columns not in seen:
            seen.add(columns)
            info.indexes.append(columns)
    return info


def _mariadb_extras(bind: sa.Connection, table: str) -> tuple[dict[str, str | None], list[str]]:
    # The Inspector parses SHOW CREATE TABLE, which loses backslash-escaped quotes and
    # column-level CHECKs; information_schema has both, exactly as the server stores them.
    defaults = bind.execute(
        sa.text(
            "SELECT COLUMN_NAME, COLUMN_DEFAULT FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table"
        ),
        {"table": table},
    ).all()
    checks = bind.execute(
        sa.text(
            "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = :table "
            "ORDER BY CONSTRAINT_NAME"
        ),
        {"table": table},
    ).all()
    return {row[0]: row[1] for row in defaults}, [row[0] for row in checks]


def _sqlite_on_delete(bind: sa.Connection, table: str) -> dict[tuple[str, ...], str]:
    # SQLAlchemy reads ON DELETE only from table-level FOREIGN KEY clauses; the pragma
    # knows it for column-level REFERENCES too.
    quoted = bind.dialect.identifier_preparer.quote(table)
    rows = bind.exec_driver_sql(f"PRAGMA foreign_key_list({quoted})").all()
    columns: dict[int, list[str]] = {}
    actions: dict[int, str] = {}
    for row in rows:
        columns.setdefault(row[0], []).append(row[3])
        actions[row[0]] = row[6]
    return {tuple(columns[key]): action for key, action in actions.items() if action != "NO ACTION"}


def _sqlite_decimal_columns(bind: sa.Connection, table: str) -> set[str]:
    """Columns declared ``TEXT COLLATE rr_decimal``: how the store keeps a decimal on
    SQLite (the pragma and SQLAlchemy give the type, not the collation)."""
    row = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).first()
    if row is None or not row[0]:
        return set()
    names = _DECIMAL_TEXT.findall(row[0])
    return {name[1:-1] if name[0] in '"`' else name for name in names}


def _json_valid_column(text: str) -> str | None:
    match = _JSON_VALID.match(strip_parens(text, escapes=True))
    return identifier(match.group(1)) if match else None


# -- types ----------------------------------------------------------------------------


def _column(
    column: Mapping[str, Any],
    default: str | None,
    dialect: str,
    primary_key: Sequence[str],
    is_json: bool,
) -> ColumnInfo:
    sql_type = column["type"]
    if isinstance(sql_type, postgresql.DOMAIN):
        sql_type = sql_type.data_type
    kind, extra = field_type(sql_type)
    if is_json:
        kind, extra = "json", {}
    name = column["name"]
    return ColumnInfo(
        name=name,
        sql_type=sql_type,
        type=kind,
        nullable=bool(column.get("nullable", True)) and name not in primary_key,
        default=default,
        generated=_generated(column, default, dialect, primary_key, sql_type),
        **extra,
    )


def _generated(
    column: Mapping[str, Any],
    default: str | None,
    dialect: str,
    primary_key: Sequence[str],
    sql_type: Any,
) -> str | None:
    """How the database fills the column itself, if it does (shown as the default's text)."""
    computed = column.get("computed")
    if computed:
        return f"GENERATED ALWAYS AS ({computed['sqltext']})"
    if column.get("identity"):
        return "GENERATED AS IDENTITY"
    if default is not None and _SEQUENCE.match(default):
        return default
    if dialect in ("mysql", "mariadb") and column.get("autoincrement") is True:
        return "AUTO_INCREMENT"
    if (
        dialect == "sqlite"
        and tuple(primary_key) == (column["name"],)
        and isinstance(sql_type, sa.Integer)
    ):
        return "INTEGER PRIMARY KEY (rowid)"
    return None


def field_type(sql_type: Any) -> tuple[str, dict[str, Any]]:
    """The field type (DESIGN.md §8) of a SQLAlchemy type, and its length/precision/scale.

    Types with no counterpart (binary, intervals, times...) read as ``text`` and say so
    in ``unsupported``.
    """
    if isinstance(sql_type, sa.Boolean) or (
        isinstance(sql_type, mysql.TINYINT) and sql_type.display_width == 1
    ):
        return "boolean", {}
    if isinstance(sql_type, sa.Enum):
        labels = tuple(sql_type.enums)
        return "string", {"labels": labels, "length": max((len(x) for x in labels), default=None)}
    if isinstance(sql_type, sa.Uuid):
        return "uuid", {}
    if isinstance(sql_type, (sa.JSON, sa.ARRAY)):
        return "json", {}
    if isinstance(sql_type, sa.Float):
        return "float", {}
    if isinstance(sql_type, sa.Numeric):
        return "decimal", {"precision": sql_type.precision, "scale": sql_type.scale}
    if isinstance(sql_type, sa.Integer):
        return "integer", {}
    if isinstance(sql_type, sa.DateTime):
        precision = getattr(sql_type, "fsp", None)
        if precision is None:
            precision = getattr(sql_type, "precision", None)
        return "datetime", {"time_precision": precision}
    if isinstance(sql_type, sa.Date):
        return "date", {}
    if isinstance(sql_type, mysql.SET):
        # Any comma-joined subset of its labels: as long as all of them together.
        labels = tuple(sql_type.values)
        return "string", {"length": sum(map(len, labels)) + max(len(labels) - 1, 0) or None}
    if isinstance(sql_type, sa.String):
        textual = isinstance(sql_type, sa.Text) or type(sql_type).__name__.endswith("TEXT")
        if textual or sql_type.length is None:
            return "text", {}
        return "string", {"length": sql_type.length}
    return "text", {"unsupported": type(sql_type).__name__}


# -- CHECK constraints ----------------------------------------------------------------


def _read_check(info: TableInfo, text: str) -> bool:
    """Turn one CHECK into validations on ``info``; False when its shape is not understood."""
    found: list[tuple[str, str, Any]] = []
    escapes = info.escapes
    for conjunct in _conjuncts(strip_parens(text, escapes), escapes):
        between = _BETWEEN.match(strip_parens(conjunct, escapes))
        if between is not None:
            found += _bound(info, between.group(1), ">=", between.group(2))
            found += _bound(info, between.group(1), "<=", between.group(3))
        else:
            found += _inclusion(info, conjunct) or _comparison(info, conjunct)
    if not found or any(item[0] == "" for item in found):
        return False
    for column, rule, value in found:
        rules = info.validations.setdefault(column, {})
        if rule == "inclusion":
            rules["inclusion"] = value
        else:
            group, key = rule.split(".")
            rules.setdefault(group, {})[key] = value
    return True


_UNREAD: list[tuple[str, str, Any]] = [("", "", None)]


def _conjuncts(text: str, escapes: bool) -> list[str]:
    """The parts of ``a AND b AND c``, keeping ``x BETWEEN 1 AND 5`` whole."""
    parts: list[str] = []
    for part in split_top(text, r"\bAND\b", escapes):
        if parts and re.search(r"\bBETWEEN\s+[^\s]+$", parts[-1], re.IGNORECASE):
            parts[-1] = f"{parts[-1]} AND {part}"
        else:
            parts.append(part)
    return parts


def _inclusion(info: TableInfo, text: str) -> list[tuple[str, str, Any]]:
    escapes = info.escapes
    text = strip_parens(text, escapes)
    parts = split_top(text, r"\bIN\b", escapes)
    if len(parts) == 2:
        column, values = parts[0], strip_parens(parts[1], escapes)
        items = split_top(values, ",", escapes)
    else:
        parts = split_top(text, r"=\s*ANY\b", escapes)
        if len(parts) != 2:
            return []
        column = parts[0]
        array = parse_literal(parts[1], escapes)
        if array is None or array.kind != "array":
            return _UNREAD
        items = list(array.value)
    name = identifier(column)
    if name is None or name not in info.columns:
        return _UNREAD
    values_out = [_check_value(info.columns[name], item, escapes) for item in items]
    if any(value is None for value in values_out):
        return _UNREAD
    return [(name, "inclusion", values_out)]


def _check_value(column: ColumnInfo, item: Any, escapes: bool) -> Any:
    literal = parse_literal(item, escapes) if isinstance(item, str) else item
    if literal is None or literal.kind not in ("string", "number"):
        return None
    if column.type == "integer":
        try:
            return int(literal.value)
        except ValueError:
            return None
    if column.type == "decimal":
        try:
            return Decimal(literal.value)  # exact: 0.10 as a float would not equal Decimal("0.10")
        except InvalidOperation:
            return None
    if column.type == "float":
        try:
            return float(literal.value)
        except ValueError:
            return None
    return literal.value if literal.kind == "string" else None


def _comparison(info: TableInfo, text: str) -> list[tuple[str, str, Any]]:
    match = _COMPARISON.match(strip_parens(text, info.escapes))
    if match is None or match.group(2) in ("<>", "!="):
        return _UNREAD
    left, op, right = match.groups()
    if identifier(left) is None and _LENGTH_CALL.match(strip_parens(left)) is None:
        left, right, op = right, left, _FLIPPED[op]
    return _bound(info, left, op, right)


def _bound(info: TableInfo, subject: str, op: str, bound: str) -> list[tuple[str, str, Any]]:
    literal = parse_literal(bound, info.escapes)
    if literal is None or literal.kind not in ("number", "string"):
        return _UNREAD
    try:
        number = float(literal.value)
    except ValueError:
        return _UNREAD
    value: int | float = int(number) if number.is_integer() else number
    length_call = _LENGTH_CALL.match(strip_parens(subject))
    name = identifier(length_call.group(1) if length_call else subject)
    if name is None or name not in info.columns:
        return _UNREAD
    if length_call is not None:
        if not isinstance(value, int) or op not in (">=", "<=", ">", "<", "="):
            return _UNREAD
        if op == "=":
            return [(name, "length.is", value)]
        key = "min" if op in (">=", ">") else "max"
        adjusted = value + (1 if op == ">" else -1 if op == "<" else 0)
        return [(name, f"length.{key}", adjusted)]
    if op == "=" or info.columns[name].type not in ("integer", "float", "decimal"):
        return _UNREAD
    return [(name, f"numericality.{_NUMERICALITY[op]}", value)]
