"""The public API of DESIGN.md §5 on every database: the same calls, the same answers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from reactive_record import (
    InvalidQuery,
    ReactiveRecord,
    RecordNotFound,
    StoreError,
    UnknownField,
    ValidationError,
)

MODELS: dict[str, Any] = {
    "Client": {
        "fields": {"name": {"type": "string", "length": 50, "null": False}},
        "has_many": {"jobs": {"model": "Job", "foreign_key": "client_id", "dependent": "destroy"}},
    },
    "User": {
        "fields": {
            "name": {"type": "string", "length": 50},
            "role": {"type": "string", "length": 20},
        }
    },
    "Job": {
        "fields": {
            "title": {"type": "string", "length": 100, "null": False},
            "status": {"type": "string", "length": 20, "default": "pending"},
            "priority": {"type": "integer", "default": 2},
            "client_id": "integer",
            "lock_version": "integer",
        },
        "belongs_to": {"client": {"model": "Client"}},
        "has_many": {
            "tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"},
            "workers": {"model": "User", "through": "tasks", "foreign_key": "user_id"},
        },
        "scopes": {
            "active": {"where": {"status": "active"}},
            "by_client": {"params": ["client_id"], "where": {"client_id": {"param": "client_id"}}},
        },
        "validations": {"status": {"inclusion": ["pending", "active", "done"]}},
    },
    "Task": {
        "fields": {
            "job_id": "integer",
            "user_id": "integer",
            "title": {"type": "string", "length": 50},
        },
        "belongs_to": {"job": {"model": "Job"}, "user": {"model": "User"}},
    },
    "Sample": {
        "fields": {
            "label": {"type": "string", "length": 40},
            "body": "text",
            "count": "integer",
            "ratio": "float",
            "amount": {"type": "decimal", "precision": 12, "scale": 4},
            "flag": "boolean",
            "day": "date",
            "at": "datetime",
            "data": "json",
            "ref": "uuid",
        }
    },
}

Make = Callable[..., ReactiveRecord]


def open_rr(make_rr: Make, db_url: str, *extra: str, **kw: Any) -> ReactiveRecord:
    """An instance on ``db_url`` with only the store plugin it needs (and ``extra``)."""
    plugins = [*extra] if db_url.startswith("memory") else ["sqlalchemy", *extra]
    return make_rr(db_url, MODELS, plugins, **kw)


@pytest.fixture
def rr(make_rr: Make, db_url: str) -> ReactiveRecord:
    """Clients, users, jobs and tasks on every database."""
    rr = open_rr(make_rr, db_url)
    m = rr.models
    with rr.transaction():
        acme = m.Client.create({"name": "Acme"})
        globex = m.Client.create({"name": "Globex"})
        ann = m.User.create({"name": "Ann", "role": "admin"})
        bob = m.User.create({"name": "Bob", "role": "tech"})
        for title, status, priority, client in (
            ("Fix", "active", 3, acme),
            ("Paint", "pending", 1, acme),
            ("Audit", "active", 3, globex),
            ("Sweep", "done", 2, globex),
        ):
            job = m.Job.create(
                {"title": title, "status": status, "priority": priority, "client_id": client.id}
            )
            for user in (ann, bob) if title == "Fix" else (bob,) if title == "Paint" else ():
                m.Task.create(
                    {"job_id": job.id, "user_id": user.id, "title": f"{title}/{user.name}"}
                )
    return rr


def titles(records: Any) -> list[str]:
    return [r.title for r in records]


def test_create_reads_back_the_stored_row(rr: ReactiveRecord) -> None:
    job = rr.models.Job.create({"title": "New", "client_id": 1})
    assert isinstance(job.id, int) and job.id > 4
    assert (job.status, job.priority, job.lock_version) == ("pending", 2, 0)
    assert rr.models.Job.find(job.id).data == job


def test_defaults_apply_to_absent_values_not_to_explicit_nulls(rr: ReactiveRecord) -> None:
    # As in SQL (and Rails): a column default fills an omitted value; NULL written is NULL.
    job = rr.models.Job.create({"title": "Nulls", "priority": None})
    assert (job.status, job.priority) == ("pending", None)
    assert rr.models.Job.find(job.id).data == job


def test_terminal_methods(rr: ReactiveRecord) -> None:
    active = rr.models.Job.where(status="active")
    assert titles(active.all()) == ["Fix", "Audit"] and active.data == active.all()
    assert active.count() == 2 and active.exists()
    assert active.first().title == "Fix"  # type: ignore[union-attr]
    assert active.pluck("title", "priority") == [("Fix", 3), ("Audit", 3)]
    assert rr.models.Job.where(title="Sweep").one().status == "done"
    with pytest.raises(RecordNotFound):
        rr.models.Job.where(title="Nope").one()
    with pytest.raises(InvalidQuery):
        active.one()


def test_order_ends_with_the_primary_key(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    assert titles(jobs.order("-priority")) == ["Fix", "Audit", "Sweep", "Paint"]
    assert titles(jobs.order("priority").limit(2).offset(1)) == ["Sweep", "Fix"]
    assert titles(jobs.order("-priority", "-id")) == ["Audit", "Fix", "Sweep", "Paint"]
    assert jobs.order("-priority").offset(1).count() == 3


def test_strings_order_by_code_point(rr: ReactiveRecord) -> None:
    client = rr.models.Client.create({"name": "Strings"})
    for title in ("b", "B", "a", "é", "Z", "ab", "a b"):
        rr.models.Job.create({"title": title, "client_id": client.id})
    ordered = rr.models.Job.where(client_id=client.id).order("title").pluck("title")
    assert ordered == ["B", "Z", "a", "a b", "ab", "b", "é"]


def test_find_and_find_by(rr: ReactiveRecord) -> None:
    assert rr.models.Job.find(1).data.title == "Fix"  # type: ignore[union-attr]
    with pytest.raises(RecordNotFound, match="no Job with key 404"):
        rr.models.Job.find(404)
    assert rr.models.Job.find_by(title="Nope").data is None
    assert rr.models.Job.find_by(title="Audit", status="active").data.id == 3  # type: ignore[union-attr]


def test_scopes(rr: ReactiveRecord) -> None:
    assert titles(rr.models.Job.active().by_client(2)) == ["Audit"]
    assert rr.models.Job.by_client(client_id=1).count() == 2


def test_conditions(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    assert titles(jobs.where({"or": [{"priority": 1}, {"status": "done"}]})) == ["Paint", "Sweep"]
    assert titles(jobs.where(tasks={"any": {"user_id": 1}})) == ["Fix"]
    assert titles(jobs.where(workers={"any": {"name": "Bob"}})) == ["Fix", "Paint"]
    assert titles(jobs.where(client={"any": {"name": "Globex"}})) == ["Audit", "Sweep"]
    assert titles(jobs.where({"not": {"tasks": {"any": {}}}})) == ["Audit", "Sweep"]
    assert titles(jobs.where(title={"like": "%a%"})) == ["Paint"]
    assert titles(jobs.where(title={"ilike": "%A%"})) == ["Paint", "Audit"]
    assert titles(jobs.where(client_id=[2, None])) == ["Audit", "Sweep"]
    assert titles(jobs.where(priority={"between": [2, 3]}, status={"ne": "done"})) == [
        "Fix",
        "Audit",
    ]


def test_includes(rr: ReactiveRecord) -> None:
    fix, paint, audit, _ = rr.models.Job.includes("tasks", "client", "workers").all()
    assert [t.title for t in fix.tasks] == ["Fix/Ann", "Fix/Bob"]
    assert [u.name for u in fix.workers] == ["Ann", "Bob"]
    assert paint.client.name == "Acme" and audit.tasks == ()


def test_includes_never_run_a_query_per_record(make_rr: Make, db_url: str) -> None:
    plugin = pytest.importorskip("rr_testplugin")
    rr = open_rr(make_rr, db_url, "testplugin", config={"testplugin": {"record": True}})
    with rr.transaction():
        for n in range(6):
            job = rr.models.Job.create({"title": f"j{n}"})
            rr.models.Task.create({"job_id": job.id, "title": "t"})
    state = plugin.state_of(rr)
    state.specs.clear()
    jobs = rr.models.Job.includes("tasks", "client", "workers").all()
    assert len(jobs) == 6 and all(len(job.tasks) == 1 for job in jobs)
    assert sorted(s.model for s in state.specs) == ["Client", "Job", "Task", "Task", "User"]


def test_writes_and_cascades(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    assert jobs.update(2, {"status": "active"}).lock_version == 1
    assert jobs.where(status="active").update_all({"priority": 5}) == 3
    assert jobs.where(priority=5).count() == 3
    rr.models.Client.destroy(1)
    assert titles(jobs.all()) == ["Audit", "Sweep"] and rr.models.Task.count() == 0
    assert jobs.where(status="done").destroy_all() == 1
    assert titles(jobs.all()) == ["Audit"]
    with pytest.raises(ValidationError) as raised:
        jobs.update(3, {"status": "bogus"})
    assert list(raised.value.messages) == ["status"]


KEYED: dict[str, Any] = {
    "Item": {"fields": {"name": "string"}},
    "Code": {"fields": {"code": {"type": "string", "primary_key": True}, "name": "string"}},
}


def test_generated_ids_are_never_reused_and_pass_explicit_ones(make_rr: Make, db_url: str) -> None:
    # SQLite without AUTOINCREMENT would reuse a destroyed largest id, and PostgreSQL's
    # sequence ignores explicit ids: either way a new record would collide with, or
    # inherit the history and subscribers of, another.
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    items = make_rr(db_url, KEYED, plugins).models.Item
    first, last = items.create({"name": "first"}), items.create({"name": "last"})
    items.destroy(last.id)
    assert items.create({"name": "new"}).id == last.id + 1
    items.destroy(first.id)
    items.create({"id": 10, "name": "imported"})
    items.create({"id": 7, "name": "imported"})  # never moves the ids back
    assert items.create({"name": "next"}).id == 11
    assert items.pluck("id") == [last.id + 1, 7, 10, 11]


def test_only_integer_keys_are_generated(make_rr: Make, db_url: str) -> None:
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    codes = make_rr(db_url, KEYED, plugins).models.Code
    with pytest.raises(StoreError, match="code"):
        codes.create({"name": "no key"})
    assert codes.create({"code": "A1", "name": "keyed"}).code == "A1" and codes.count() == 1


def test_transactions(rr: ReactiveRecord) -> None:
    jobs = rr.models.Job
    with rr.transaction():
        job = jobs.create({"title": "Inside"})
        assert jobs.find(job.id).data == job and jobs.count() == 5
    assert jobs.count() == 5
    with pytest.raises(RuntimeError), rr.transaction():
        jobs.create({"title": "Gone"})
        jobs.update(1, {"title": "Gone too"})
        raise RuntimeError
    assert jobs.where(title=["Gone", "Gone too"]).count() == 0 and jobs.count() == 5


def test_tx_insert_without_read_back_returns_the_row_as_sent(rr: ReactiveRecord) -> None:
    job = rr.model_definition("Job")
    seen: list[list[dict[str, Any]]] = []
    stop = rr.models.Job.where(title="Blind").subscribe(
        lambda s: seen.append([dict(r) for r in s.data])
    )
    with rr.transaction() as tx:
        row = tx.insert(job, {"id": 100, "title": "Blind", "priority": "5"}, read_back=False)
    # Coerced, every other field at its declared default, the lock version started.
    expected = {
        "id": 100,
        "title": "Blind",
        "status": "pending",
        "priority": 5,
        "client_id": None,
        "lock_version": 0,
    }
    assert row == expected
    assert dict(rr.models.Job.find(100).data) == expected
    stop()
    assert seen == [[], [expected]]  # it reaches live queries


def test_tx_insert_without_read_back_of_every_type(make_rr: Make, db_url: str) -> None:
    rr = open_rr(make_rr, db_url)
    sample = rr.model_definition("Sample")
    ref = uuid.uuid4()
    values = {
        "id": 7,
        "amount": "12.5000",
        "day": "2024-02-29",
        "at": "2024-03-01T12:30:00.123456+02:00",
        "data": {"a": [1, "é"]},
        "ref": str(ref),
    }
    with rr.transaction() as tx:
        row = tx.insert(sample, values, read_back=False)
    assert row["amount"] == Decimal("12.5000") and row["day"] == dt.date(2024, 2, 29)
    assert row["at"] == dt.datetime(2024, 3, 1, 10, 30, 0, 123456, tzinfo=dt.timezone.utc)
    assert row["ref"] == ref and row["data"] == {"a": [1, "é"]} and row["label"] is None
    assert dict(rr.models.Sample.find(7).data) == row


def test_tx_insert_without_a_key_is_read_back_all_the_same(rr: ReactiveRecord) -> None:
    with rr.transaction() as tx:
        row = tx.insert(rr.model_definition("Job"), {"title": "Keyless"}, read_back=False)
    assert row["id"] is not None and row == dict(rr.models.Job.find(row["id"]).data)


def test_tx_insert_without_read_back_makes_a_uuid_key(make_rr: Make, db_url: str) -> None:
    models = {"Token": {"fields": {"id": {"type": "uuid", "primary_key": True}, "n": "integer"}}}
    plugins = [] if db_url.startswith("memory") else ["sqlalchemy"]
    rr = make_rr(db_url, models, plugins)
    with rr.transaction() as tx:
        row = tx.insert(rr.model_definition("Token"), {"n": 1}, read_back=False)
    assert isinstance(row["id"], uuid.UUID) and row == {"id": row["id"], "n": 1}
    assert dict(rr.models.Token.find(row["id"]).data) == row


def test_tx_insert_without_read_back_refuses_bad_rows(rr: ReactiveRecord) -> None:
    job = rr.model_definition("Job")
    with pytest.raises(UnknownField), rr.transaction() as tx:
        tx.insert(job, {"id": 100, "title": "Bad", "colour": "red"}, read_back=False)
    with pytest.raises(InvalidQuery), rr.transaction() as tx:
        tx.insert(job, {"id": 100, "title": "Bad", "priority": "high"}, read_back=False)
    # The database's own refusals fail the transaction (at the INSERT or at the commit).
    for bad in ({"id": 1, "title": "Taken"}, {"id": 100, "title": None}):
        with pytest.raises(StoreError), rr.transaction() as tx:
            tx.insert(rr.model_definition("Client"), {"name": "Kept?"}, read_back=False)
            tx.insert(job, bad, read_back=False)
        assert rr.models.Client.where(name="Kept?").count() == 0
    assert rr.models.Job.count() == 4 and not rr.models.Job.where(title="Bad").exists()


def test_values_keep_their_python_types(make_rr: Make, db_url: str) -> None:
    rr = open_rr(make_rr, db_url)
    ref = uuid.uuid4()
    paris = dt.timezone(dt.timedelta(hours=2))
    values = {
        "label": "naïve ünïcödé ✓",
        "body": "x" * 5000,
        "count": -(2**31),
        "ratio": 0.25,
        "amount": Decimal("12345678.1234"),
        "flag": False,
        "day": dt.date(2024, 2, 29),
        "at": dt.datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=paris),
        "data": {"tags": ["a", "b"], "n": 1, "nested": {"ok": True}},
        "ref": ref,
    }
    created = rr.models.Sample.create(values)
    found = rr.models.Sample.find(created.id).data
    assert found == created
    assert found is not None
    assert found.at == dt.datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=dt.timezone.utc)
    assert found.at.utcoffset() == dt.timedelta(0)
    assert found.amount == Decimal("12345678.1234") and isinstance(found.amount, Decimal)
    assert found.ref == ref and isinstance(found.ref, uuid.UUID)
    assert found.flag is False and found.day == dt.date(2024, 2, 29)
    assert found.data == values["data"] and found.label == values["label"]
    assert found.body == values["body"] and found.count == values["count"]
    assert hash(found) == hash(created)
    assert rr.models.Sample.where(amount=Decimal("12345678.1234")).count() == 1
    assert rr.models.Sample.where(ref=str(ref)).count() == 1
    assert rr.models.Sample.where(at={"gte": "2024-06-01T12:30:15.123456+00:00"}).count() == 1
    assert rr.models.Sample.where(flag=False).count() == 1
    empty = rr.models.Sample.create({})
    assert {k: v for k, v in empty.items() if k != "id"} == dict.fromkeys(values)


def test_foreign_keys_hold_on_every_store(rr: ReactiveRecord) -> None:
    # A belongs_to is a FOREIGN KEY on SQL databases; the memory store keeps it as well.
    m = rr.models
    before = [sorted(dict(r).items()) for r in m.Task.all()]
    refused = (
        lambda: m.Task.create({"job_id": 999, "title": "orphan"}),
        lambda: m.Task.update(1, {"job_id": 999}),
        lambda: m.User.destroy(2),  # Bob still has tasks
        lambda: m.Job.update(1, {"id": 50}),  # Fix's tasks point at id 1
    )
    for write in refused:
        with pytest.raises(StoreError) as raised:
            write()
        assert "foreign key" in str(raised.value).lower()
    assert [sorted(dict(r).items()) for r in m.Task.all()] == before
    assert m.User.count() == 2 and m.Job.find(1).data.title == "Fix"
    assert m.Task.create({"job_id": None, "title": "unassigned"}).job_id is None
    m.Task.where(user_id=2).destroy_all()
    m.User.destroy(2)
    assert m.User.pluck("name") == ["Ann"]
