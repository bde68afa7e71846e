"""The plugin manager: built-ins, entry points, selection, autoload switch, tracing, listing."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from pluggy import HookCaller, HookImpl, Result

from . import hookspecs
from .builtins import BUILTINS
from .errors import InvalidPlugin, PluginNotInstalled

GROUP = hookspecs.PROJECT
AUTOLOAD_ENV = "RR_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "RR_TRACE_HOOKS"
BUILTIN_PREFIX = "core."

log = logging.getLogger("reactive_record.hooks")


def installed_plugins() -> dict[str, str]:
    """Plugin name -> distribution name, for every installed entry point."""
    found: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        found[ep.name] = dist
    return found


def make_plugin_manager(selected: Sequence[str] | None = None) -> pluggy.PluginManager:
    """A manager with the hook specs, the core's built-in plugins and the chosen plugins.

    ``selected`` None loads every installed plugin (unless ``RR_DISABLE_PLUGIN_AUTOLOAD``
    is set); a list loads exactly those names, and a name that is not installed raises
    :class:`PluginNotInstalled`. A misspelt hook or a wrong hook argument in any plugin
    fails here as :class:`InvalidPlugin` (``check_pending``).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, module in BUILTINS:
        pm.register(module, name=BUILTIN_PREFIX + name)
    try:
        _load(pm, selected)
    except pluggy.PluginValidationError as exc:
        raise InvalidPlugin(exc.plugin, str(exc)) from exc
    if os.environ.get(TRACE_ENV):
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    return pm


def _load(pm: pluggy.PluginManager, selected: Sequence[str] | None) -> None:
    if selected is None:
        if not os.environ.get(AUTOLOAD_ENV):
            pm.load_setuptools_entrypoints(GROUP)
    else:
        available = installed_plugins()
        for name in selected:
            if name not in available:
                raise PluginNotInstalled(f"plugin {name!r}", f"rr-{name}")
            pm.load_setuptools_entrypoints(GROUP, name=name)
    pm.check_pending()


def phase_caller(caller: HookCaller) -> Callable[..., Any] | None:
    """How the engine calls a hook it calls once per written row, by keyword arguments.

    None when no plugin implements it (an empty phase costs nothing). When exactly one
    plain implementation does — no wrapper, taking every argument of the spec — the
    implementation's own function: that is all pluggy would call, with the same
    arguments, and its exception propagates the same way, but without pluggy's ~1.4 µs of
    dispatch, paid three times per row with no plugin installed (bench_write). Otherwise,
    and whenever hook tracing is on (``RR_TRACE_HOOKS``, so every call is logged),
    pluggy's caller. Plugins are all registered before the engine exists, so the choice
    holds for its lifetime.
    """
    impls = caller.get_hookimpls()
    if not impls:
        return None
    if len(impls) > 1 or os.environ.get(TRACE_ENV) or caller.spec is None:
        return caller
    impl = impls[0]
    plain = not (impl.hookwrapper or impl.wrapper or impl.kwargnames)
    if plain and impl.argnames == caller.spec.argnames:
        return impl.function
    return caller


def _trace_before(hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
    log.debug("call %s -> %s", hook_name, [impl.plugin_name for impl in reversed(impls)])


def _trace_after(
    outcome: Result[Any], hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
) -> None:
    log.debug("done %s", hook_name)


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin as ``reactive-record plugins`` lists it."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


def describe(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and implemented hooks."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        dist = dists.get(id(plugin))
        if dist is not None:
            out.append(PluginInfo(name, dist.project_name, dist.version, hooks))
        else:
            out.append(PluginInfo(name, "rr-core", _core_version(), hooks))
    return out


def call_order(pm: pluggy.PluginManager, hook_name: str) -> list[str]:
    """The names of ``hook_name``'s implementations in the order pluggy calls them."""
    caller = getattr(pm.hook, hook_name)
    return [impl.plugin_name for impl in reversed(caller.get_hookimpls())]


def _core_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rr-core")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
