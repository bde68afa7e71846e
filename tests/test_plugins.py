"""Plugins through real entry points: discovery, selection, phase order, isolation, every hook.

The throwaway distribution ``tests/plugins/rr-testplugin`` is installed into the test
environment; it records the hooks it sees and fails where its config section says.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest
from reactive_record import (
    ConfigError,
    InvalidPlugin,
    PluginNotInstalled,
    ReactiveRecord,
    ReactiveRecordError,
    RecordNotFound,
    ValidationError,
)

plugin = pytest.importorskip("rr_testplugin")

MODELS: dict[str, Any] = {
    "Job": {
        "fields": {
            "title": {"type": "string", "null": False},
            "status": "string",
            "lock_version": "integer",
        },
        "features": {"testplugin": True},
        "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id", "dependent": "destroy"}},
    },
    "Task": {"fields": {"job_id": "integer", "title": "string"}},
}

WRITE_PHASES = [
    "rr_rewrite_change",
    "rr_fill_change",
    "rr_validate_change",
    "rr_authorize_change",
    "rr_on_write",
]
READ_PHASES = ["rr_plan_query", "rr_fill_records", "rr_filter_records", "rr_decorate_records"]
BUILTINS = {"core.memory", "core.validation", "core.system"}

Make = Callable[..., ReactiveRecord]


def with_section(models: dict[str, Any], model: str, **section: Any) -> dict[str, Any]:
    """``models`` with ``model``'s ``testplugin`` section set."""
    changed = {name: dict(table) for name, table in models.items()}
    changed[model]["testplugin"] = section
    return changed


def recording(make_rr: Make, models: dict[str, Any] = MODELS, **settings: Any) -> ReactiveRecord:
    """An instance with only the test plugin, recording; ``settings`` go to its section."""
    return make_rr(
        "memory://", models, ["testplugin"], config={"testplugin": {"record": True, **settings}}
    )


def calls(rr: ReactiveRecord) -> list[tuple[str, str | None, str | None]]:
    """What the plugin recorded since the last call, then forget it."""
    state = plugin.state_of(rr)
    found = list(state.calls)
    state.calls.clear()
    return found


def names(rr: ReactiveRecord) -> set[str]:
    """The names of the plugins registered on ``rr``."""
    return {name for name, _ in rr.plugin_manager.list_name_plugin()}


# -- discovery and selection -------------------------------------------------------------


def test_the_plugin_is_found_through_its_entry_point(make_rr: Make) -> None:
    rr = make_rr("memory://", MODELS)
    assert "testplugin" in names(rr) and names(rr) >= BUILTINS
    assert rr.plugin_manager.get_plugin("testplugin") is plugin.plugin
    dists = {id(p): d.project_name for p, d in rr.plugin_manager.list_plugin_distinfo()}
    assert dists[id(plugin.plugin)] == "rr-testplugin"
    assert "testplugin" in rr.features


def test_plugins_selects_exactly_those(make_rr: Make) -> None:
    assert names(make_rr("memory://", {}, ["testplugin"])) == BUILTINS | {"testplugin"}
    assert names(make_rr("memory://", {}, [])) == BUILTINS


def test_selection_from_the_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.reactive-record]
            database = "memory://"
            plugins = ["testplugin"]
            """
        )
    )
    with ReactiveRecord.from_pyproject(tmp_path) as rr:
        assert names(rr) == BUILTINS | {"testplugin"}
    with ReactiveRecord.from_pyproject(tmp_path, plugins=[]) as rr:
        assert names(rr) == BUILTINS


def test_an_unknown_plugin_name_raises_plugin_not_installed() -> None:
    with pytest.raises(PluginNotInstalled) as raised:
        ReactiveRecord("memory://", {}, ["testplugin", "nosuch"])
    assert raised.value.distribution == "rr-nosuch"
    assert "plugin 'nosuch' needs rr-nosuch" in str(raised.value)
    assert "pip install rr-nosuch" in str(raised.value)


def test_autoload_can_be_turned_off(make_rr: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RR_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert names(make_rr("memory://", {})) == BUILTINS
    assert names(make_rr("memory://", {}, ["testplugin"])) == BUILTINS | {"testplugin"}
    with pytest.raises(PluginNotInstalled, match="rr-testplugin"):
        make_rr("memory://", MODELS)  # Job enables the feature; nothing provides it


@pytest.fixture
def misspelt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A distribution whose entry point names the module with a misspelt hook.

    It exists only for this test: installed for good it would break every autoloading
    instance, which is the point it makes.
    """
    info = tmp_path / "rr_testmisspelt-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rr-testmisspelt\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[reactive_record]\ntestmisspelt = rr_testplugin.misspelt\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "testmisspelt"


def test_a_misspelt_hook_fails_at_start_up(misspelt: str) -> None:
    with pytest.raises(InvalidPlugin) as raised:
        ReactiveRecord("memory://", {}, [misspelt])
    assert isinstance(raised.value, (ReactiveRecordError, pluggy.PluginValidationError))
    assert "rr_valdate_change" in str(raised.value)
    assert "rr_testplugin.misspelt" in str(raised.value)
    with pytest.raises(pluggy.PluginValidationError, match="rr_valdate_change"):
        ReactiveRecord("memory://", {})  # autoload finds it too
    with ReactiveRecord("memory://", {}, ["testplugin"]) as rr:  # not selected: not loaded
        assert misspelt not in names(rr)


# -- phase order ------------------------------------------------------------------------


def test_write_phases_run_in_order(make_rr: Make) -> None:
    rr = recording(make_rr, audit=True)
    job = rr.models.Job.create({"title": "Fix"})
    rr.models.Job.update(job.id, {"status": "active"})
    rr.models.Job.destroy(job.id)
    recorded = [(hook, op) for hook, model, op in calls(rr) if model == "Job"]
    expected = [
        (hook, op)
        for op in ("create", "update", "destroy")
        for hook in [*WRITE_PHASES, "rr_after_commit"]
    ]
    assert recorded == expected
    # rr_on_write saw the stored row: the key the store generated was known to it.
    assert rr.models.TpAudit.pluck("entry") == ["create Job 1", "update Job 1", "destroy Job 1"]


def test_write_phases_run_in_order_with_every_installed_plugin(make_rr: Make) -> None:
    rr = make_rr("memory://", MODELS, config={"testplugin": {"record": True}})
    rr.models.Job.create({"title": "Fix"})
    recorded = [hook for hook, model, op in calls(rr) if op == "create"]
    assert recorded == [*WRITE_PHASES, "rr_after_commit"]


def test_read_phases_run_in_order(make_rr: Make) -> None:
    rr = recording(make_rr)
    rr.models.Job.create({"title": "Fix"})
    calls(rr)
    rr.models.Job.all()
    assert [hook for hook, _, _ in calls(rr)] == READ_PHASES


def test_bulk_writes_run_the_pipeline_per_row_then_commit_once(make_rr: Make) -> None:
    rr = recording(make_rr)
    for title in ("a", "b", "c"):
        rr.models.Job.create({"title": title, "status": "new"})
    calls(rr)
    assert rr.models.Job.where(status="new").update_all({"status": "old"}) == 3
    recorded = [hook for hook, _, op in calls(rr) if op == "update"]
    assert recorded == WRITE_PHASES * 3 + ["rr_after_commit"] * 3


def test_one_transaction_commits_once(make_rr: Make) -> None:
    rr = recording(make_rr)
    with rr.transaction():
        rr.models.Job.create({"title": "a"})
        rr.models.Task.create({"title": "t"})
        assert not [c for c in calls(rr) if c[0] == "rr_after_commit"]
    assert [c for c in calls(rr) if c[0] == "rr_after_commit"] == [
        ("rr_after_commit", "Job", "create"),
        ("rr_after_commit", "Task", "create"),
    ]


def test_new_calls_only_the_fill_phase(make_rr: Make) -> None:
    rr = recording(make_rr)
    rr.models.Job.new(title="x")
    assert calls(rr) == [("rr_fill_change", "Job", "create")]


# -- two instances in one process ---------------------------------------------------------


def test_instances_do_not_share_plugins(make_rr: Make) -> None:
    with_plugin = recording(make_rr)
    without = make_rr("memory://", {"Task": MODELS["Task"]}, [])
    assert with_plugin.plugin_manager is not without.plugin_manager
    assert "testplugin" in names(with_plugin) and "testplugin" not in names(without)
    assert "testplugin" not in without.features and "testplugin" not in without.extensions
    without.models.Task.create({"title": "t"})
    assert calls(with_plugin) == []
    with pytest.raises(AttributeError):
        _ = without.models.Task.tp_tagged
    with pytest.raises(PluginNotInstalled):
        ReactiveRecord("memory://", MODELS, [])


def test_instances_with_the_same_plugin_keep_their_own_state(make_rr: Make) -> None:
    first = recording(make_rr)
    second = make_rr("memory://", MODELS, ["testplugin"], config={"testplugin": {}})
    assert plugin.state_of(first) is not plugin.state_of(second)
    second.models.Job.create({"title": "b"})
    assert calls(first) == [] and calls(second) == []  # second does not record
    first.models.Job.create({"title": "a"})
    assert len(calls(first)) == 6


def test_instances_do_not_share_signals(make_rr: Make) -> None:
    failing = recording(make_rr, fail_in="rr_after_commit")
    quiet = make_rr("memory://", MODELS, ["testplugin"])
    assert failing.signals is not quiet.signals
    assert failing.signal("callback-error") is not quiet.signal("callback-error")
    heard: dict[str, list[Any]] = {"failing": [], "quiet": []}
    failing.signal("callback-error").connect(
        lambda sender, **kw: heard["failing"].append(kw["error"]), weak=False
    )
    quiet.signal("callback-error").connect(
        lambda sender, **kw: heard["quiet"].append(kw["error"]), weak=False
    )
    failing.models.Job.create({"title": "a"})
    quiet.models.Job.create({"title": "b"})
    assert [type(e) for e in heard["failing"]] == [plugin.InjectedError]
    assert heard["quiet"] == []


def test_instances_do_not_share_caches_users_or_extensions(make_rr: Make) -> None:
    first = make_rr("memory://", MODELS, ["testplugin"])
    second = make_rr("memory://", MODELS, ["testplugin"])
    assert first.extensions is not second.extensions
    assert first.extensions["core.validation"] is not second.extensions["core.validation"]
    first.models.Job.create({"title": "only in first"})
    assert second.models.Job.count() == 0
    alice = {"id": 1}
    with first.acting_as(alice):
        assert first.models.Job.where(title="x").spec.option("user") == alice
        assert second.models.Job.where(title="x").spec.option("user") is None
    assert first.models.Job.tp_tagged("x").spec.option("tp_tag") == "x"


def test_instances_do_not_share_live_queries_or_cached_results(make_rr: Make) -> None:
    first = make_rr("memory://", MODELS, ["testplugin"])
    second = make_rr("memory://", MODELS, ["testplugin"])
    seen: dict[str, list[tuple[str, ...]]] = {"first": [], "second": []}
    queries = {
        name: rr.models.Job.where(status="open").with_ttl("1h")
        for name, rr in (("first", first), ("second", second))
    }
    assert queries["first"].spec.fingerprint == queries["second"].spec.fingerprint

    def listener(name: str) -> Callable[[Any], None]:
        return lambda snapshot: seen[name].append(tuple(r.title for r in snapshot.data))

    stops = [query.subscribe(listener(name)) for name, query in queries.items()]
    first.models.Job.create({"title": "a", "status": "open"})
    assert seen == {"first": [(), ("a",)], "second": [()]}
    assert queries["second"].all() == ()  # the same fingerprint, its own cache
    for stop in stops:
        stop()


# -- each hook, through the plugin ------------------------------------------------------


def test_hook_rr_model_features(make_rr: Make) -> None:
    rr = make_rr("memory://", MODELS, ["testplugin"])
    assert "testplugin" in rr.features
    assert rr.models.Job.model.has_feature("testplugin")
    assert not rr.models.Task.model.has_feature("testplugin")


def test_hook_rr_register_models(make_rr: Make) -> None:
    rr = recording(make_rr, audit=True)
    assert (
        "TpAudit" in rr.models
        and "TpAudit" not in make_rr("memory://", MODELS, ["testplugin"]).models
    )
    rr.models.Task.create({"title": "t"})
    assert rr.models.TpAudit.pluck("entry") == ["create Task 1"]


def test_hook_rr_configure(make_rr: Make, tmp_path: Path) -> None:
    rr = recording(make_rr, fail_in="rr_on_write", fail_model="Task")
    state = plugin.state_of(rr)
    assert state.settings["fail_in"] == "rr_on_write" and state.settings["fail_after"] == 0
    assert state.section(rr.models.Job.model) is not None
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.reactive-record]
            database = "memory://"
            testplugin = { fail_in = "rr_validate" }
            """
        )
    )
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord.from_pyproject(tmp_path, plugins=["testplugin"])
    assert raised.value.path == "tool.reactive-record.testplugin.fail_in"
    assert raised.value.value == "rr_validate" and "rr_validate_change" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        ReactiveRecord("memory://", with_section(MODELS, "Job", decorat=True), ["testplugin"])
    assert raised.value.path == "reactive-record.models.Job.testplugin.decorat"
    assert "unknown key" in str(raised.value)


def test_feature_sections_from_the_toml_drive_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.reactive-record]
            database = "memory://"
            plugins = ["testplugin"]

            [tool.reactive-record.testplugin]
            record = true
            problems = ["from the toml"]

            [tool.reactive-record.models.Job]
            fields = { title = "string", status = "string" }
            features = { testplugin = true }

            [tool.reactive-record.models.Job.testplugin]
            decorate = true
            hide = { status = "secret" }

            [tool.reactive-record.models.Note]
            fields = { body = "string" }
            testplugin = { decorate = true }  # the section alone does not turn the feature on
            """
        )
    )
    with ReactiveRecord.from_pyproject(tmp_path) as rr:
        rr.create_tables()
        rr.models.Job.create({"title": "a", "status": "open"})
        rr.models.Job.create({"title": "b", "status": "secret"})
        rr.models.Note.create({"body": "n"})
        assert [job.tp_label for job in rr.models.Job.all()] == ["Job#1"]
        assert "tp_label" not in rr.models.Note.one().extra
        assert rr.checks() == ["from the toml"]
        assert plugin.state_of(rr).settings["record"] is True


def test_hook_rr_open_store(make_rr: Make) -> None:
    rr = make_rr("testplugin://counted", MODELS, ["testplugin"])
    assert isinstance(rr.store, plugin.CountingStore)
    rr.models.Job.create({"title": "a"})
    rr.models.Job.includes("tasks").all()
    assert rr.store.fetches == ["Job", "Task"]
    with pytest.raises(ConfigError, match="a URL a store plugin handles"):
        ReactiveRecord("testplugin://x", {}, [])


def test_hook_rr_query_methods(make_rr: Make) -> None:
    rr = recording(make_rr)
    tagged = rr.models.Job.where(title="a").tp_tagged("mine")
    assert tagged.spec.option("tp_tag") == "mine"
    tagged.all()
    assert plugin.state_of(rr).specs[-1].option("tp_tag") == "mine"
    with pytest.raises(AttributeError, match="no scope or query method 'tp_tagged'"):
        _ = rr.models.Task.tp_tagged


def test_hook_rr_plan_query(make_rr: Make) -> None:
    rr = recording(make_rr, with_section(MODELS, "Job", hide={"status": "secret"}))
    for title, status in (("a", "open"), ("b", "secret"), ("c", "open")):
        rr.models.Job.create({"title": title, "status": status})
    assert rr.models.Job.pluck("title") == ["a", "c"]
    assert rr.models.Job.count() == 2
    assert rr.models.Job.unscoped().pluck("title") == ["a", "b", "c"]
    assert [s.model for s in plugin.state_of(rr).specs][-3:] == ["Job", "Job", "Job"]


def test_plan_post_filters_fill_the_limit_exactly(make_rr: Make) -> None:
    rr = make_rr(
        "memory://", with_section(MODELS, "Job", reject={"status": "draft"}), ["testplugin"]
    )
    with rr.transaction():
        for n in range(1, 301):  # every third job is a draft: more than one page to read
            rr.models.Job.create({"title": f"j{n}", "status": "draft" if n % 3 == 0 else "ok"})
    kept = [n for n in range(1, 301) if n % 3]
    assert rr.models.Job.count() == 200
    assert rr.models.Job.pluck("id") == kept
    assert rr.models.Job.offset(150).limit(20).pluck("id") == kept[150:170]
    assert rr.models.Job.order("-id").limit(5).pluck("id") == kept[::-1][:5]
    assert rr.models.Job.offset(190).count() == 10
    assert rr.models.Job.where(status="draft").first() is None
    assert rr.models.Job.unscoped().count() == 300


def test_count_runs_the_dropping_phases_but_not_decorate_includes_or_computed(
    make_rr: Make,
) -> None:
    rr = recording(make_rr, with_section(MODELS, "Job", drop={"status": "spam"}))
    for status in ("ok", "spam", "ok"):
        job = rr.models.Job.create({"title": status, "status": status})
        rr.models.Task.create({"job_id": job.id})
    calls(rr)
    plugin.state_of(rr).specs.clear()

    def fails(job: Any) -> Any:
        raise AssertionError("count() must not compute values")

    assert rr.models.Job.includes("tasks").with_computed({"x": fails}).count() == 2
    assert [s.model for s in plugin.state_of(rr).specs] == ["Job"]
    # Only the filter phase (after the fill it may rely on) can change a count.
    assert [hook for hook, _, _ in calls(rr)] == READ_PHASES[:3]


def test_plugin_scoping_applies_to_includes_and_find(make_rr: Make) -> None:
    models = {
        "Job": {
            "fields": {"title": "string"},
            "has_many": {"tasks": {"model": "Task", "foreign_key": "job_id"}},
        },
        "Task": {
            "fields": {"job_id": "integer", "status": "string"},
            "belongs_to": {"job": {"model": "Job"}},
            "features": {"testplugin": True},
            "testplugin": {"hide": {"status": "secret"}, "reject": {"status": "draft"}},
        },
    }
    rr = make_rr("memory://", models, ["testplugin"])
    job = rr.models.Job.create({"title": "Fix"})
    for status in ("open", "secret", "draft", "done"):
        rr.models.Task.create({"job_id": job.id, "status": status})
    included = rr.models.Job.includes("tasks").one()
    assert [t.status for t in included.tasks] == ["open", "done"]
    assert rr.models.Task.find(1).data is not None
    for hidden in (2, 3):
        with pytest.raises(RecordNotFound):
            rr.models.Task.find(hidden)
    assert rr.models.Task.unscoped().count() == 4


def test_hook_rr_fill_records(make_rr: Make) -> None:
    rr = make_rr(
        "memory://", with_section(MODELS, "Job", fill={"status": "unknown"}), ["testplugin"]
    )
    rr.models.Job.create({"title": "a"})
    rr.models.Job.create({"title": "b", "status": "open"})
    assert rr.models.Job.pluck("status") == ["unknown", "open"]


def test_hook_rr_filter_records(make_rr: Make) -> None:
    rr = make_rr("memory://", with_section(MODELS, "Job", drop={"status": "spam"}), ["testplugin"])
    for n, status in enumerate(("spam", "ok", "spam", "ok", "ok")):
        rr.models.Job.create({"title": f"j{n}", "status": status})
    assert rr.models.Job.pluck("title") == ["j1", "j3", "j4"]
    assert rr.models.Job.count() == 3


def test_hook_rr_decorate_records(make_rr: Make) -> None:
    rr = make_rr("memory://", with_section(MODELS, "Job", decorate=True), ["testplugin"])
    rr.models.Job.create({"title": "a"})
    job = rr.models.Job.first()
    assert job is not None and job.tp_label == "Job#1" and "tp_label" not in job


@pytest.mark.parametrize("hook", WRITE_PHASES)
def test_write_phase_failures_write_nothing(make_rr: Make, hook: str) -> None:
    rr = recording(make_rr, fail_in=hook, fail_model="Job")
    rr.models.Task.create({"title": "fine"})
    with pytest.raises(plugin.InjectedError, match=hook):
        rr.models.Job.create({"title": "a"})
    assert rr.models.Job.count() == 0 and rr.models.Task.count() == 1
    recorded = [h for h, model, _ in calls(rr) if model == "Job"]
    position = WRITE_PHASES.index(hook)
    assert recorded[: position + 1] == WRITE_PHASES[: position + 1]
    assert "rr_after_commit" not in recorded


@pytest.mark.parametrize("hook", READ_PHASES)
def test_read_phase_failures_reach_the_reader(make_rr: Make, hook: str) -> None:
    rr = recording(make_rr)
    rr.models.Job.create({"title": "a"})
    plugin.state_of(rr).reconfigure(fail_in=hook)
    with pytest.raises(plugin.InjectedError, match=hook):
        rr.models.Job.all()
    plugin.state_of(rr).reconfigure(fail_in=None)
    assert rr.models.Job.pluck("title") == ["a"]


def test_hook_rr_rewrite_change(make_rr: Make) -> None:
    rr = recording(make_rr)
    rr.models.Job.create({"title": "a"})
    assert calls(rr)[0] == ("rr_rewrite_change", "Job", "create")


def test_hook_rr_fill_change(make_rr: Make) -> None:
    rr = recording(make_rr)
    rr.models.Job.new()
    assert calls(rr) == [("rr_fill_change", "Job", "create")]


def test_hook_rr_validate_change(make_rr: Make) -> None:
    rr = recording(make_rr)
    with pytest.raises(ValidationError):
        rr.models.Job.create({"title": None})
    # The core's own validation is a plugin of the same phase; nothing after it ran.
    recorded = [h for h, _, _ in calls(rr)]
    assert "rr_fill_change" in recorded and "rr_authorize_change" not in recorded
    assert rr.models.Job.count() == 0


def test_hook_rr_authorize_change(make_rr: Make) -> None:
    rr = recording(make_rr, clear_after_validate="status")
    job = rr.models.Job.create({"title": "a", "status": "set"})
    assert job.status is None  # cleared after validation, before the write


def test_hook_rr_on_write(make_rr: Make) -> None:
    rr = recording(make_rr, audit=True, fail_in="rr_on_write", fail_model="Job", fail_after=1)
    rr.models.Job.create({"title": "a"})
    with pytest.raises(plugin.InjectedError):
        rr.models.Job.create({"title": "b"})
    # The audit row written in the failed transaction rolled back with the change.
    assert rr.models.TpAudit.pluck("entry") == ["create Job 1"]
    assert rr.models.Job.pluck("title") == ["a"]


def test_hook_rr_after_commit(make_rr: Make) -> None:
    rr = recording(make_rr, fail_in="rr_after_commit")
    errors: list[Any] = []
    rr.signal("callback-error").connect(lambda sender, **kw: errors.append(kw), weak=False)
    job = rr.models.Job.create({"title": "a"})  # the failure does not reach the writer
    assert rr.models.Job.find(job.id).data == job  # the commit stands
    assert len(errors) == 1 and isinstance(errors[0]["error"], plugin.InjectedError)
    assert [c.operation for c in errors[0]["changes"]] == ["create"]


def test_hook_rr_authorize(make_rr: Make) -> None:
    rr = make_rr("memory://", with_section(MODELS, "Job", deny=["assign"]), ["testplugin"])
    job_model = rr.models.Job.model
    assert rr.authorize({"id": 1}, "assign", job_model, None) is False
    assert rr.authorize({"id": 1}, "read", job_model, None) is True
    assert rr.authorize({"id": 1}, "assign", rr.models.Task.model, None) is True


def test_hook_rr_checks(make_rr: Make) -> None:
    rr = recording(make_rr, problems=["Job: something to fix"])
    assert "Job: something to fix" in rr.checks()
    assert make_rr("memory://", MODELS, ["testplugin"]).checks() == []
