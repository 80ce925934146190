"""The settings table in docs/concepts.md says what the registry says."""

from pathlib import Path

from cisync_lib.settings import SETTINGS
from cisync_lib.settings._registry import render_value

CONCEPTS = Path(__file__).parents[3] / "docs" / "concepts.md"


def test_concepts_table_matches_the_registry():
    """Every setting is in the table with its default and allowed values, in registry order."""
    rows = [
        [cell.strip().strip("`").replace("\\|", "|") for cell in line.strip("|").split(" | ")]
        for line in CONCEPTS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    documented = [(name, default, allowed) for name, default, allowed, _ in rows]
    assert documented == [
        (spec.name, render_value(spec.default), spec.allowed) for spec in SETTINGS.values()
    ]
