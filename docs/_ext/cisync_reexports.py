"""Cross-references to a re-exported name resolve to the page that documents it.

The API reference documents each object once, under one public module (its
errors as ``cisync_lib.errors.ConfigError``, the sync entry points as
``cisync_lib.sync.SyncJob``). Docstrings and pages may name the same object
through any module that exports it (``cisync_lib.ConfigError``, or
``SyncJob`` inside the top level's docstring). When Sphinx finds no target for
such a reference, this handler imports the name, looks for the documented
object that *is* the same object and links there; anything else stays a
missing reference (``-n -W`` fails on it).

Likewise a constant documented under the module that re-exports it
(``cisync_lib.sandbox.FAULT_KINDS``) gets the ``#:`` comment written where it is
defined, instead of the docstring of its type (``tuple``, ``str``, ``dict``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from docutils.nodes import Element
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer, PycodeError

# id(object) -> (fullname, objtype); built once per build, after every page is read
_DOCUMENTED: dict[int, tuple[str, str]] = {}


def _lookup(dotted: str) -> Any:
    """The object named by ``dotted`` (``module.attr``), or None."""
    module_name, _, attr = dotted.rpartition(".")
    if not module_name:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, attr, None)


def _documented(env: BuildEnvironment) -> dict[int, tuple[str, str]]:
    """id(object) -> (fullname, objtype) of every documented ``cisync_lib`` object."""
    if not _DOCUMENTED:
        for fullname, entry in env.get_domain("py").objects.items():  # type: ignore[attr-defined]
            if fullname.startswith("cisync_lib.") and entry.objtype != "module":
                value = _lookup(fullname)
                if value is not None:
                    _DOCUMENTED.setdefault(id(value), (fullname, entry.objtype))
    return _DOCUMENTED


def _resolve(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    if node.get("refdomain") != "py":
        return None
    target = str(node.get("reftarget", "")).lstrip("~.")
    candidates = [target]
    module = node.get("py:module")
    if module and "." not in target:
        candidates.append(f"{module}.{target}")
    for dotted in candidates:
        if not dotted.startswith("cisync_lib."):
            continue
        value = _lookup(dotted)
        found = _documented(env).get(id(value)) if value is not None else None
        if found is None:
            continue
        fullname, _objtype = found
        domain = env.get_domain("py")
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], fullname, node, contnode
        )
    return None


def _forget(app: Sphinx, env: BuildEnvironment) -> None:
    _DOCUMENTED.clear()


def _comment_where_defined(name: str, value: Any) -> list[str]:
    """The ``#:`` comment above ``name = ...`` in the loaded module that defines ``value``."""
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("cisync_lib.") or getattr(module, name, None) is not value:
            continue
        try:
            docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except PycodeError:
            continue
        if ("", name) in docs:
            return list(docs[("", name)])
    return []


def _constant_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    if what != "data" or not name.startswith("cisync_lib."):
        return
    own = getattr(obj, "__doc__", None)
    if own is not None and own != getattr(type(obj), "__doc__", None):
        return  # a docstring of its own (a class or function object)
    lines[:] = _comment_where_defined(name.rpartition(".")[2], obj)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the handlers."""
    app.connect("autodoc-process-docstring", _constant_docstring)
    app.connect("missing-reference", _resolve)
    app.connect("env-updated", _forget)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
