"""SqlStore: the Store protocol of rr-core on SQLite, PostgreSQL and MariaDB/MySQL.

Statements are built with SQLAlchemy Core once per shape (see ``compiler``) and run on
the pooled DB-API connection directly, so a read costs one ``execute`` and one
``fetchall`` plus the row dicts. The semantics are MemoryStore's.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from reactive_record import Model, SchemaDefault, StaleRecord, StoreError

from .compiler import Compiler, Key, Statement, flatten
from .connect import BEGIN, make_engine, string_collation
from .feed import watcher_for
from .model_config import reflect_model
from .schema_defaults import declared_defaults
from .tables import add_tables, create_ddl
from .types import POSTGRESQL
from .urls import Target

if TYPE_CHECKING:
    from reactive_record import Change, Plan, ReactiveRecord

Row = dict[str, Any]

#: How many compiled statement shapes a store keeps.
MAX_STATEMENTS = 2048

#: PostgreSQL: an id inserted explicitly does not move the column's sequence, so the next
#: generated id would collide with it; this moves the sequence past it (never back).
ADVANCE_SEQUENCE = (
    "SELECT setval(seq::regclass, %s) FROM (SELECT pg_get_serial_sequence(%s, %s) AS seq) AS s"
    " WHERE seq IS NOT NULL AND %s > coalesce(pg_sequence_last_value(seq::regclass), 0)"
)

#: Where a pooled connection keeps its cursors (its pool ``info``, cleared on reconnect).
CURSOR = "rr_sqlalchemy.cursor"
#: The cursor of what is not a compiled statement: BEGIN, COMMIT, a sequence's setval.
CONTROL = "control"
#: A kept cursor whose last result has more rows is closed after use: psycopg and
#: PyMySQL hold a cursor's last result until its next statement.
KEEP_CURSOR_ROWS = 1_000


def kept_cursors(connection: Any) -> dict[str, Any]:
    """``connection``'s cursors, by kind of statement: each made once and kept.

    Making and closing a psycopg cursor for each transaction cost PostgreSQL writes
    0.04x of a raw update's time in bench_write (Python run between network waits is
    several times slower than warm). One per kind (``Statement.kind``: select, count,
    insert, update, delete; and CONTROL) because psycopg redoes a cursor's per-query
    setup (its adapters) whenever the query changes: a write's locked read and its
    UPDATE alternating on one cursor cost another 0.04x.
    """
    cursors: dict[str, Any] = connection.info.setdefault(CURSOR, {})
    return cursors


def cursor_for(connection: Any, cursors: dict[str, Any], kind: str) -> Any:
    """The cursor for ``kind`` among ``connection``'s kept ones (made on first use)."""
    cursor = cursors.get(kind)
    if cursor is None:
        cursor = cursors[kind] = connection.dbapi_connection.cursor()
    return cursor


def put_back(connection: Any, cursors: dict[str, Any]) -> None:
    """After a use of the kept cursors: the select cursor is closed when it holds a
    large result (the others hold a row per write at most), so that memory goes back
    now; all of them when the connection broke."""
    if connection.is_valid:
        cursor = cursors.get("select")
        if cursor is None or cursor.rowcount <= KEEP_CURSOR_ROWS:
            return
        closing = [cursors.pop("select")]
    else:
        closing = list(cursors.values())
        cursors.clear()
    for cursor in closing:
        with suppress(Exception):  # a broken connection's cursor may refuse to close
            cursor.close()


class SqlStore:
    """A SQL database as a ReactiveRecord store.

    ``engine`` is the SQLAlchemy engine (autocommit connections); ``metadata`` holds the
    tables of every model, for Alembic. An in-memory SQLite database has one connection,
    shared by every thread under a lock.
    """

    def __init__(self, rr: ReactiveRecord, url: str, target: Target) -> None:
        self.url = url
        self.kind = target.kind
        self.engine = make_engine(target)
        self._lookup: Callable[[str], Model] = rr.model_definition
        self._models: Callable[[], Sequence[Model]] = rr.model_definitions
        self._lock = threading.RLock() if target.in_memory else None
        #: What serialises use of the one in-memory connection (nothing elsewhere).
        self._guard: AbstractContextManager[Any] = self._lock or nullcontext()
        self._setup_lock = threading.Lock()
        self._metadata: sa.MetaData | None = None
        self._collation: str | None = None
        self._compiler: Compiler | None = None
        self._insert_returning = False
        self._update_returning = False
        self._statements: dict[Key, Statement] = {}
        self._arrays: dict[str, frozenset[str]] = {}
        self._errors: tuple[type[BaseException], ...] = (self.engine.dialect.loaded_dbapi.Error,)
        #: How other processes' commits are seen: PostgreSQL's feed, SQLite's data_version.
        self._watcher = watcher_for(self)
        #: The connection last given back, kept for the next taker: a trip through the
        #: pool (checkout, check-in) costs about 10 µs, a fifth of a one-row write.
        self._spare: list[Any] = []
        #: PostgreSQL transactions keep theirs apart, out of autocommit mode: switching
        #: one connection in and out of it around every write costs more (bench_write).
        self._managed_spare: list[Any] = []

    # -- schema -----------------------------------------------------------------------------

    @property
    def metadata(self) -> sa.MetaData:
        """SQLAlchemy ``MetaData`` with the table of every model (for Alembic)."""
        if self._metadata is None:
            self._setup()
        assert self._metadata is not None
        return self._metadata

    def _setup(self) -> None:
        # The dialect learns the server's version on the first connection; the
        # collation and RETURNING support depend on it.
        with self._setup_lock:
            if self._compiler is not None:
                return
            with self._guard, self._wrapping(f"connecting to {self.safe_url}"):
                self.engine.connect().close()
            metadata = sa.MetaData()
            collation = string_collation(self.kind, self.engine.dialect)
            add_tables(metadata, self.kind, collation, self._models(), self._lookup)
            self._metadata = metadata
            self._collation = collation
            self._compiler = Compiler(
                self.kind, self.engine.dialect, self.table, self._lookup, self.array_fields
            )
            self._insert_returning = bool(self.engine.dialect.insert_returning)
            self._update_returning = bool(self.engine.dialect.update_returning)

    def table(self, model: Model) -> sa.Table:
        """The SQLAlchemy table of ``model``."""
        metadata = self.metadata
        table = metadata.tables.get(model.table)
        if table is None:
            add_tables(metadata, self.kind, self._collation, [model], self._lookup)
            table = metadata.tables.get(model.table)
            if table is None:
                raise StoreError(f"{model.name} has no fields: its table cannot be built")
        return table

    def array_fields(self, model: Model) -> frozenset[str]:
        """The json fields of ``model`` whose column is a PostgreSQL array, not JSON.

        A reflected ``text[]`` or ``integer[]`` column reads as a ``json`` list; written
        as JSON text it would be refused ("malformed array literal"), so those values go
        to psycopg as lists. Looked up once per table, when a statement first needs it.
        """
        found = self._arrays.get(model.table)
        if found is None:
            found = frozenset()
            json = {name for name, field in model.fields.items() if field.type == "json"}
            if self.kind == POSTGRESQL and json:
                with self._wrapping(f"inspecting {model.table}"), self.engine.connect() as conn:
                    columns = sa.inspect(conn).get_columns(model.table)
                found = frozenset(
                    column["name"]
                    for column in columns
                    if column["name"] in json and isinstance(column["type"], sa.ARRAY)
                )
            self._arrays[model.table] = found
        return found

    def create_tables(self, models: Sequence[Model]) -> None:
        """Create the tables of ``models`` that do not exist yet (indexes, feed triggers)."""
        tables = [self.table(model) for model in models if model.fields]
        with self._guard, self._wrapping("create tables"):
            self.metadata.create_all(self.engine, tables=tables, checkfirst=True)
            with self.engine.begin() as connection:
                self._watcher.install(connection, models)

    def ddl(self) -> str:
        """The CREATE statements of every model's table (and change-feed triggers), as SQL."""
        statements = create_ddl(self.metadata, self.engine.dialect)
        statements += self._watcher.ddl(self._models())
        return "".join(f"{sql};\n\n" for sql in statements)

    # -- other processes' commits (the live layer asks) ------------------------------------------

    @property
    def exact_string_semantics(self) -> bool:
        """Whether strings compare and sort by code point, as the in-memory evaluator does.

        True for the binary, no-pad collations create_tables uses; False with a padding
        one (old MariaDB/MySQL) or when a model's table was reflected, not made here.
        """
        self._setup()
        padded = self._collation == "utf8mb4_bin"
        return not padded and not any(model.reflect for model in self._models())

    def change_feed(self) -> Any:
        """PostgreSQL's feed of other processes' commits (None on other databases)."""
        return self._watcher.feed()

    def freshness_token(self) -> Any:
        """A value that changes when another process may have committed (None: unknown)."""
        return self._watcher.token()

    @property
    def connection_lock(self) -> threading.RLock | None:
        """The lock around the one shared connection of an in-memory SQLite (else None).

        Every statement and transaction holds it; the live layer takes it before its
        commit order, as a writer does, so the two never wait on each other.
        """
        return self._lock

    @property
    def freshness_poll(self) -> float | None:
        """Seconds between background looks at :meth:`freshness_token` (None: never)."""
        return self._watcher.poll

    # -- reflection -------------------------------------------------------------------------

    def reflect_model(self, model: Model) -> None:
        """Fill ``model`` (declared without ``fields``) from its existing table."""
        what = f"reflecting {model.table}"
        with self._guard, self._wrapping(what), self.engine.connect() as connection:
            reflect_model(connection, model)

    def schema_problems(self, models: Sequence[Model]) -> list[str]:
        """The tables and columns ``models`` need that the database does not have."""
        problems = []
        with self._guard, self._wrapping("inspecting the schema"), self.engine.connect() as conn:
            inspector = sa.inspect(conn)
            existing = set(inspector.get_table_names())
            for model in models:
                if not model.fields:
                    continue
                if model.table not in existing:
                    problems.append(
                        f"sqlalchemy: {model.name}: no table {model.table} (create it with "
                        "rr.create_tables(), `reactive-record db create` or your migrations)"
                    )
                    continue
                columns = {column["name"] for column in inspector.get_columns(model.table)}
                missing = [name for name in model.fields if name not in columns]
                if missing:
                    problems.append(
                        f"sqlalchemy: {model.name}: table {model.table} has no column "
                        + ", ".join(missing)
                    )
        return problems

    def schema_defaults(
        self, model: Model, clock: Callable[[], dt.datetime]
    ) -> dict[str, SchemaDefault] | None:
        """The defaults the database declares for ``model``'s columns (None: no such table)."""
        table = self.metadata.tables.get(model.table)
        what = f"reading the defaults of {model.table}"
        with self._guard, self._wrapping(what), self.engine.connect() as connection:
            return declared_defaults(connection, model.table, clock, table)

    # -- statements -------------------------------------------------------------------------

    @property
    def compiler(self) -> Compiler:
        """The statement compiler (set up on first use)."""
        if self._compiler is None:
            self._setup()
        assert self._compiler is not None
        return self._compiler

    def statement(self, key: Key, build: Callable[..., Statement], *args: Any) -> Statement:
        """The compiled statement for ``key``, built by ``build(*args)`` the first time."""
        found = self._statements.get(key)
        if found is not None:
            return found
        built = build(*args)
        with self._setup_lock:
            if len(self._statements) >= MAX_STATEMENTS:
                self._statements.pop(next(iter(self._statements)))
            self._statements[key] = built
        return built

    def select_for(self, plan: Plan, lock: bool = False) -> tuple[Statement, list[Any]]:
        """The SELECT statement of a plan and its values (``FOR UPDATE`` with ``lock``)."""
        values: list[Any] = []
        shape = flatten(plan.where, values)
        model = plan.model
        limit, offset = plan.limit, plan.offset
        key = ("select", model.name, shape, plan.order, limit is not None, offset > 0, lock)
        statement = self._statements.get(key) or self.statement(
            key,
            self.compiler.select,
            model,
            shape,
            plan.order,
            limit is not None,
            offset > 0,
            lock,
        )
        if limit is not None:
            values.append(limit)
        if offset > 0:
            values.append(offset)
        return statement, values

    def count_for(self, plan: Plan) -> tuple[Statement, list[Any]]:
        """The COUNT statement of a plan and its values."""
        values: list[Any] = []
        shape = flatten(plan.where, values)
        model = plan.model
        statement = self.statement(("count", model.name, shape), self.compiler.count, model, shape)
        return statement, values

    # -- running ----------------------------------------------------------------------------

    @contextmanager
    def _wrapping(self, what: str) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise self.error(what, exc.orig or exc) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise self.error(what, exc) from exc
        except self._errors as exc:
            raise self.error(what, exc) from exc

    def error(self, what: str, exc: BaseException) -> StoreError:
        """A StoreError saying what failed and why, with the driver's error attached."""
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return StoreError(f"{what} failed: {type(exc).__name__}: {detail}", exc)

    @property
    def safe_url(self) -> str:
        """The database URL with its password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def _checkout(self, managed: bool = False) -> Any:
        """A pooled connection: the spare if there is one, else one from the pool.

        ``managed``: for a PostgreSQL transaction, which psycopg begins and ends itself
        (the connection is out of autocommit mode until it goes back to the pool).
        """
        spare = self._managed_spare if managed else self._spare
        try:
            return spare.pop()  # atomic: two threads never take the same one
        except IndexError:
            pass
        try:
            connection: Any = self.engine.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise self.error(f"connecting to {self.safe_url}", exc.orig or exc) from exc
        if managed:
            try:
                connection.dbapi_connection.autocommit = False
            except self._errors as exc:
                connection.invalidate(exc)
                raise self.error(f"connecting to {self.safe_url}", exc) from exc
        return connection

    def _checkin(self, connection: Any, managed: bool = False) -> None:
        """Give ``connection`` back: kept as the spare when there is none, else pooled."""
        spare = self._managed_spare if managed else self._spare
        if connection.is_valid and not spare:
            spare.append(connection)
            if len(spare) == 1:
                return
            # Another thread kept one at the same moment: pool whichever is left over.
            try:
                connection = spare.pop()
            except IndexError:
                return
        if managed and connection.is_valid:
            try:
                connection.dbapi_connection.autocommit = True  # as the pool hands them out
            except self._errors as exc:
                connection.invalidate(exc)
        connection.close()

    def run(self, what: str, statement: Statement, values: Sequence[Any]) -> list[Row]:
        """Run a statement outside any transaction and return its rows as dicts."""
        lock = self._lock
        if lock is not None:
            lock.acquire()
        try:
            connection = self._checkout()
            cursors = kept_cursors(connection)
            try:
                cursor = cursor_for(connection, cursors, statement.kind)
                cursor.execute(statement.sql, statement.params(values))
                rows = cursor.fetchall()
            except self._errors as exc:
                self._discard_if_broken(connection, exc)
                raise self.error(what, exc) from exc
            finally:
                put_back(connection, cursors)
                self._checkin(connection)
        finally:
            if lock is not None:
                lock.release()
        return statement.rows(rows)

    def _discard_if_broken(self, connection: Any, exc: BaseException) -> None:
        if self.engine.dialect.is_disconnect(exc, connection.dbapi_connection, None):  # type: ignore[arg-type]
            connection.invalidate(exc)

    def fetch(self, plan: Plan) -> list[Row]:
        """Rows matching ``plan.where`` in ``plan.order``, after ``offset``, up to ``limit``."""
        statement, values = self.select_for(plan)
        return self.run(f"reading {plan.model.table}", statement, values)

    def count(self, plan: Plan) -> int:
        """How many rows match ``plan.where``."""
        statement, values = self.count_for(plan)
        return int(self.run(f"counting {plan.model.table}", statement, values)[0]["count"])

    def transaction(self) -> SqlTransaction:
        """A database transaction: commits when the block ends, rolls back on an exception."""
        if self._compiler is None:
            self._setup()
        return SqlTransaction(self)

    def close(self) -> None:
        """Release every connection."""
        for spare in (self._spare, self._managed_spare):
            while spare:
                try:
                    spare.pop().close()
                except IndexError:
                    break
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"<SqlStore {self.safe_url}>"


class SqlTransaction:
    """One transaction of a :class:`SqlStore`, open inside its ``with`` block: reads see
    its writes; the block's end commits, an exception rolls back."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._connection: Any = None
        #: The connection's kept cursors, by kind of statement (see kept_cursors).
        self._cursors: dict[str, Any] | None = None
        #: psycopg's connection while it runs the transaction itself (PostgreSQL).
        self._managed: Any = None

    def __enter__(self) -> SqlTransaction:
        store = self.store
        lock = store._lock
        if lock is not None:
            lock.acquire()
        try:
            # On PostgreSQL psycopg opens the transaction before the first statement and
            # ends it with its own BEGIN/COMMIT, cheaper than statements on the cursor (a
            # transaction that ran nothing sends nothing). bench_write measures it.
            managed = store.kind == POSTGRESQL
            self._connection = connection = store._checkout(managed)
            self._cursors = kept_cursors(connection)
            if managed:
                self._managed = connection.dbapi_connection
                return self
            try:
                self.cursor(CONTROL).execute(BEGIN[store.kind])
            except store._errors as exc:
                store._discard_if_broken(connection, exc)
                raise store.error("beginning a transaction", exc) from exc
            return self
        except BaseException:
            self._release()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        try:
            if kind is None:
                self.store._watcher.before_commit(self.cursor(CONTROL))
            self._end("COMMIT" if kind is None else "ROLLBACK", raising=kind is None)
        finally:
            self._release()

    def _end(self, verb: str, raising: bool) -> None:
        store = self.store
        try:
            if self._managed is None:
                self.cursor(CONTROL).execute(verb)
            elif verb == "COMMIT":
                self._managed.commit()
            else:
                self._managed.rollback()
        except store._errors as exc:
            # The connection's state is unknown now: never hand it out again. A failed
            # COMMIT rolled back; a failed ROLLBACK must not hide the error that caused it.
            self._connection.invalidate(exc)
            if raising:
                raise store.error(verb.lower(), exc) from exc

    def _release(self) -> None:
        try:
            if self._connection is not None:
                if self._cursors is not None:
                    put_back(self._connection, self._cursors)
                self.store._checkin(self._connection, self._managed is not None)
        finally:
            lock = self.store._lock
            if lock is not None:
                lock.release()

    def cursor(self, kind: str) -> Any:
        """The connection's cursor for ``kind`` of statement (see :func:`kept_cursors`)."""
        assert self._cursors is not None, "the transaction is not open"
        return cursor_for(self._connection, self._cursors, kind)

    def _run(self, what: str, statement: Statement, values: Sequence[Any]) -> Any:
        cursor = self.cursor(statement.kind)
        try:
            cursor.execute(statement.sql, statement.params(values))
        except self.store._errors as exc:
            raise self.store.error(what, exc) from exc
        return cursor

    def _rows(self, what: str, statement: Statement, values: Sequence[Any]) -> list[Row]:
        cursor = self.cursor(statement.kind)
        try:
            cursor.execute(statement.sql, statement.params(values))
            rows = cursor.fetchall()
        except self.store._errors as exc:
            raise self.store.error(what, exc) from exc
        return statement.rows(rows)

    def _advance_sequence(self, model: Model, inserted: int) -> None:
        table = '"' + model.table.replace('"', '""') + '"'
        try:
            self.cursor(CONTROL).execute(
                ADVANCE_SEQUENCE, (inserted, table, model.primary_key, inserted)
            )
        except self.store._errors as exc:
            raise self.store.error(f"advancing the id sequence of {model.table}", exc) from exc

    def read(self, model: Model, key: Any, lock: bool = False) -> Row | None:
        """The row with primary key ``key`` (``SELECT ... FOR UPDATE`` when ``lock``)."""
        store = self.store
        statement = store._statements.get(("read", model.name, lock)) or store.statement(
            ("read", model.name, lock),
            store.compiler.select,
            model,
            ("eq", model.primary_key),
            ((model.primary_key, False),),
            False,
            False,
            lock,
        )
        rows = self._rows(f"reading {model.table}", statement, [key])
        return rows[0] if rows else None

    def fetch(self, plan: Plan) -> list[Row]:
        """Run a read plan inside the transaction; lock its rows when the read is for
        writing them (``update_all`` / ``destroy_all``: the ``lock`` option)."""
        statement, values = self.store.select_for(plan, bool(plan.spec.option("lock")))
        return self._rows(f"reading {plan.model.table}", statement, values)

    def count(self, plan: Plan) -> int:
        """Count a read plan's rows inside the transaction."""
        statement, values = self.store.count_for(plan)
        return int(self._rows(f"counting {plan.model.table}", statement, values)[0]["count"])

    def write(self, change: Change) -> Row | None:
        """Apply ``change``: INSERT, UPDATE (optimistic lock checked) or DELETE."""
        model = change.model
        if change.operation == "create":
            return self.insert(model, change.after)
        if change.operation == "destroy":
            store = self.store
            statement = store.statement(("delete", model.name), store.compiler.delete, model)
            self._run(f"deleting from {model.table}", statement, [change.key])
            return None
        return self._update(model, change.key, model.coerce_values(change.after))

    def _update(self, model: Model, key: Any, values: dict[str, Any]) -> Row:
        store = self.store
        lock = model.lock_field
        mode: str | None = None
        expected = None
        if lock is not None:
            mode = "check" if lock in values else "bump"
            expected = values.pop(lock, None)
        columns = tuple(values)
        if not columns and mode is None:
            current = self.read(model, key)
            if current is None:
                raise StoreError(f"{model.name} {key!r} vanished during the update")
            return current
        returning = store._update_returning
        cache_key = ("update", model.name, columns, mode, returning)
        statement = store._statements.get(cache_key) or store.statement(
            cache_key,
            store.compiler.update,
            model,
            columns,
            mode,
            returning,
        )
        params = [values[name] for name in columns]
        params.append(key)
        if mode == "check":
            params.append(expected)
        what = f"updating {model.table}"
        if returning:
            rows = self._rows(what, statement, params)
            if rows:
                return rows[0]
        elif self._run(what, statement, params).rowcount:
            row = self.read(model, values.get(model.primary_key, key))
            if row is not None:
                return row
        current = self.read(model, key)
        if current is None:
            raise StoreError(f"{model.name} {key!r} vanished during the update")
        raise StaleRecord(model.name, key, expected, current.get(lock or ""))

    def insert(self, model: Model, values: Mapping[str, Any], read_back: bool = True) -> Row:
        """INSERT a row and return it as stored (server-generated values included).

        With ``read_back=False`` the row is not read back: the return value is the row as
        sent (see :meth:`reactive_record.store.Transaction.insert`), unless the database
        generates the key, which only reading back can tell.
        """
        store = self.store
        row = model.coerce_values(values)
        pk = model.primary_key
        given = row.get(pk)
        if given is None:
            row.pop(pk, None)
            if model.fields[pk].type == "uuid":
                row[pk] = uuid.uuid4()
        lock = model.lock_field
        if lock is not None and row.get(lock) is None:
            row[lock] = 0
        columns = tuple(row)
        blind = not read_back and pk in row
        returning = store._insert_returning and not blind
        statement = store.statement(
            ("insert", model.name, columns, returning),
            store.compiler.insert,
            model,
            columns,
            returning,
        )
        what = f"inserting into {model.table}"
        params = [row[name] for name in columns]
        if returning:
            rows = self._rows(what, statement, params)
            if isinstance(given, int) and store.kind == POSTGRESQL:
                self._advance_sequence(model, given)
            return rows[0]
        cursor = self._run(what, statement, params)
        if blind:
            return model.row_as_sent(row)
        key = row.get(pk, cursor.lastrowid)
        stored = self.read(model, key)
        if stored is None:
            raise StoreError(f"{model.name} {key!r} was inserted but cannot be read back")
        return stored
