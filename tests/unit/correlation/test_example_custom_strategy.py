"""The docs page's custom strategy runs as a tested example."""

import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "custom_strategy.py"


def block(text, name):
    start, end = f"# --- {name}: start", f"# --- {name}: end"
    return text.split(start, 1)[1].split(end, 1)[0]


def test_example_runs_and_matches_by_employee_number(capsys):
    """The example script resolves by email/UPN and by the embedded employee number."""
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert capsys.readouterr().out.splitlines() == [
        "jdoe MATCHED MATCHED upn_user_name",
        "E004712@contractors.example MATCHED MATCHED employee_number",
        "e999999@contractors.example UNMATCHED NO_CANDIDATE None",
    ]


def test_strategy_is_under_30_lines_and_shown_by_the_docs_page():
    """The page includes exactly the tested code, and it is under 30 lines."""
    code = block(EXAMPLE.read_text(encoding="utf-8"), "strategy")
    assert len([line for line in code.splitlines() if line.strip()]) < 30
    page = (ROOT / "docs" / "strategies.md").read_text(encoding="utf-8")
    assert ':start-after: "# --- strategy: start"' in page
    assert "../examples/custom_strategy.py" in page


def test_entry_point_factory_builds_the_strategy():
    """The factory the page registers as an entry point returns a working strategy."""
    from cisync_lib.typing import Strategy

    namespace = runpy.run_path(str(EXAMPLE))
    made = namespace["make_strategy"](None)
    assert isinstance(made, Strategy)
    assert made.name == "employee_number"
