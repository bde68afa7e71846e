"""MemoryStore (``memory://``) is a real backend: keys, constraints, isolation, concurrency."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactive_record import (
    MemoryStore,
    PluginNotInstalled,
    ReactiveRecord,
    ReactiveRecordError,
    Store,
    StoreError,
    ValidationError,
)

Build = Callable[..., ReactiveRecord]


def test_it_implements_the_store_protocol(rr: ReactiveRecord) -> None:
    assert isinstance(rr.store, MemoryStore) and isinstance(rr.store, Store)
    assert rr.store.url == "memory://"


def test_metadata_needs_the_sql_store(rr: ReactiveRecord) -> None:
    with pytest.raises(PluginNotInstalled, match="pip install rr-sqlalchemy"):
        _ = rr.metadata


def test_each_instance_has_its_own_memory(build_rr: Build) -> None:
    first, second = build_rr(), build_rr()
    first.models.Client.create({"name": "Acme"})
    assert second.models.Client.count() == 0 and first.store is not second.store


def test_tables_must_be_created() -> None:
    with ReactiveRecord("memory://", {"Job": {"fields": {"title": "string"}}}, plugins=[]) as rr:
        with pytest.raises(StoreError, match=r"no table 'jobs': run create_tables\(\)"):
            rr.models.Job.all()
        rr.create_tables()
        rr.create_tables()  # idempotent
        assert rr.models.Job.all() == ()


def test_primary_keys(build_rr: Build) -> None:
    rr = build_rr()
    clients = rr.models.Client
    assert clients.create({"id": 2, "name": "Two"}).id == 2
    # As a database sequence moved past an explicit id: never below it, never reused.
    assert [clients.create({"name": n}).id for n in "abc"] == [3, 4, 5]
    with pytest.raises(StoreError, match="Client 3 already exists"):
        clients.create({"id": 3, "name": "Dup"})
    assert clients.count() == 4


def test_an_update_may_change_the_primary_key(build_rr: Build) -> None:
    rr = build_rr()
    clients = rr.models.Client
    clients.create({"name": "a"})
    clients.create({"name": "b"})
    assert clients.update(1, {"id": 3}).id == 3
    assert clients.find(3).data.name == "a"  # type: ignore[union-attr]
    assert clients.create({"name": "c"}).id == 4  # the moved key is taken
    with pytest.raises(StoreError, match="Client 3 already exists"):
        clients.update(2, {"id": 3})
    assert [(c.id, c.name) for c in clients.all()] == [(2, "b"), (3, "a"), (4, "c")]


def test_uuid_primary_keys_are_generated(build_rr: Build) -> None:
    rr = build_rr({"Doc": {"primary_key": "key", "fields": {"key": "uuid", "name": "string"}}})
    doc = rr.models.Doc.create({"name": "a"})
    assert isinstance(doc.key, uuid.UUID)
    assert rr.models.Doc.find(str(doc.key)).data == doc


def test_defaults_apply_only_to_absent_values(rr: ReactiveRecord) -> None:
    with rr.transaction() as tx:
        stored = tx.insert(rr.models.Job.model, {"title": "raw", "priority": None})
    assert stored["status"] == "pending" and stored["priority"] is None


def test_concurrent_writers_lose_nothing(rr: ReactiveRecord) -> None:
    def write(n: int) -> None:
        for m in range(20):
            rr.models.Note.create({"body": f"{n}-{m}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rr.models.Note.count() == 160
    assert sorted(rr.models.Note.pluck("id")) == list(range(1, 161))


def test_close_releases_the_data_and_refuses_reads_and_writes(build_rr: Build) -> None:
    rr = build_rr()
    rr.models.Client.create({"name": "Acme"})
    rr.close()
    assert rr.store._tables == {}  # type: ignore[attr-defined]
    for use in (
        lambda: rr.models.Client.count(),
        lambda: rr.models.Client.all(),
        lambda: rr.models.Client.create({"name": "Later"}),
    ):
        with pytest.raises(ReactiveRecordError, match="this ReactiveRecord is closed"):
            use()


def test_json_values_share_nothing_with_callers() -> None:
    # As with a database: changing a dict after writing it, or one read back, changes
    # nothing stored.
    models = {"Job": {"fields": {"meta": "json"}}}
    with ReactiveRecord("memory://", models, plugins=[]) as rr:
        rr.create_tables()
        jobs = rr.models.Job
        sent = {"tags": ["a"], "nested": {"n": 1}}
        created = jobs.create({"meta": sent})
        sent["tags"].append("b")
        created.meta["nested"]["n"] = 2
        jobs.find(created.id).data.meta["tags"].append("c")  # type: ignore[union-attr]
        jobs.all()[0].meta["nested"]["n"] = 3
        updated = jobs.update(created.id, {"meta": sent})
        sent["tags"].clear()
        updated.meta["tags"].append("d")
        assert jobs.pluck("meta") == [{"tags": ["a", "b"], "nested": {"n": 1}}]


JSON_LIKE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.text(max_size=3) | st.integers(-2, 2) | st.booleans(), inner, max_size=3
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(value=JSON_LIKE)
def test_a_json_value_is_stored_as_json_text_gives_it_back(value: Any) -> None:
    # Tuples become lists and non-string keys strings, as through a database's JSON text.
    with ReactiveRecord("memory://", {"Job": {"fields": {"meta": "json"}}}, plugins=[]) as rr:
        rr.create_tables()
        stored = rr.models.Job.create({"meta": value}).meta
        assert stored == json.loads(json.dumps(value))
        assert rr.models.Job.pluck("meta") == [stored]


def test_what_json_cannot_hold_is_refused_and_nothing_written() -> None:
    with ReactiveRecord("memory://", {"Job": {"fields": {"meta": "json"}}}, plugins=[]) as rr:
        rr.create_tables()
        for bad in ({"n": float("nan")}, [{1, 2}], {"price": Decimal("1.5")}, [float("inf")]):
            with pytest.raises(ValidationError, match="meta"):
                rr.models.Job.create({"meta": bad})
        assert rr.models.Job.count() == 0
