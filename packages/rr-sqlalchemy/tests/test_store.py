"""The SQL store through the public API, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from reactive_record import (
    ReactiveRecord,
    ReactiveRecordError,
    RecordNotFound,
    StaleRecord,
    StoreError,
)
from rr_sqlalchemy import SqlStore

Make = Callable[..., ReactiveRecord]

MODELS: dict[str, Any] = {
    "Client": {
        "fields": {"name": {"type": "string", "null": False}},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "client_id"}},
    },
    "Job": {
        "fields": {
            "title": {"type": "string", "length": 200, "null": False},
            "status": {"type": "string", "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "client_id": "integer",
            "lock_version": "integer",
        },
        "belongs_to": {"client": {"model": "Client", "foreign_key": "client_id"}},
        "scopes": {"urgent": {"where": {"priority": {"gte": 3}}}},
    },
    "Counter": {"fields": {"value": {"type": "integer", "null": False}}},
}


@pytest.fixture
def rr(make_rr: Make, sql_db_url: str) -> ReactiveRecord:
    """An instance with only the store plugin, tables made, one client."""
    rr = make_rr(sql_db_url, MODELS, ["sqlalchemy"])
    rr.models.Client.create({"name": "Acme"})
    return rr


def test_the_store_is_the_sql_store(rr: ReactiveRecord) -> None:
    assert isinstance(rr.store, SqlStore)
    assert set(rr.metadata.tables) == {"clients", "jobs", "counters"}


def test_create_returns_the_stored_row_with_server_values(rr: ReactiveRecord) -> None:
    job = rr.models.Job.create({"title": "Fix", "client_id": 1})
    assert dict(job) == {
        "id": 1,
        "title": "Fix",
        "status": "pending",
        "priority": 2,
        "client_id": 1,
        "lock_version": 0,
    }
    assert rr.models.Job.find(job.id).data == job


def test_tx_insert_uses_server_defaults_for_absent_values(rr: ReactiveRecord) -> None:
    job_model = rr.model_definition("Job")
    with rr.transaction() as tx:
        row = tx.insert(job_model, {"title": "Raw", "status": None})
    # As in SQL: a default fills an absent value, not an explicit NULL.
    assert row["status"] is None and row["priority"] == 2 and row["id"] == 1


def test_update_increments_the_lock_version(rr: ReactiveRecord) -> None:
    job = rr.models.Job.create({"title": "Fix"})
    updated = rr.models.Job.update(job.id, {"status": "active", "lock_version": 0})
    assert updated.status == "active" and updated.lock_version == 1
    again = rr.models.Job.update(job.id, {"priority": 5})
    assert again.lock_version == 2 and again.status == "active"


def test_a_stale_lock_version_raises_and_writes_nothing(rr: ReactiveRecord) -> None:
    job = rr.models.Job.create({"title": "Fix"})
    rr.models.Job.update(job.id, {"status": "active"})
    with pytest.raises(StaleRecord) as caught:
        rr.models.Job.update(job.id, {"status": "done", "lock_version": 0})
    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert rr.models.Job.find(job.id).data.status == "active"  # type: ignore[union-attr]


def test_destroy_and_missing_records(rr: ReactiveRecord) -> None:
    job = rr.models.Job.create({"title": "Fix"})
    rr.models.Job.destroy(job.id)
    assert not rr.models.Job.exists()
    with pytest.raises(RecordNotFound):
        rr.models.Job.update(job.id, {"status": "x"})


def test_a_transaction_rolls_back_on_an_exception(rr: ReactiveRecord) -> None:
    with pytest.raises(RuntimeError), rr.transaction():
        rr.models.Job.create({"title": "Gone"})
        rr.models.Client.update(1, {"name": "Renamed"})
        raise RuntimeError("boom")
    assert rr.models.Job.count() == 0
    assert rr.models.Client.find(1).data.name == "Acme"  # type: ignore[union-attr]


def test_reads_inside_a_transaction_see_its_writes_and_others_do_not(
    rr: ReactiveRecord,
) -> None:
    seen_outside: list[int] = []
    with rr.transaction():
        rr.models.Job.create({"title": "Inside", "priority": 4})
        assert rr.models.Job.urgent().count() == 1
        assert rr.models.Job.where(title="Inside").pluck("priority") == [4]
        if not rr.url.startswith("sqlite"):
            # Another connection does not see uncommitted rows (SQLite: it waits instead).
            reader = threading.Thread(target=lambda: seen_outside.append(rr.models.Job.count()))
            reader.start()
            reader.join()
            assert seen_outside == [0]
    assert rr.models.Job.count() == 1


def test_queries(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for title, priority in [("a", 1), ("b", 3), ("c", 3), ("d", None)]:
        jobs.create({"title": title, "priority": priority, "client_id": 1})
    assert jobs.order("-priority").pluck("title") == ["b", "c", "a", "d"]
    assert jobs.order("priority").pluck("title") == ["d", "a", "b", "c"]
    assert jobs.order("title").offset(1).limit(2).pluck("title") == ["b", "c"]
    assert jobs.order("title").offset(3).pluck("title") == ["d"]
    assert jobs.where(priority=None).count() == 1
    assert jobs.urgent().exists() and not jobs.where(title="zzz").exists()
    assert jobs.offset(1).limit(2).count() == 2
    assert jobs.pluck("title", "priority")[0] == ("a", 1)
    with_client = jobs.includes("client").where(title="a").one()
    assert with_client.client.name == "Acme"
    assert rr.models.Client.where(jobs={"any": {"priority": 3}}).count() == 1


def test_long_lists_are_one_parameter(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    for title in ("x", "y"):
        jobs.create({"title": title})
    wanted = [*range(-40_000, 0), 1]
    assert jobs.where(id=wanted).pluck("title") == ["x"]
    assert jobs.where(id={"not_in": wanted}).pluck("title") == ["y"]


def test_each_statement_shape_is_compiled_once(
    rr: ReactiveRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiler = rr.store.compiler  # type: ignore[attr-defined]
    built: list[Any] = []
    select = compiler.select

    def counting(*args: Any) -> Any:
        built.append(args)
        return select(*args)

    monkeypatch.setattr(compiler, "select", counting)
    jobs = rr.models.Job
    for n in range(5):
        jobs.where(title=f"t{n}", priority=[n, n + 1, n + 2][: n % 3 + 1]).limit(n + 1).all()
    assert len(built) == 1
    jobs.where(title="t", priority={"gt": 1}).all()
    assert len(built) == 2


def test_driver_errors_are_store_errors(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    jobs.create({"title": "Fix"})
    with pytest.raises(StoreError, match="jobs") as caught:
        jobs.create({"id": 1, "title": "Twin"})
    assert caught.value.original is not None
    assert caught.value.__cause__ is caught.value.original
    with pytest.raises(StoreError, match=r"(?i)foreign key"):
        jobs.create({"title": "Orphan", "client_id": 99})
    jobs.update(1, {"client_id": 1})
    with pytest.raises(StoreError, match=r"(?i)foreign key"):
        rr.models.Client.destroy(1)
    assert jobs.count() == 1 and rr.models.Client.count() == 1


def test_a_failed_first_statement_leaves_the_pool_usable(rr: ReactiveRecord) -> None:
    # On PostgreSQL psycopg sends BEGIN when the first statement runs: a failure
    # there must still end the transaction and hand back a clean connection.
    job = rr.model_definition("Job")
    for _ in range(3):
        with pytest.raises(StoreError, match=r"(?i)foreign key"), rr.transaction() as tx:
            tx.insert(job, {"title": "Orphan", "client_id": 99})
    with rr.transaction():
        pass  # an empty transaction sends nothing on PostgreSQL and still ends cleanly
    assert rr.models.Job.create({"title": "Fix", "client_id": 1}).title == "Fix"
    assert rr.models.Job.count() == 1


def test_close_gives_every_connection_back_and_the_store_reopens(rr: ReactiveRecord) -> None:
    for n in range(3):
        rr.models.Job.create({"title": f"Fix {n}"})
    store: Any = rr.store
    assert store.engine.pool.checkedout() <= 1  # at most the one kept for the next write
    store.close()
    assert store.engine.pool.checkedout() == 0
    assert rr.models.Job.count() == 3  # the store itself reopens on use
    rr.close()  # the instance does not: nothing would close what it opened again
    assert store.engine.pool.checkedout() == 0
    with pytest.raises(ReactiveRecordError, match="this ReactiveRecord is closed"):
        rr.models.Job.count()
    with pytest.raises(ReactiveRecordError, match="this ReactiveRecord is closed"):
        rr.models.Job.create({"title": "Late"})


def test_a_connection_the_server_dropped_is_not_handed_out_again(
    rr: ReactiveRecord, sql_db_url: str
) -> None:
    if not sql_db_url.startswith("postgresql"):
        pytest.skip("killing another session's connection is a PostgreSQL test")
    import psycopg

    rr.models.Job.create({"title": "Fix"})
    store: Any = rr.store
    url = store.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        # All but the oldest connection (the test harness's own): the store's.
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
            "AND backend_start > (SELECT min(backend_start) FROM pg_stat_activity "
            "WHERE datname = %s)",
            (url.database, url.database),
        ).fetchall()
    assert killed and all(ok for (ok,) in killed)
    with pytest.raises(StoreError):
        rr.models.Job.update(1, {"title": "Lost"})
    assert rr.models.Job.update(1, {"title": "Kept"}).title == "Kept"
    assert rr.models.Job.where(id=1).first().title == "Kept"  # type: ignore[union-attr]


def test_an_unreachable_server_is_a_store_error() -> None:
    rr = ReactiveRecord(
        database="postgresql://someone:secret@127.0.0.1:1/nowhere",
        models={"Job": {"fields": {"title": "string"}}},
        plugins=["sqlalchemy"],
    )
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1/nowhere") as caught:
        rr.models.Job.count()
    assert "secret" not in str(caught.value)
    rr.close()


def run_together(*calls: Callable[[], None]) -> None:
    """Run ``calls`` in threads that all start at once; re-raise the first failure."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            start.wait()
            call()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_concurrent_writers_serialise(rr: ReactiveRecord) -> None:
    counter = rr.models.Counter.create({"value": 0})
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with rr.transaction() as tx:
                    current = tx.read(rr.model_definition("Counter"), counter.id, lock=True)
                    assert current is not None
                    rr.models.Counter.update(counter.id, {"value": current["value"] + 1})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    run_together(bump, bump, bump, bump)
    assert errors == []
    assert rr.models.Counter.find(counter.id).data.value == 40  # type: ignore[union-attr]


def test_a_connection_keeps_its_cursors_but_not_a_large_result(rr: ReactiveRecord) -> None:
    # Each pooled connection keeps a cursor per kind of statement (making one per
    # statement is measurable on PostgreSQL); psycopg and PyMySQL hold a cursor's last
    # result, so one that read many rows is closed to give that memory back.
    from rr_sqlalchemy.store import CURSOR, KEEP_CURSOR_ROWS

    store: Any = rr.store
    jobs = rr.models.Job

    def select_cursor() -> Any:
        connection = store._checkout()
        try:
            return connection.info.get(CURSOR, {}).get("select")
        finally:
            store._checkin(connection)

    with rr.transaction() as tx:
        for n in range(KEEP_CURSOR_ROWS + 1):
            tx.insert(rr.model_definition("Job"), {"title": f"Fix {n}"}, read_back=False)
    assert jobs.count() == KEEP_CURSOR_ROWS + 1
    assert [job.title for job in jobs.where(title="Fix 7").all()] == ["Fix 7"]
    small = select_cursor()
    assert small is not None
    assert jobs.where(title="Fix 8").first() is not None
    assert select_cursor() is small  # the same cursor again
    assert len(jobs.all()) == KEEP_CURSOR_ROWS + 1
    # sqlite3 holds no rows once fetched (its rowcount stays -1): its cursor is kept.
    assert (select_cursor() is small) == (store.kind == "sqlite")
    assert jobs.where(title="Fix 9").count() == 1


def test_connections_back_from_transactions_leave_no_transaction_open(
    rr: ReactiveRecord, sql_db_url: str
) -> None:
    # PostgreSQL transactions keep their connection out of autocommit mode; one that goes
    # back to the pool (several transactions at once) must not turn a later read on it
    # into a transaction left open, holding its snapshot.
    if not sql_db_url.startswith("postgresql"):
        pytest.skip("a session left idle in a transaction is a PostgreSQL question")
    import psycopg

    jobs = rr.models.Job
    for n in range(3):
        jobs.create({"title": f"Fix {n}"})

    inside = threading.Barrier(3)

    def write(key: int) -> Callable[[], None]:
        def run() -> None:
            with rr.transaction():  # three at once: two of their connections go to the pool
                jobs.update(key, {"status": "active"})
                inside.wait()

        return run

    def read() -> None:
        assert jobs.count() == 3

    run_together(write(1), write(2), write(3))
    run_together(read, read, read, read)
    url: Any = rr.store.engine.url  # type: ignore[attr-defined]
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        states = admin.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        ).fetchall()
    assert states and all(state != "idle in transaction" for (state,) in states), states
    assert jobs.where(status="active").count() == 3


def test_in_memory_sqlite_is_one_database_shared_by_threads(make_rr: Make) -> None:
    rr = make_rr("sqlite://", {"Counter": MODELS["Counter"]}, ["sqlalchemy"])
    other = make_rr("sqlite://", {"Counter": MODELS["Counter"]}, ["sqlalchemy"])
    counter = rr.models.Counter.create({"value": 0})

    def bump() -> None:
        for _ in range(25):
            with rr.transaction():
                value = rr.models.Counter.find(counter.id).data.value  # type: ignore[union-attr]
                rr.models.Counter.update(counter.id, {"value": value + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rr.models.Counter.find(counter.id).data.value == 100  # type: ignore[union-attr]
    assert other.models.Counter.count() == 0


def test_without_returning_rows_are_read_back(
    rr: ReactiveRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MySQL, and SQLite before 3.35, have no RETURNING: the store reads the row back.
    if rr.url.startswith("postgresql"):
        pytest.skip("PostgreSQL always has RETURNING")
    dialect = rr.store.engine.dialect  # type: ignore[attr-defined]
    monkeypatch.setattr(dialect, "insert_returning", False)
    monkeypatch.setattr(dialect, "update_returning", False)
    job = rr.models.Job.create({"title": "Fix"})
    assert (job.id, job.status, job.lock_version) == (1, "pending", 0)
    assert rr.models.Job.update(job.id, {"priority": 4}).lock_version == 1
    with pytest.raises(StaleRecord):
        rr.models.Job.update(job.id, {"priority": 5, "lock_version": 0})
    token = rr.models.Job.create({"title": "Second", "id": 7})
    assert token.id == 7 and rr.models.Job.count() == 2


@pytest.mark.parametrize("meanwhile", ["update", "destroy"])
def test_update_all_matches_rows_as_they_are_when_it_locks_them(
    make_rr: Make, sql_db_url: str, meanwhile: str
) -> None:
    # As SQL's UPDATE ... WHERE: a row another transaction moved out of the condition, or
    # destroyed, while update_all waited for it is skipped, not overwritten or fatal.
    first = make_rr(sql_db_url, MODELS, ["sqlalchemy"])
    second = make_rr(sql_db_url, MODELS, ["sqlalchemy"])
    ids = [first.models.Job.create({"title": f"t{n}", "status": "pending"}).id for n in range(3)]
    holding, done = threading.Event(), threading.Event()

    def other_writer() -> None:
        with second.transaction():
            if meanwhile == "update":
                second.models.Job.update(ids[1], {"status": "cancelled"})
            else:
                second.models.Job.destroy(ids[1])
            holding.set()
            done.wait(0.5)  # update_all is now waiting for this row

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(10)
    count = first.models.Job.where(status="pending").update_all({"status": "active"})
    thread.join(10)
    assert count == 2
    expected = {ids[0]: "active", ids[2]: "active"}
    if meanwhile == "update":
        expected[ids[1]] = "cancelled"
    assert dict(first.models.Job.pluck("id", "status")) == expected


def test_an_order_on_columns_without_nulls_lets_postgresql_use_an_index(
    make_rr: Make, sql_db_url: str
) -> None:
    # NULLs sort first ascending here, against PostgreSQL's default: on a column that can
    # hold none (the primary key every order ends with, a null = false field) saying so
    # would stop an index from serving the order, and a page would sort the whole table.
    if not sql_db_url.startswith("postgresql"):
        pytest.skip("the order's NULLS clause is PostgreSQL's")
    models = {
        "Job": {
            "fields": {"title": {"type": "string", "null": False}, "client_id": "integer"},
            "indexes": [["client_id"], ["title"]],
        }
    }
    rr = make_rr(sql_db_url, models, ["sqlalchemy"])
    with rr.transaction() as tx:
        for n in range(3000):
            tx.insert(rr.model_definition("Job"), {"title": f"job {n:04}", "client_id": n % 3})
    store: Any = rr.store
    with store.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE jobs")

    def plan_of(query: Any) -> str:
        statement, values = store.select_for(rr.engine.plan(query.spec))
        connection = store.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("EXPLAIN " + statement.sql, statement.params(values))
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            connection.close()

    jobs = rr.models.Job
    for query in (jobs.order("id").limit(5), jobs.order("-title").limit(5)):
        assert "Index Scan" in plan_of(query), query
    # A column that can hold NULL still says where they go: the order is the evaluator's.
    assert "NULLS FIRST" in plan_of(jobs.order("client_id").limit(5))
    assert jobs.order("-title").limit(2).pluck("title") == ["job 2999", "job 2998"]
