"""The package's shape, checked by tools rather than remembered.

* The import contracts in ``pyproject.toml`` (``[tool.importlinter]``: layers, the
  library never imports the sandbox, the CLI and the sandbox use only public API,
  no cycle between sibling modules) hold, and a deliberate violation of each breaks
  its contract (import-linter really reads this tree, the contracts are not vacuous).
* Every top-level module of ``cisync_lib`` sits in a layer, so a new one cannot
  escape the contracts.
* No runtime import cycle between any two modules (import-linter's
  ``acyclic_siblings`` looks at siblings; this looks at every module, a package's
  ``__init__`` included). Imports under ``if TYPE_CHECKING:`` never run and do not count.
* An import inside a function never dodges a cycle: each one says why it is there,
  with one of the few reasons in :data:`LAZY_REASONS`.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from importlinter import api as importlinter_api

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cisync_lib"

#: Why an import may sit inside a function, written ``# lazy: <reason>`` on the import's
#: line or on the comment line(s) just above it (above its ``try:`` when it is the
#: first statement of one; a run of imports shares one comment). The reason must name
#: one of these; dodging an import cycle is never one of them: remove the cycle instead
#: (move the shared thing down a layer, or merge the two modules).
LAZY_REASONS = {
    "optional extra": "the module comes from an extra that may not be installed (rich, "
    "argcomplete, the sandbox's werkzeug/trustme): imported where the feature is used",
    "start-up time": "the module is slow to import (msal, pysnc, cryptography, the sandbox) and "
    "only one command, fixture or credential kind needs it, so `cisync --help`, the pytest "
    "plugin and `import cisync_lib` stay quick",
}

#: KNOWN OFFENDERS: imports inside functions without a ``# lazy:`` reason, as (file
#: relative to cisync_lib/, imported module as written). Empty since issue 15; never add
#: to it: remove the cycle, or give the import its reason.
UNEXPLAINED_LOCAL_IMPORTS: frozenset[tuple[str, str]] = frozenset()


def _contracts() -> dict[str, dict[str, object]]:
    options = importlinter_api.read_configuration(str(ROOT / "pyproject.toml"))
    return {contract["id"]: contract for contract in options["contracts_options"]}


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # the CLI entry point, run with this interpreter (no reliance on a script on PATH)
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_top_level_module_is_in_a_layer() -> None:
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    named = {
        name.strip().strip("()")
        for layer in layers
        for name in re.split(r"[|:]", layer)
        if name.strip()
    }
    graph = grimp.build_graph("cisync_lib", exclude_type_checking_imports=True)
    top_level = set(graph.find_children("cisync_lib"))
    # outside the layers on purpose: the sandbox, a test instance the library never imports
    # (contract "no-sandbox-in-library")
    assert top_level - named == {"cisync_lib.sandbox"}


@pytest.mark.parametrize("contract", ["cli-public-api", "sandbox-public-api"])
def test_every_private_core_module_is_forbidden_to_the_cli_and_the_sandbox(contract: str) -> None:
    # wildcards cannot say "cisync_lib._*", so the core's private modules are listed by name:
    # a new one must join both lists
    forbidden = _contracts()[contract]["forbidden_modules"]
    assert isinstance(forbidden, list)
    graph = grimp.build_graph("cisync_lib", exclude_type_checking_imports=True)
    private = {
        module
        for module in graph.find_children("cisync_lib")
        if module.rsplit(".", 1)[1].startswith("_")
    }
    assert private - set(forbidden) == set()
    assert "cisync_lib.*.*" in forbidden  # every module inside a subpackage


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _private_module(package: Path) -> str:
    return sorted(p.stem for p in package.glob("_*.py") if p.stem != "__init__")[0]


def test_a_deliberate_violation_of_each_contract_breaks_it(tmp_path: Path) -> None:
    # a copy of the package with one forbidden import per contract, linted with our contracts
    copy = tmp_path / "cisync_lib"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    cmdb_private = f"cisync_lib.cmdb.{_private_module(copy / 'cmdb')}"
    violations = {
        # a lower layer reaching up
        "settings/__init__.py": "import cisync_lib.sync",
        # the library reaching for the sandbox
        "servicenow/__init__.py": "import cisync_lib.sandbox",
        # the CLI and the sandbox reaching past a package's public API
        "cli/__init__.py": f"import {cmdb_private}",
        "sandbox/__init__.py": f"import {cmdb_private}",
        # two sibling modules importing each other
        "cmdb/_architecture_ping.py": "import cisync_lib.cmdb._architecture_pong",
        "cmdb/_architecture_pong.py": "import cisync_lib.cmdb._architecture_ping",
    }
    for relative, line in violations.items():
        target = copy / relative
        before = target.read_text(encoding="utf-8") if target.exists() else ""
        _write(target, f"{before}\n{line}  # deliberate violation\n")
    # the copy, not the installed package, is what import-linter must find
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = _lint_imports(tmp_path, env)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "0 kept, 5 broken" in out or "Contracts: 0 kept, 5 broken." in out, out
    # each contract names the import that broke it
    assert "cisync_lib.settings -> cisync_lib.sync" in out
    assert "cisync_lib.servicenow -> cisync_lib.sandbox" in out
    assert f"cisync_lib.cli -> {cmdb_private}" in out
    assert f"cisync_lib.sandbox -> {cmdb_private}" in out
    assert "._architecture_p" in out
    print(out)  # the proof, for `pytest -s`


def test_no_runtime_import_cycle() -> None:
    graph = grimp.build_graph("cisync_lib", exclude_type_checking_imports=True)
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.add(" -> ".join((importer, *back)))
    assert not cycles, "runtime import cycles:\n" + "\n".join(sorted(cycles))


def _local_imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, int]]:
    """Every import inside a function, with the line its reason comment may sit above."""

    def visit(
        node: ast.AST, in_function: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, int]]:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                anchor = 0
                for index, child in enumerate(value):
                    if not isinstance(child, ast.Import | ast.ImportFrom):
                        function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                        yield from visit(child, in_function or function)
                        continue
                    if index == 0 or not isinstance(value[index - 1], ast.Import | ast.ImportFrom):
                        anchor = child.lineno  # the first of a run of imports ...
                        if index == 0 and isinstance(node, ast.Try) and field == "body":
                            anchor = node.lineno  # ... or the `try:` it opens
                    if in_function:
                        yield child, anchor
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        yield from visit(item, in_function)
            elif isinstance(value, ast.AST):
                yield from visit(value, in_function)

    yield from visit(tree, in_function=False)


def _reason(lines: list[str], node: ast.stmt, anchor: int) -> str | None:
    comments = []
    same_line = lines[node.lineno - 1]
    if "#" in same_line:
        comments.append(same_line.split("#", 1)[1])
    above = anchor - 2  # 0-based index of the line above the anchor
    while above >= 0 and lines[above].strip().startswith("#"):
        comments.append(lines[above].strip().lstrip("#"))
        above -= 1
    for comment in comments:
        match = re.search(r"\blazy:\s*(.+)", comment)
        if match and any(reason in match.group(1) for reason in LAZY_REASONS):
            return match.group(1)
    return None


def _unexplained_local_imports() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node, anchor in _local_imports(ast.parse(text)):
            if _reason(lines, node, anchor) is not None:
                continue
            if isinstance(node, ast.ImportFrom):
                name = "." * node.level + (node.module or "")
            else:
                name = node.names[0].name
            found.add((path.relative_to(PACKAGE).as_posix(), name))
    return found


def test_every_import_inside_a_function_says_why() -> None:
    unexplained = _unexplained_local_imports()
    new = sorted(unexplained - UNEXPLAINED_LOCAL_IMPORTS)
    assert not new, (
        "imports inside functions need `# lazy: <reason>` naming one of "
        f"{sorted(LAZY_REASONS)} (never a cycle: remove it instead): {new}"
    )


def test_the_known_offenders_list_only_shrinks() -> None:
    # an entry fixed by its owner leaves the list in the same change
    stale = sorted(UNEXPLAINED_LOCAL_IMPORTS - _unexplained_local_imports())
    assert not stale, f"fixed, remove from UNEXPLAINED_LOCAL_IMPORTS: {stale}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    import json  # lazy: start-up time of the CLI\n", True),
        ("def f():\n    # lazy: argcomplete is an optional extra\n    import argcomplete\n", True),
        (
            "def f():\n    # lazy: CLI start-up time\n    try:\n        import a\n"
            "        import b\n    except ImportError:\n        pass\n",
            True,
        ),
        ("def f():\n    import json\n", False),
        ("def f():\n    import json  # it would be a cycle otherwise\n", False),
        ("def f():\n    # lazy: the two modules import each other\n    import json\n", False),
        ("import json\n\ndef f():\n    return json\n", True),
    ],
)
def test_the_reason_rule_itself(source: str, expected: bool) -> None:
    lines = source.splitlines()
    verdicts = [
        _reason(lines, node, anchor) is not None
        for node, anchor in _local_imports(ast.parse(source))
    ]
    assert all(verdicts) is expected
