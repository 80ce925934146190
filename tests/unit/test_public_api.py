"""Every public name is documented in the API reference, once, on its module's page.

The rule: ``docs/api/<area>.md`` documents the public module ``cisync_lib.<area>``
and the public modules below it (``docs/api/cisync_lib.md`` the top level). A
name in a module's ``__all__`` is documented when a directive names it there or
under another public module that exports the same object under the same name:
the top level's ``SyncJob`` is documented as ``cisync_lib.sync.SyncJob``, and
``cisync_lib.errors``' errors cover the top level's. Each object is documented
once, and the reference names no private module and no name that left ``__all__``.

``__all__`` is read at test time, so shrinking a module's surface only needs the
directives of the names that left removed. That no two public classes share a
name is tests/unit/test_public_names.py's.
"""

from __future__ import annotations

import collections
import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cisync_lib

API_DOCS = Path(__file__).parents[2] / "docs" / "api"

# `.. autoclass:: cisync_lib.sync.SyncJob`, `.. py:data:: cisync_lib.files.PRIVATE`
_DIRECTIVE = re.compile(
    r"^\s*\.\.\s+(?:auto|py:)(\w+)::\s+(cisync_lib(?:\.\w+)*)\s*$", re.MULTILINE
)


def _public_modules() -> list[str]:
    found = pkgutil.walk_packages(cisync_lib.__path__, "cisync_lib.")
    names = [m.name for m in found if not any(p.startswith("_") for p in m.name.split("."))]
    return ["cisync_lib", *sorted(names)]


PUBLIC_MODULES = _public_modules()


def _page_of(module: str) -> str:
    """The page that documents ``module``: its first component below ``cisync_lib``."""
    parts = module.split(".")
    return "cisync_lib" if len(parts) == 1 else parts[1]


def _directives() -> list[tuple[str, str, str]]:
    """(page, kind, target) of every autodoc or Python-domain directive in the reference."""
    found = []
    for page in sorted(API_DOCS.glob("*.md")):
        for kind, target in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.append((page.stem, kind, target))
    return found


DIRECTIVES = _directives()
MODULE_DIRECTIVES = [(page, target) for page, kind, target in DIRECTIVES if kind == "module"]
NAME_DIRECTIVES = [(page, target) for page, kind, target in DIRECTIVES if kind != "module"]


def _split(target: str) -> tuple[str, str]:
    """``cisync_lib.sync.SyncJob`` -> (``cisync_lib.sync``, ``SyncJob``), the module being public."""
    module, _, name = target.rpartition(".")
    return module, name


def _documented() -> dict[tuple[str, str], list[str]]:
    """(module, name) -> the pages that document it."""
    where: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for page, target in NAME_DIRECTIVES:
        where[_split(target)].append(page)
    return where


def _value(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _exported() -> list[tuple[str, str]]:
    pairs = []
    for module in PUBLIC_MODULES:
        for name in getattr(importlib.import_module(module), "__all__", ()):
            pairs.append((module, name))
    return pairs


def test_the_reference_has_pages():
    assert (API_DOCS / "index.md").is_file()
    assert NAME_DIRECTIVES


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_has_a_dunder_all(module):
    assert isinstance(getattr(importlib.import_module(module), "__all__", None), list)


@pytest.mark.parametrize(("module", "name"), _exported())
def test_every_name_in_dunder_all_resolves(module, name):
    mod: ModuleType = importlib.import_module(module)
    assert hasattr(mod, name), f"{module}.__all__ lists {name!r}, which does not exist"


def test_every_public_name_is_documented():
    documented = _documented()
    missing = []
    for module, name in _exported():
        value = _value(module, name)
        homes = [
            home
            for home, doc_name in documented
            if doc_name == name
            and home in PUBLIC_MODULES
            and name in importlib.import_module(home).__all__
            and _value(home, name) is value
        ]
        if not homes:
            missing.append(f"{module}.{name}")
    assert not missing, f"not in docs/api/*.md: {missing}"


def test_each_object_is_documented_once():
    by_object: dict[int, list[str]] = collections.defaultdict(list)
    for page, target in NAME_DIRECTIVES:
        module, name = _split(target)
        if module in PUBLIC_MODULES and hasattr(importlib.import_module(module), name):
            by_object[id(_value(module, name))].append(f"{target} ({page}.md)")
    twice = [sorted(where) for where in by_object.values() if len(where) > 1]
    assert not twice, twice


def test_the_reference_names_no_private_module():
    private = [
        f"{target} ({page}.md)" for page, _, target in DIRECTIVES if re.search(r"\._(?!_)", target)
    ]
    assert not private, private


def test_each_directive_names_a_public_name_on_its_modules_page():
    wrong = []
    for page, target in NAME_DIRECTIVES:
        module, name = _split(target)
        if module not in PUBLIC_MODULES:
            wrong.append(f"{target} ({page}.md): not a public module")
        elif name not in importlib.import_module(module).__all__:
            wrong.append(f"{target} ({page}.md): not in {module}.__all__")
        elif page != _page_of(module):
            wrong.append(f"{target} ({page}.md): belongs on {_page_of(module)}.md")
    assert not wrong, wrong


def test_each_public_module_is_introduced_once_on_its_page():
    pages = collections.defaultdict(list)
    for page, target in MODULE_DIRECTIVES:
        pages[target].append(page)
    wrong = {m: pages.get(m, []) for m in PUBLIC_MODULES if pages.get(m) != [_page_of(m)]}
    assert not wrong, f"module -> pages with its automodule directive: {wrong}"
    assert set(pages) <= set(PUBLIC_MODULES), sorted(set(pages) - set(PUBLIC_MODULES))


def test_every_page_is_in_the_index():
    index = (API_DOCS / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^(\w[\w-]*)$", index, re.MULTILINE))
    pages = {p.stem for p in API_DOCS.glob("*.md")} - {"index"}
    assert pages <= listed, sorted(pages - listed)
