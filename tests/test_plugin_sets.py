"""The plugins installed here are exactly the nox session's plugin set, and all load.

Each nox test session installs one plugin set and names it in ``RR_TEST_PLUGINS``. This
test makes a plugin that failed to install fail loudly, instead of its tests being
skipped, and one that leaked into a set it does not belong to fail as well.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import pytest
from reactive_record import ReactiveRecord

#: Plugin name -> distribution of every plugin this repository ships.
REPOSITORY_PLUGINS = {
    "sqlalchemy": "rr-sqlalchemy",
    "permissions": "rr-permissions",
    "activity": "rr-activity",
    "defaults": "rr-defaults",
    "softdelete": "rr-softdelete",
}
EXPECTED = os.environ.get("RR_TEST_PLUGINS")

pytestmark = pytest.mark.skipif(EXPECTED is None, reason="nox sessions set RR_TEST_PLUGINS")


def expected() -> set[str]:
    """The session's plugin names."""
    return {name for name in (EXPECTED or "").split(",") if name}


def test_exactly_the_sessions_plugins_are_installed() -> None:
    installed = {
        ep.name: ep.dist.name if ep.dist is not None else None
        for ep in entry_points(group="reactive_record")
        if ep.name in REPOSITORY_PLUGINS
    }
    assert set(installed) == expected()
    for name, distribution in installed.items():
        assert distribution == REPOSITORY_PLUGINS[name]


def test_autoload_registers_each_installed_plugin() -> None:
    with ReactiveRecord(database="memory://") as rr:
        loaded = {name for name, _ in rr.plugin_manager.list_name_plugin()}
    assert expected() <= loaded
    assert loaded & set(REPOSITORY_PLUGINS) == expected()
