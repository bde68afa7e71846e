"""Soft delete through the public API, on the memory store and on SQLite."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reactive_record import (
    ConfigError,
    InvalidQuery,
    PermissionDenied,
    ReactiveRecord,
    RecordNotFound,
)
from rr_softdelete import restore

DELETED = "deleted_at"


def ids(records: Any) -> list[Any]:
    """The primary keys of records, in order."""
    return [record["id"] for record in records]


def models_with(**changes: Any) -> dict[str, Any]:
    """A single ``Job`` model, its table extended with ``changes``."""
    job: dict[str, Any] = {
        "fields": {"title": "string", "deleted_at": "datetime"},
        "features": {"softdelete": True},
    }
    job.update(changes)
    return {"Job": job}


# -- the plugin is found and enabled like any user's plugin -------------------------------


def test_discovered_through_its_entry_point(rr: ReactiveRecord) -> None:
    assert "softdelete" in rr.features
    assert "softdelete" in dict(rr.plugin_manager.list_name_plugin())


def test_selected_by_name_alone() -> None:
    with ReactiveRecord(database="memory://", models=models_with(), plugins=["softdelete"]) as rr:
        rr.create_tables()
        job = rr.models.Job.create({"title": "Fix"})
        rr.models.Job.destroy(job.id)
        assert rr.models.Job.count() == 0


# -- destroy, reads, restore -------------------------------------------------------------


def test_destroy_sets_the_timestamp_and_reads_hide_the_row(rr: ReactiveRecord, clock: Any) -> None:
    Job = rr.models.Job
    kept, gone = Job.create({"title": "keep"}), Job.create({"title": "go"})
    clock.now += dt.timedelta(hours=1)

    Job.destroy(gone.id)

    assert ids(Job.all()) == [kept.id]
    assert Job.count() == 1
    assert not Job.where(title="go").exists()
    assert Job.find_by(title="go").data is None
    with pytest.raises(RecordNotFound):
        Job.find(gone.id)
    trashed = Job.only_deleted().one()
    assert trashed.id == gone.id
    assert trashed[DELETED] == clock.now
    assert ids(Job.with_deleted().all()) == [kept.id, gone.id]
    assert Job.with_deleted().count() == 2


def test_restore_brings_the_row_back(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "Fix"})
    Job.destroy(job.id)

    restored = restore(Job, job.id)

    assert restored[DELETED] is None
    assert Job.find(job.id).data == restored
    assert Job.only_deleted().count() == 0


def test_destroying_a_deleted_row_removes_it_for_good(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "Fix"})
    Job.destroy(job.id)
    Job.destroy(job.id)
    assert Job.with_deleted().count() == 0
    with pytest.raises(RecordNotFound):
        Job.destroy(job.id)


def test_destroy_all_soft_deletes_each_row_and_empties_the_trash(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    for title in ("a", "b", "c"):
        Job.create({"title": title})
    assert Job.where(title=["a", "b"]).destroy_all() == 2
    assert ids(Job.only_deleted().order("title")) == [1, 2]

    assert Job.only_deleted().destroy_all() == 2
    assert ids(Job.with_deleted()) == [3]


def test_rows_can_be_updated_while_deleted(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    job = Job.create({"title": "Fix"})
    Job.destroy(job.id)
    updated = Job.update(job.id, {"title": "Fixed"})
    assert updated.title == "Fixed"
    assert updated[DELETED] is not None
    assert Job.count() == 0


def test_with_deleted_is_part_of_the_query_fingerprint(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    fingerprints = {
        Job.spec.fingerprint,
        Job.with_deleted().spec.fingerprint,
        Job.only_deleted().spec.fingerprint,
    }
    assert len(fingerprints) == 3


def test_live_queries_follow_soft_deletes_and_restores(rr: ReactiveRecord) -> None:
    Job = rr.models.Job
    first, second = Job.create({"title": "a"}), Job.create({"title": "b"})
    live: list[list[Any]] = []
    trash: list[list[Any]] = []
    Job.order("id").subscribe(lambda snapshot: live.append(ids(snapshot.data)))
    Job.only_deleted().subscribe(lambda snapshot: trash.append(ids(snapshot.data)))
    found = Job.find(first.id)

    Job.destroy(first.id)
    assert (live[-1], trash[-1]) == ([second.id], [first.id])
    assert found.data is None

    restore(Job, first.id)
    assert (live[-1], trash[-1]) == ([first.id, second.id], [])


# -- associations ------------------------------------------------------------------------


def test_children_go_to_the_trash_with_their_parent(rr: ReactiveRecord) -> None:
    Job, Task = rr.models.Job, rr.models.Task
    job = Job.create({"title": "Fix"})
    other = Job.create({"title": "Other"})
    for title in ("one", "two"):
        Task.create({"job_id": job.id, "title": title})
    kept = Task.create({"job_id": other.id, "title": "kept"})

    Job.destroy(job.id)

    assert ids(Task.all()) == [kept.id]
    assert Task.only_deleted().count() == 2
    assert all(task.removed_at is not None for task in Task.only_deleted())


def test_destroying_a_parent_for_good_removes_its_children(rr: ReactiveRecord) -> None:
    Job, Task = rr.models.Job, rr.models.Task
    job = Job.create({"title": "Fix"})
    Job.destroy(job.id)
    late = Task.create({"job_id": job.id, "title": "added to a deleted job"})

    Job.destroy(job.id)

    assert Job.with_deleted().count() == 0
    assert not Task.with_deleted().where(id=late.id).exists()
    assert Task.with_deleted().count() == 0


def test_includes_hide_deleted_children_even_with_deleted_parents(rr: ReactiveRecord) -> None:
    Job, Task = rr.models.Job, rr.models.Task
    job = Job.create({"title": "Fix"})
    live = Task.create({"job_id": job.id, "title": "live"})
    gone = Task.create({"job_id": job.id, "title": "gone"})
    Task.destroy(gone.id)

    (found,) = Job.with_deleted().includes("tasks").all()

    assert ids(found.tasks) == [live.id]


def test_models_without_the_feature_destroy_for_real(rr: ReactiveRecord) -> None:
    Note = rr.models.Note
    note = Note.create({"body": "hello"})
    Note.destroy(note.id)
    assert Note.count() == 0
    with pytest.raises(AttributeError, match="with_deleted"):
        Note.with_deleted()
    with pytest.raises(InvalidQuery, match="does not soft delete"):
        restore(Note, note.id)


# -- authorization ----------------------------------------------------------------------


def test_a_soft_delete_is_still_authorized_as_destroy(database: str) -> None:
    """rr_authorize answers (here the test plugin's ``deny``) are asked for ``destroy``."""
    if importlib.util.find_spec("rr_testplugin") is None:
        pytest.skip("needs the workspace's test plugin, which answers rr_authorize")
    models = models_with(
        features={"softdelete": True, "testplugin": True}, testplugin={"deny": ["destroy"]}
    )
    with ReactiveRecord(database=database, models=models) as rr:
        rr.create_tables()
        job = rr.models.Job.create({"title": "Fix"})
        with pytest.raises(PermissionDenied, match="not allowed to destroy Job 1"):
            rr.models.Job.destroy(job.id)
        assert rr.models.Job.find(job.id).data == job


# -- configuration ----------------------------------------------------------------------


def test_the_field_is_configurable_in_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """
[tool.reactive-record]
database = "memory://"

[tool.reactive-record.models.Job]
fields = { title = "string", removed_at = "datetime" }
features = { softdelete = true }
softdelete = { field = "removed_at" }
"""
    )
    with ReactiveRecord.from_pyproject(tmp_path) as rr:
        rr.create_tables()
        job = rr.models.Job.create({"title": "Fix"})
        rr.models.Job.destroy(job.id)
        assert rr.models.Job.only_deleted().one().removed_at is not None


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        (
            {"softdelete": {"field": "gone_at"}},
            "models.Job.softdelete.field",
            "a nullable datetime field of Job (deleted_at)",
        ),
        (
            {"softdelete": {"field": "title"}},
            "models.Job.softdelete.field",
            "a nullable datetime field",
        ),
        (
            {
                "fields": {"deleted_at": {"type": "datetime", "null": False}},
                "features": {"softdelete": True},
            },
            "models.Job.softdelete.field",
            "add one",
        ),
        ({"softdelete": {"feild": "deleted_at"}}, "models.Job.softdelete.feild", "unknown key"),
        ({"softdelete": {"field": 3}}, "models.Job.softdelete.field", "Not a valid string"),
    ],
    ids=["missing-field", "not-a-datetime", "not-nullable", "unknown-key", "wrong-type"],
)
def test_configuration_mistakes_name_the_toml_path(
    changes: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError, match="softdelete") as raised:
        ReactiveRecord(database="memory://", models=models_with(**changes))
    assert raised.value.path.endswith(path)
    assert message in str(raised.value)


def test_a_disabled_models_section_is_still_validated() -> None:
    models = models_with(features={}, softdelete={"feild": "deleted_at"})
    with pytest.raises(ConfigError, match="unknown key"):
        ReactiveRecord(database="memory://", models=models)


def test_there_are_no_top_level_settings() -> None:
    with pytest.raises(ConfigError, match="no top-level settings") as raised:
        ReactiveRecord(
            database="memory://", models=models_with(), config={"softdelete": {"field": "x"}}
        )
    assert raised.value.path.endswith("reactive-record.softdelete")


# -- the demo -------------------------------------------------------------------------


def test_hook_rr_demo_steps_adds_a_soft_delete_step(tmp_path: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "reactive_record", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Demo finished" in shown.stdout, shown.stdout + shown.stderr
    # Other installed plugins add steps too; this one is judged on its own section.
    step = shown.stdout.split("== Soft delete (rr-softdelete", 1)[1]
    step = re.split(r"\n== |\nDemo finished", step, maxsplit=1)[0]
    assert "RecordNotFound: no Job with key" in step
    assert "restore(Job," in step
    assert "step failed" not in step


# -- a property: the three views always partition the rows --------------------------------

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.just(0)),
        st.tuples(st.sampled_from(["destroy", "restore"]), st.integers(0, 7)),
    ),
    max_size=25,
)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(operations=OPERATIONS)
def test_views_match_a_model_of_the_trash(kind: str, operations: list[tuple[str, int]]) -> None:
    """After any sequence of creates, destroys and restores, reads agree with a dict."""
    if kind == "sqlite" and importlib.util.find_spec("rr_sqlalchemy") is None:
        pytest.skip("SQLite needs rr-sqlalchemy, which is not installed")
    url = "memory://" if kind == "memory" else "sqlite://"
    state: dict[int, str] = {}
    with ReactiveRecord(database=url, models=models_with()) as rr:
        rr.create_tables()
        Job = rr.models.Job
        for operation, index in operations:
            keys = sorted(state)
            key = keys[index % len(keys)] if keys else None
            if operation == "create":
                state[Job.create({"title": "t"}).id] = "live"
            elif operation == "destroy" and key is not None:
                Job.destroy(key)
                if state[key] == "live":
                    state[key] = "deleted"
                else:
                    del state[key]
            elif operation == "restore" and key is not None:
                restore(Job, key)
                state[key] = "live"
        assert ids(Job.all()) == sorted(k for k, v in state.items() if v == "live")
        assert ids(Job.only_deleted()) == sorted(k for k, v in state.items() if v == "deleted")
        assert ids(Job.with_deleted()) == sorted(state)
        assert Job.count() + Job.only_deleted().count() == Job.with_deleted().count()
