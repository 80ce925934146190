"""The unmatched report: columns, summary, and the fill-in-and-load-back loop."""

import csv
import json

from cisync_lib.correlation import (
    AliasMap,
    CorrelationReport,
    Correlator,
    CorrelatorConfig,
    InMemoryUserDirectory,
    ObservedName,
    ReasonCode,
    Status,
)
from cisync_lib.correlation._report import REPORT_FIELDNAMES

from .conftest import user

USERS = [
    user("U4", "jdoe", "jdoe@contoso.com"),
    user("U1", "dup1", "dup@contoso.com"),
    user("U2", "dup2", "dup@contoso.com"),
]
NAMES = [
    ObservedName(raw="jdoe@contoso.com", context={"app": "Dropbox", "stream": "s1"}),
    ObservedName(
        raw="Old.Name@contoso.com",
        context={"app": "Dropbox", "first_seen": "2026-01-02", "last_seen": "2026-01-05"},
    ),
    ObservedName(
        raw="old.name@contoso.com ",
        context={"app": "Box", "first_seen": "2026-01-01", "last_seen": "2026-01-03"},
    ),
    ObservedName(raw="dup@contoso.com"),
    ObservedName(raw='=HYPERLINK("http://x")'),
    ObservedName(raw="N/A"),
]


def run(alias_map=None):
    return Correlator(CorrelatorConfig(), alias_map=alias_map).resolve(
        NAMES, InMemoryUserDirectory(USERS)
    )


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_rows_one_per_distinct_unmatched_identifier(tmp_path):
    """Matched names are left out; duplicates collapse with counts, examples and merged context."""
    path = tmp_path / "unmatched.csv"
    CorrelationReport.from_results(run()).write_csv(path)
    rows = read_csv(path)
    assert tuple(rows[0]) == REPORT_FIELDNAMES
    # the formula-like name is stored with a leading quote (see test_formula_cells_are_neutralised)
    assert [r["normalized"] for r in rows] == [
        "old.name@contoso.com",
        "dup@contoso.com",
        '\'=hyperlink("http://x")',
        "n/a",
    ]
    old = rows[0]
    assert old["occurrences"] == "2"
    assert old["raw_examples"] == "Old.Name@contoso.com; old.name@contoso.com "
    assert (old["app"], old["first_seen"], old["last_seen"]) == (
        "Dropbox;Box",
        "2026-01-01",
        "2026-01-05",
    )
    assert (old["reason_code"], old["strategies_tried"]) == (
        "NO_CANDIDATE",
        "email:0;upn_user_name:0",
    )
    assert (old["target_field"], old["target_value"], old["action"]) == ("", "", "")
    dup = rows[1]
    assert dup["reason_code"] == "AMBIGUOUS_DUPLICATE"
    assert (
        dup["candidates"]
        == "U1|dup1|dup@contoso.com|true|sys_user; U2|dup2|dup@contoso.com|true|sys_user"
    )
    assert dup["strategies_tried"] == "email:2(ambiguous);upn_user_name:0"


def test_formula_cells_are_neutralised(tmp_path):
    """A name that looks like a spreadsheet formula is written with a leading quote."""
    path = tmp_path / "unmatched.csv"
    CorrelationReport.from_results(run()).write_csv(path)
    text = path.read_text(encoding="utf-8")
    assert "'=hyperlink" in text
    assert ",=" not in text


def test_summary_counts_and_match_rate():
    """Counts per status, reason and strategy; match rate excludes skipped names."""
    summary = CorrelationReport.from_results(run()).summary()
    assert summary.total == 5
    assert summary.by_status == {"AMBIGUOUS": 1, "MATCHED": 1, "SKIPPED": 2, "UNMATCHED": 1}
    assert summary.by_reason["NO_CANDIDATE"] == 1
    assert summary.by_strategy == {"email": 1}
    assert summary.match_rate == 1 / 3
    assert "match rate 33.3%" in str(summary)


def test_filled_in_csv_loads_back_as_the_alias_map(tmp_path):
    """An operator fills the blank columns; the same file is the alias map of the next run."""
    path = tmp_path / "unmatched.csv"
    CorrelationReport.from_results(run()).write_csv(path)
    rows = read_csv(path)
    rows[0].update(action="map", target_field="sys_id", target_value="U4", note="renamed")
    rows[1].update(action="map", target_field="user_name", target_value="dup2")
    rows[2].update(action="ignore")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REPORT_FIELDNAMES)
        writer.writeheader()
        writer.writerows(rows)
    aliases = AliasMap.load(path)
    assert len(aliases) == 3
    assert aliases.get('=hyperlink("http://x")').action == "ignore"
    again = {r.parsed.normalized: r for r in run(aliases)}
    assert (again["old.name@contoso.com"].status, again["old.name@contoso.com"].user.sys_id) == (
        Status.MATCHED,
        "U4",
    )
    assert again["dup@contoso.com"].user.sys_id == "U2"
    assert again['=hyperlink("http://x")'].reason is ReasonCode.IGNORED_BY_ALIAS


def test_filled_in_json_loads_back_as_the_alias_map(tmp_path):
    """The JSON form carries the summary and rows; filled-in rows load as an alias map too."""
    path = tmp_path / "unmatched.json"
    CorrelationReport.from_results(run()).write_json(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["summary"]["total"] == 5
    assert data["rows"][0]["raw_examples"] == ["Old.Name@contoso.com", "old.name@contoso.com "]
    data["rows"][0].update(action="map", target_field="email", target_value="jdoe@contoso.com")
    path.write_text(json.dumps(data), encoding="utf-8")
    aliases = AliasMap.load(path)
    assert aliases.get("old.name@contoso.com").target_value == "jdoe@contoso.com"
