"""Every hook is documented in its spec and in docs/hooks.md, and has a test named after it.

datasette's practice: a hook added without documentation or without a ``test_hook_<name>``
test fails here, so the hooks page and the tests cannot fall behind ``hookspecs.py``.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reactive_record import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS_PAGE = ROOT / "docs" / "hooks.md"
TEST_FOLDERS = ("tests", "packages/*/tests", "examples/*/tests")
SPEC_ATTRIBUTE = f"{hookspecs.PROJECT}_spec"


def specs() -> dict[str, Callable[..., Any]]:
    """Every function ``hookspecs.py`` marks as a hook spec, by name."""
    return {
        name: function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, SPEC_ATTRIBUTE)
    }


SPECS = specs()


@functools.cache
def documented() -> dict[str, str]:
    """Hook name -> its section of docs/hooks.md (from its ``###`` heading to the next)."""
    sections = re.split(r"^### ", HOOKS_PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    found: dict[str, str] = {}
    for section in sections[1:]:
        match = re.match(r"`(\w+)\(", section)
        if match:
            found[match.group(1)] = section
    return found


def as_markdown(text: str) -> str:
    """reST inline markup of a docstring as the hooks page writes it."""
    return re.sub(r":\w+:`([^`]+)`", r"`\1`", text.replace("``", "`"))


@functools.cache
def hook_tests() -> frozenset[str]:
    """Hooks with a test named ``test_hook_<name>`` or ``test_hook_<name>_<more words>``.

    A name counts for the longest hook it starts with, so
    ``test_hook_rr_authorize_change_refuses`` is a test of ``rr_authorize_change``.
    """
    pattern = re.compile(r"^\s*(?:async\s+)?def test_hook_(\w+)\(", re.MULTILINE)
    names: set[str] = set()
    for folder in TEST_FOLDERS:
        for path in ROOT.glob(f"{folder}/**/*.py"):
            for rest in pattern.findall(path.read_text(encoding="utf-8")):
                hooks = [h for h in SPECS if rest == h or rest.startswith(f"{h}_")]
                if hooks:
                    names.add(max(hooks, key=len))
    return frozenset(names)


def test_there_are_hooks() -> None:
    assert "rr_plan_query" in SPECS
    assert len(SPECS) >= 20


def test_the_hooks_page_lists_exactly_the_specs() -> None:
    page = set(documented())
    assert sorted(page - set(SPECS)) == [], "docs/hooks.md lists hooks that do not exist"
    assert sorted(set(SPECS) - page) == [], "hooks missing from docs/hooks.md"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_hooks_page_shows_the_signature_and_summary(name: str) -> None:
    section = documented().get(name)
    assert section is not None, f"{name} is missing from docs/hooks.md"
    arguments = ", ".join(inspect.signature(SPECS[name]).parameters)
    assert section.startswith(f"`{name}({arguments})`"), f"docs/hooks.md: {name}'s arguments"
    summary = as_markdown((inspect.getdoc(SPECS[name]) or "").splitlines()[0])
    assert summary in section, f"docs/hooks.md: {name}'s summary should read {summary!r}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_spec_is_documented_in_pytest_shape(name: str) -> None:
    spec = SPECS[name]
    doc = inspect.getdoc(spec)
    assert doc, f"{name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"{name}: the first line is a one-sentence summary"
    for argument in inspect.signature(spec).parameters:
        assert f":param {argument}:" in doc, f"{name}: no :param {argument}:"
    if inspect.signature(spec).return_annotation not in ("None", None):
        assert ":returns:" in doc, f"{name} returns a value: document it with :returns:"
    if getattr(spec, SPEC_ATTRIBUTE).get("firstresult"):
        assert "Stops at first non-None result." in doc, f"{name} is firstresult"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_hook_has_a_test_named_after_it(name: str) -> None:
    assert name in hook_tests(), (
        f"no test_hook_{name}[_...] under {', '.join(TEST_FOLDERS)}: "
        "every hook has a test named after it"
    )
