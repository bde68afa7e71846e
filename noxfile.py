"""Every check a person or CI runs; ``nox --list`` reads like a table of contents.

The test matrix is three axes, not their cross product: every Python with all plugins on
SQLite; every plugin set on one Python; every database with all plugins on one Python.
Each test session installs only its plugin set (real wheels, no editable installs), so
plugins are found through the entry points that are really installed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2"
nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

ROOT = Path(__file__).parent
#: The system's temporary folder, read before any session points TMPDIR into .nox/:
#: tests that need "no pyproject.toml above this folder" must not run inside the repo.
SYSTEM_TMP = tempfile.gettempdir()
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
#: The Python of the plugin-set and database axes, lint and types: the one running nox
#: when it is supported, so a machine with a single Python still runs every axis.
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
MAIN_PYTHON = RUNNING if RUNNING in PYTHONS else "3.12"

#: Where each plugin's distribution lives; rr-core is in every set.
DISTRIBUTIONS = {
    "core": "packages/rr-core",
    "sqlalchemy": "packages/rr-sqlalchemy",
    "permissions": "packages/rr-permissions",
    "activity": "packages/rr-activity",
    "defaults": "packages/rr-defaults",
    "softdelete": "examples/rr-softdelete",
}
FIRST_PARTY = ("sqlalchemy", "permissions", "activity", "defaults")
PLUGIN_SETS = {
    "core": (),
    "sqlalchemy": ("sqlalchemy",),
    "permissions": ("sqlalchemy", "permissions"),
    "activity": ("sqlalchemy", "activity"),
    "defaults": ("sqlalchemy", "defaults"),
    "all": FIRST_PARTY,
    "all+softdelete": (*FIRST_PARTY, "softdelete"),
}
#: "memory" (rr-core's MemoryStore) is the database of sets without rr-sqlalchemy.
DATABASES = ("sqlite", "postgresql", "mariadb")
SERVERS = ("postgresql", "mariadb")

#: Plugin distributions that only the tests use (installed into every test session).
TEST_PLUGINS = tuple(str(p.parent) for p in sorted(ROOT.glob("tests/plugins/*/pyproject.toml")))


def matrix() -> list[nox.param]:
    """The three axes as (python, plugin set, database) sessions, each combination once."""
    rows = [(python, "all", "sqlite") for python in PYTHONS]
    rows += [
        (MAIN_PYTHON, name, "sqlite" if "sqlalchemy" in plugins else "memory")
        for name, plugins in PLUGIN_SETS.items()
    ]
    rows += [(MAIN_PYTHON, "all", database) for database in DATABASES]
    return [
        nox.param(
            python,
            plugin_set,
            database,
            id=f"{python}-{plugin_set}-{database}",
            tags=[python, plugin_set, database],
        )
        for python, plugin_set, database in dict.fromkeys(rows)
    ]


def constraints(session: nox.Session) -> str:
    """A constraints file holding uv.lock's version of every third-party package."""
    path = Path(session.create_tmp()) / "constraints.txt"
    session.run_install(
        "uv",
        "export",
        "--frozen",
        "--all-packages",
        "--all-groups",
        "--no-emit-workspace",
        "--no-hashes",
        "--quiet",
        "--output-file",
        str(path),
        external=True,
        silent=True,
    )
    return str(path)


def install(
    session: nox.Session,
    plugins: tuple[str, ...],
    *groups: str,
    editable: bool = False,
    extra: tuple[str, ...] = (),
) -> None:
    """Install rr-core, the named plugins and dependency groups, at the lock's versions.

    One command for all of them, so the local rr-core satisfies every ``rr-core`` pin;
    ``--no-sources`` keeps uv from swapping in the workspace's editable members.
    """
    paths = [DISTRIBUTIONS[name] for name in ("core", *plugins)] + list(extra)
    if editable:
        paths = [arg for path in paths for arg in ("-e", path)]
    requirements = nox.project.dependency_groups(PYPROJECT, *groups) if groups else ()
    session.install("--no-sources", "-c", constraints(session), *paths, *requirements)


def run_pytest(session: nox.Session, plugins: tuple[str, ...], database: str) -> None:
    """Run the cross-package tests and the tests of every installed distribution.

    SQLite sessions also run everything on the memory store. A server session runs only
    the tests marked for its server (the database fixtures mark them): the rest already
    ran, with the same plugins, in the SQLite session. ``RR_TEST_PLUGINS`` tells the
    tests which plugins must be installed, so one that failed to install fails loudly
    instead of its tests being skipped.
    """
    paths = ["tests", *(f"{DISTRIBUTIONS[name]}/tests" for name in ("core", *plugins))]
    selection = ("-m", database) if database in SERVERS else ()
    env = {
        "RR_TEST_DATABASES": "memory,sqlite" if database == "sqlite" else database,
        "RR_TEST_PLUGINS": ",".join(plugins),
        "TMPDIR": SYSTEM_TMP,
    }
    session.run("pytest", *paths, *selection, *session.posargs, env=env)


@nox.session(python=MAIN_PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff (lint and format), the import walls between packages, and the lock's freshness."""
    install(session, (*FIRST_PARTY, "softdelete"), "lint", editable=True)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")
    session.run("uv", "lock", "--check", external=True)


@nox.session(python=MAIN_PYTHON)
def types(session: nox.Session) -> None:
    """mypy --strict on every distribution's src/."""
    install(session, (*FIRST_PARTY, "softdelete"), "types", editable=True)
    session.run("mypy")


@nox.session
@nox.parametrize(("python", "plugin_set", "database"), matrix())
def tests(session: nox.Session, plugin_set: str, database: str) -> None:
    """Run the tests of one plugin set on one Python and one database."""
    plugins = PLUGIN_SETS[plugin_set]
    install(session, plugins, "test", extra=TEST_PLUGINS)
    run_pytest(session, plugins, database)


@nox.session(python=MAIN_PYTHON)
def demo(session: nox.Session) -> None:
    """Run ``reactive-record demo`` as the README's first command does."""
    install(session, FIRST_PARTY)
    session.chdir(session.create_tmp())
    session.run("reactive-record", "demo")


@nox.session(python=MAIN_PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Run bench/bench_*.py (or the scripts named after --); results go to bench/results/."""
    install(session, FIRST_PARTY, "bench")
    scripts = session.posargs or sorted(str(p) for p in (ROOT / "bench").glob("bench_*.py"))
    for script in scripts:
        session.run("python", script)
