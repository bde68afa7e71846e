"""Other processes' commits: PostgreSQL's change feed and SQLite's ``data_version``.

**PostgreSQL.** Every model table gets three statement-level ``AFTER`` triggers with
transition tables (``INSERT``, ``UPDATE``, ``DELETE``). Each statement sends *one*
``NOTIFY rr_changes`` — a bulk write is one notification, not one per row — whose
payload is ``{"x": txid, "t": table, "o": op}`` plus, as much as fits PostgreSQL's
8,000-byte limit: the rows as stored (``"r"``) and the keys that are gone (``"d"``);
else the keys alone (``"k"``), whose rows the listener re-reads in batches; else
nothing, and every live result on that table is re-read. Writes from anywhere (psql
included) are seen.

Each process listens on its own connection, in its own thread. It records the
``txid_current()`` of its own write transactions just before they commit and skips
their echo (they were dispatched in-process already). Notifications of one commit
arrive together and become one dispatch entry. When the connection drops
(``pg_terminate_backend``, a restart), live results are flagged incomplete; the listener
reconnects with a back-off and every live result is re-read, so nothing is missed.

**SQLite.** No notifications exist; ``PRAGMA data_version`` changes on a connection when
*another* connection committed. The store compares each connection's value with the
one it saw last: a difference means someone else may have written, and live results
are re-read before a cached one is served (and by the scheduler every second).

**MariaDB / MySQL.** Live queries see this process's writes only; no cached result is
ever provably fresh there, so reads always go to the database.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .types import POSTGRESQL, SQLITE

if TYPE_CHECKING:
    from reactive_record import Model

    from .store import SqlStore

log = logging.getLogger("rr_sqlalchemy.feed")

CHANNEL = "rr_changes"
FUNCTION = "rr_notify_changes"
#: PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.
MAX_PAYLOAD = 7900
#: How long the listener waits for a notification before looking at its stop flag.
LISTEN_SECONDS = 0.25
#: Reconnection back-off, from the first retry to the longest wait (seconds).
BACKOFF = (0.05, 2.0)
#: Own transaction ids kept before the oldest is forgotten (a transaction that touched
#: no model table never echoes).
OWN_TXIDS = 10_000
#: How often the scheduler looks at SQLite's data_version (seconds).
SQLITE_POLL = 1.0
#: The listener's ``application_name`` (with the process id) in ``pg_stat_activity``.
APPLICATION_NAME = "reactive-record feed"

TRIGGERS = (
    ("rr_feed_insert", "INSERT", "NEW TABLE AS rr_new"),
    ("rr_feed_update", "UPDATE", "OLD TABLE AS rr_old NEW TABLE AS rr_new"),
    ("rr_feed_delete", "DELETE", "OLD TABLE AS rr_old"),
)

FUNCTION_SQL = f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $rr$
DECLARE
    pk text := TG_ARGV[0];
    head jsonb := jsonb_build_object(
        'x', txid_current(), 't', TG_TABLE_NAME, 'o', lower(left(TG_OP, 1)));
    stored jsonb;
    gone jsonb;
    payload text;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT jsonb_agg(to_jsonb(r)) INTO stored FROM rr_new r;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(to_jsonb(r) -> pk) INTO gone FROM rr_old r;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_agg(k) INTO gone FROM (
            SELECT to_jsonb(r) -> pk AS k FROM rr_old r
            EXCEPT SELECT to_jsonb(r) -> pk FROM rr_new r
        ) moved;
    END IF;
    IF stored IS NULL AND gone IS NULL THEN
        RETURN NULL;
    END IF;
    payload := (head
        || CASE WHEN stored IS NULL THEN '{{}}' ELSE jsonb_build_object('r', stored) END
        || CASE WHEN gone IS NULL THEN '{{}}' ELSE jsonb_build_object('d', gone) END)::text;
    IF octet_length(payload) > {MAX_PAYLOAD} THEN
        SELECT jsonb_agg(value -> pk) INTO stored FROM jsonb_array_elements(stored);
        payload := (head || jsonb_build_object(
            'k', coalesce(stored, '[]') || coalesce(gone, '[]')))::text;
    END IF;
    IF octet_length(payload) > {MAX_PAYLOAD} THEN
        payload := head::text;
    END IF;
    PERFORM pg_notify('{CHANNEL}', payload);
    RETURN NULL;
END
$rr$"""


def trigger_ddl(tables: Iterable[tuple[str, str]]) -> list[str]:
    """The notify function and each ``(table, primary key)``'s three triggers."""
    statements = [FUNCTION_SQL]
    for table, pk in tables:
        for name, event, referencing in TRIGGERS:
            statements.append(
                f'CREATE TRIGGER {name} AFTER {event} ON "{table}" '
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {FUNCTION}('{pk}')"
            )
    return statements


def watcher_for(store: SqlStore) -> Watcher:
    """How ``store`` learns of other processes' commits."""
    if store.kind == POSTGRESQL:
        return PostgresFeed(store)
    if store.kind == SQLITE:
        return SqliteVersions(store)
    return Watcher()


class Watcher:
    """A database whose other writers cannot be observed (MariaDB / MySQL)."""

    poll: float | None = None

    def token(self) -> Any:
        """A value that changes when another process may have committed (None: unknown)."""
        return None

    def feed(self) -> Any:
        """The feed of other processes' commits, if the database has one."""
        return None

    def before_commit(self, cursor: Any) -> None:
        """Called in each write transaction just before COMMIT."""

    def ddl(self, models: Sequence[Model]) -> list[str]:
        """Statements that make ``models``' tables observable."""
        return []

    def install(self, connection: sa.Connection, models: Sequence[Model]) -> None:
        """Make the tables of ``models`` observable (idempotent)."""


class SqliteVersions(Watcher):
    """``PRAGMA data_version`` per connection: a change means another connection wrote."""

    poll = SQLITE_POLL

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._seen: dict[int, int] = {}
        self._changes = 0

    def token(self) -> int:
        """How many times a connection saw another one's commit (a new connection counts)."""
        store = self._store
        with store._guard:
            connection = store._checkout()
            try:
                cursor = connection.dbapi_connection.cursor()
                try:
                    cursor.execute("PRAGMA data_version")
                    version = int(cursor.fetchone()[0])
                finally:
                    cursor.close()
                key = id(connection.dbapi_connection)
            finally:
                store._checkin(connection)
        with self._lock:
            if self._seen.get(key) != version:
                self._seen[key] = version
                self._changes += 1
            return self._changes


class PostgresFeed(Watcher):
    """Triggers + LISTEN/NOTIFY on a connection of its own, in a thread of its own."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._own: dict[int, None] = {}
        self._live: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connection: Any = None
        self._generation = 0
        self._connected = False

    # -- the store's side ---------------------------------------------------------------------

    def ddl(self, models: Sequence[Model]) -> list[str]:
        """The notify function and the triggers of every model table."""
        return trigger_ddl((m.table, m.primary_key) for m in models if m.fields)

    def install(self, connection: sa.Connection, models: Sequence[Model]) -> None:
        """Create the function, and the triggers a table does not have yet."""
        connection.exec_driver_sql(FUNCTION_SQL)
        existing = {
            (table, name)
            for table, name in connection.exec_driver_sql(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE 'rr_feed_%%'"
            )
        }
        for model in models:
            if not model.fields:
                continue
            for (name, _, _), statement in zip(
                TRIGGERS, trigger_ddl([(model.table, model.primary_key)])[1:], strict=True
            ):
                if (model.table, name) not in existing:
                    connection.exec_driver_sql(statement)

    def before_commit(self, cursor: Any) -> None:
        """Remember this transaction's id, so its echo is skipped (only while listening)."""
        if self._live is None:
            return
        cursor.execute("SELECT txid_current()")
        txid = int(cursor.fetchone()[0])
        with self._lock:
            self._own[txid] = None
            if len(self._own) > OWN_TXIDS:
                self._own.pop(next(iter(self._own)))

    def token(self) -> Any:
        """The connection's generation while connected (None while it is down)."""
        return self._generation if self._connected else None

    def feed(self) -> PostgresFeed:
        """This feed (started by the live layer when a query first becomes live)."""
        return self

    # -- the live layer's side -------------------------------------------------------------

    def start(self, live: Any) -> None:
        """Listen now (so no commit after this call is missed), then in a thread."""
        if self._thread is not None:
            return
        self._live = live
        try:
            self._connection = self._connect()
            self._connected = True
            self._generation += 1
        except Exception as exc:
            log.warning("change feed: cannot listen yet (%s); retrying", exc)
        self._thread = threading.Thread(target=self._run, name="reactive-record-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
        self._live = None
        self._close()

    # -- the listener thread -----------------------------------------------------------------

    def _conninfo(self) -> str:
        url = self._store.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _connect(self) -> Any:
        import psycopg

        name = f"{APPLICATION_NAME} {os.getpid()}"
        connection = psycopg.connect(self._conninfo(), autocommit=True, application_name=name)
        connection.execute(f"LISTEN {CHANNEL}")
        return connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # closing a dead connection may fail; it is gone either way
                log.debug("change feed: closing the connection failed", exc_info=True)

    def _run(self) -> None:
        delay = BACKOFF[0]
        while not self._stop.is_set():
            if self._connection is None:
                try:
                    self._connection = self._connect()
                except Exception as exc:
                    log.info("change feed: reconnecting failed (%s)", exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, BACKOFF[1])
                    continue
                delay = BACKOFF[0]
                self._connected = True
                self._generation += 1
                log.info("change feed: listening again; re-reading every live query")
                self._live.feed_restored()
            try:
                self._listen(self._connection)
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.warning("change feed: the connection dropped (%s)", exc)
                self._connected = False
                self._close()
                self._live.feed_lost()

    def _listen(self, connection: Any) -> None:
        while not self._stop.is_set():
            batch = list(connection.notifies(timeout=LISTEN_SECONDS, stop_after=1))
            if batch:
                self._deliver([n.payload for n in batch])

    def _deliver(self, payloads: list[str]) -> None:
        models = {model.table: model for model in self._store._models()}
        changes: dict[str, Any] = {}
        for payload in payloads:
            try:
                message = json.loads(payload)
                txid, table = int(message["x"]), str(message["t"])
            except (ValueError, KeyError, TypeError):
                log.warning("change feed: ignoring a malformed notification %r", payload[:200])
                continue
            with self._lock:
                if txid in self._own:
                    continue  # our own commit: dispatched in-process already
            model = models.get(table)
            if model is not None:
                _merge(changes, model, message, payload)
        if changes:
            self._live.external_changes(changes)


def _merge(changes: dict[str, Any], model: Model, message: dict[str, Any], payload: str) -> None:
    """Fold one notification into a transaction's changes of ``model``.

    Rows given become ``{key: row or None}``; keys alone become a list to re-read; no
    keys at all become None (re-read every result on the model). Once a model needs a
    re-read, later rows for it only add their keys.
    """
    name = model.name
    current = changes.get(name, {})
    if current is None:
        return
    if "r" in message or "d" in message:
        rows = _rows(model, payload) if "r" in message else {}
        rows.update(dict.fromkeys(_keys(model, message.get("d") or ()), None))
        if isinstance(current, dict):
            current.update(rows)
        else:
            current.extend(rows)
        changes[name] = current
    elif "k" in message:
        keys = list(current) if isinstance(current, dict) else current
        changes[name] = keys + _keys(model, message["k"])
    else:
        changes[name] = None


def _keys(model: Model, keys: Iterable[Any]) -> list[Any]:
    field = model.fields[model.primary_key]
    return [field.coerce(key, model.name) for key in keys]


def _rows(model: Model, payload: str) -> dict[Any, dict[str, Any]]:
    """The stored rows of a payload, as the store would read them.

    Numbers are read as ``Decimal`` (exact for decimals, then converted by each field);
    JSON fields keep the plain reading, as the driver gives them.
    """
    exact = json.loads(payload, parse_float=Decimal)["r"]
    plain = json.loads(payload)["r"] if _has_json(model) else exact
    pk = model.primary_key
    rows: dict[Any, dict[str, Any]] = {}
    for row, loose in zip(exact, plain, strict=True):
        values = {
            name: loose.get(name)
            if field.type == "json"
            else field.coerce(row.get(name), model.name)
            for name, field in model.fields.items()
        }
        rows[values[pk]] = values
    return rows


def _has_json(model: Model) -> bool:
    return any(field.type == "json" for field in model.fields.values())
