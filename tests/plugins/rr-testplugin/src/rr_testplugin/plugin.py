"""The ``testplugin`` plugin: records the hooks it sees and fails where it is told to.

Inert unless configured, so installing it changes nothing for other tests. Its state
lives on ``rr.extensions["testplugin"]`` (a :class:`State`), never in module globals, so
two instances in one process stay apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reactive_record import MemoryStore, Record, RecordBatch, hookimpl

from .settings import NAME, ModelSchema, TopSchema, load_section
from .tools import rr_demo_steps, rr_register_commands

__all__ = ["rr_demo_steps", "rr_register_commands"]

if TYPE_CHECKING:
    from reactive_record import Change, Model, Plan, ReactiveRecord, Transaction

#: The model ``audit = true`` registers; ``rr_on_write`` writes one row per change into it.
AUDIT_MODEL = "TpAudit"
#: URLs with this scheme open a :class:`CountingStore`.
SCHEME = "testplugin://"


class InjectedError(RuntimeError):
    """The exception ``fail_in`` raises."""


@dataclass
class State:
    """What one instance's plugin knows: its settings and what it recorded."""

    settings: dict[str, Any]
    models: dict[str, dict[str, Any]]
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    specs: list[Any] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def reconfigure(self, **changes: Any) -> None:
        """Change settings after start-up (after seeding), validated as the section is."""
        self.settings = load_section(TopSchema(), {**self.settings, **changes}, NAME)
        self.seen.clear()

    def section(self, model: Model) -> dict[str, Any] | None:
        """The model's validated section when the model enables the feature."""
        return self.models.get(model.name) if model.has_feature(NAME) else None

    def visit(self, hook: str, model: Model | None, operation: str | None = None) -> None:
        """Record a call (with ``record = true``) and fail when ``fail_in`` names the hook."""
        name = model.name if model is not None else None
        if self.settings["record"]:
            self.calls.append((hook, name, operation))
        if hook != self.settings["fail_in"]:
            return
        wanted = self.settings["fail_model"]
        if wanted is not None and wanted != name:
            return
        count = self.seen.get(hook, 0)
        self.seen[hook] = count + 1
        if count >= self.settings["fail_after"]:
            raise InjectedError(f"testplugin: injected failure in {hook} ({name} {operation})")


class CountingStore(MemoryStore):
    """A MemoryStore that counts the reads it runs outside transactions."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.fetches: list[str] = []

    def fetch(self, plan: Plan) -> list[dict[str, Any]]:
        """Count, then fetch as MemoryStore does."""
        self.fetches.append(plan.model.name)
        return super().fetch(plan)


def state_of(rr: ReactiveRecord) -> State:
    """The plugin's state on ``rr`` (set by ``rr_configure``)."""
    state: State = rr.extensions[NAME]
    return state


# -- start-up -------------------------------------------------------------------------


@hookimpl
def rr_model_features() -> Iterable[str]:
    """The one feature this plugin provides."""
    return (NAME,)


@hookimpl
def rr_register_models(
    rr: ReactiveRecord, register: Callable[[str, Mapping[str, Any]], None]
) -> None:
    """Bring the audit model when ``audit = true``."""
    section = rr.settings.get(NAME)
    if isinstance(section, Mapping) and section.get("audit"):
        register(AUDIT_MODEL, {"fields": {"entry": {"type": "string", "null": False}}})


@hookimpl
def rr_configure(rr: ReactiveRecord, config: Mapping[str, Any]) -> None:
    """Validate the top-level and per-model sections; keep them on ``rr.extensions``."""
    prefix = rr.config_prefix
    settings = load_section(TopSchema(), config.get(NAME), f"{prefix}.{NAME}")
    models = {
        name: load_section(ModelSchema(), table.get(NAME), f"{prefix}.models.{name}.{NAME}")
        for name, table in (config.get("models") or {}).items()
    }
    rr.extensions[NAME] = State(settings, models)


@hookimpl
def rr_open_store(url: str) -> MemoryStore | None:
    """Open a :class:`CountingStore` for ``testplugin://`` URLs."""
    return CountingStore(url) if url.startswith(SCHEME) else None


@hookimpl
def rr_query_methods(model: Model) -> Mapping[str, Callable[..., Any]] | None:
    """``Job.tp_tagged("x")`` on models that enable the feature."""
    if not model.has_feature(NAME):
        return None
    return {"tp_tagged": lambda query, tag: query.with_options(tp_tag=tag)}


@hookimpl
def rr_checks(rr: ReactiveRecord) -> Iterable[str]:
    """The configured ``problems``, so ``check`` has something to report."""
    return tuple(state_of(rr).settings["problems"])


@hookimpl
def rr_authorize(rr: ReactiveRecord, action: str, model: Model) -> bool | None:
    """Deny the actions the model's section lists; no opinion otherwise."""
    section = state_of(rr).section(model)
    if section is not None and action in section["deny"]:
        return False
    return None


# -- reads ----------------------------------------------------------------------------


@hookimpl
def rr_plan_query(plan: Plan) -> None:
    """Record the spec; unless unscoped, leave out rows matching ``hide`` (as a condition)
    and rows equal to ``reject`` (as a post-filter, as rules that are not data do)."""
    state = state_of(plan.rr)
    state.visit("rr_plan_query", plan.model)
    if state.settings["record"]:
        state.specs.append(plan.spec)
    section = state.section(plan.model)
    if not section or plan.unscoped:
        return
    if section["hide"]:
        plan.add_condition({"not": section["hide"]})
    reject = section["reject"]
    if reject:
        plan.add_post_filter(lambda record: any(record.get(k) != v for k, v in reject.items()))


@hookimpl
def rr_fill_records(plan: Plan, records: RecordBatch) -> None:
    """Read phase 1: replace NULLs with the section's ``fill`` values."""
    state = state_of(plan.rr)
    state.visit("rr_fill_records", plan.model)
    section = state.section(plan.model)
    if not section or not section["fill"]:
        return
    for position, record in enumerate(records):
        missing = {k: v for k, v in section["fill"].items() if record.get(k) is None}
        if missing:
            records[position] = Record(plan.model.name, {**record, **missing})


@hookimpl
def rr_filter_records(plan: Plan, records: RecordBatch) -> None:
    """Read phase 2: drop records equal to the section's ``drop`` values."""
    state = state_of(plan.rr)
    state.visit("rr_filter_records", plan.model)
    section = state.section(plan.model)
    if not section or not section["drop"]:
        return
    drop = section["drop"]
    records[:] = [r for r in records if any(r.get(k) != v for k, v in drop.items())]


@hookimpl
def rr_decorate_records(plan: Plan, records: RecordBatch) -> None:
    """Read phase 3: attach ``tp_label`` when the section says ``decorate = true``."""
    state = state_of(plan.rr)
    state.visit("rr_decorate_records", plan.model)
    section = state.section(plan.model)
    if not section or not section["decorate"]:
        return
    pk = plan.model.primary_key
    for position, record in enumerate(records):
        records[position] = record.with_extra(tp_label=f"{plan.model.name}#{record[pk]}")


# -- writes ---------------------------------------------------------------------------


@hookimpl
def rr_rewrite_change(change: Change) -> None:
    """Write phase 0: record."""
    state_of(change.rr).visit("rr_rewrite_change", change.model, change.operation)


@hookimpl
def rr_fill_change(change: Change) -> None:
    """Write phase 1: record (also called by ``new()``)."""
    state_of(change.rr).visit("rr_fill_change", change.model, change.operation)


@hookimpl
def rr_validate_change(change: Change) -> None:
    """Write phase 2: record."""
    state_of(change.rr).visit("rr_validate_change", change.model, change.operation)


@hookimpl
def rr_authorize_change(change: Change) -> None:
    """Write phase 3: record; ``clear_after_validate`` sets a field NULL behind validation."""
    state = state_of(change.rr)
    state.visit("rr_authorize_change", change.model, change.operation)
    cleared = state.settings["clear_after_validate"]
    if cleared and change.operation != "destroy" and cleared in change.model.fields:
        change.after[cleared] = None


@hookimpl
def rr_on_write(change: Change, tx: Transaction) -> None:
    """In the transaction: record, and write an audit row with ``audit = true``."""
    state = state_of(change.rr)
    if state.settings["audit"]:
        entry = f"{change.operation} {change.model.name} {change.key}"
        tx.insert(change.rr.model_definition(AUDIT_MODEL), {"entry": entry})
    state.visit("rr_on_write", change.model, change.operation)


@hookimpl
def rr_after_commit(rr: ReactiveRecord, changes: Sequence[Change]) -> None:
    """After commit: record every change of the transaction."""
    state = state_of(rr)
    for change in changes:
        state.visit("rr_after_commit", change.model, change.operation)
