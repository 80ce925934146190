"""Alias-map files: CSV, YAML, the filled-in report; validation errors name file and line."""

import datetime as dt
import logging

import pytest

from cisync_lib import AliasMapError
from cisync_lib.correlation import AliasMap

CSV_EXAMPLE = """source_name,action,target_field,target_value,note,owner,reviewed_on,expires
jdoe@contoso.onmicrosoft.com,map,sys_id,6816f79cc0a8016401c5a33be04be441,tenant domain UPN,iam-team,2025-01-10,
CONTOSO\\jdoe.adm,map,user_name,jdoe,admin account of jdoe,iam-team,2025-01-10,2025-07-01
svc-backup@contoso.com,ignore,,,shared service account,iam-team,2025-01-10,
old.name@contoso.com,map,email,new.name@contoso.com,name change 2024,hr-ops,2025-02-01,
"""

YAML_EXAMPLE = """version: 1
defaults: {owner: iam-team}
entries:
  - source: ["jdoe@contoso.onmicrosoft.com", "CONTOSO\\\\jdoe"]   # several spellings, one target
    target: {sys_id: 6816f79cc0a8016401c5a33be04be441}
    note: tenant-domain UPN and down-level name
  - source: "svc-backup@contoso.com"
    action: ignore
    note: shared service account
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_example_from_the_reference_loads(tmp_path):
    """The reference CSV loads; keys are normalised like inputs."""
    aliases = AliasMap.load(write(tmp_path, "a.csv", CSV_EXAMPLE), today=dt.date(2025, 3, 1))
    assert len(aliases) == 4
    entry = aliases.get("contoso\\jdoe.adm")
    assert (entry.action, entry.target_field, entry.target_value, entry.line) == (
        "map",
        "user_name",
        "jdoe",
        3,
    )
    assert entry.expires == dt.date(2025, 7, 1)
    assert aliases.get("svc-backup@contoso.com").action == "ignore"
    assert aliases.expired == ()


def test_yaml_example_from_the_reference_loads(tmp_path):
    """The reference YAML loads: lists of spellings share a target, defaults apply."""
    aliases = AliasMap.load(write(tmp_path, "a.yaml", YAML_EXAMPLE))
    first = aliases.get("jdoe@contoso.onmicrosoft.com")
    second = aliases.get("contoso\\jdoe")
    assert first.target_value == second.target_value == "6816f79cc0a8016401c5a33be04be441"
    assert (first.owner, first.line) == ("iam-team", 4)
    assert aliases.get("svc-backup@contoso.com").line == 7


def test_expired_rows_are_logged_and_still_apply(tmp_path, caplog):
    """A row past its expiry date is warned about (logged), and still applies."""
    path = write(tmp_path, "a.csv", CSV_EXAMPLE)
    with caplog.at_level(logging.WARNING, logger="cisync_lib.correlation._aliasmap"):
        aliases = AliasMap.load(path, today=dt.date(2026, 1, 1))
    assert [e.source for e in aliases.expired] == ["contoso\\jdoe.adm"]
    assert aliases.get("contoso\\jdoe.adm") is not None
    assert any(
        f"{path}:3" in r.getMessage() and "expired" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("source_name,action,target\nx@y.com,map,z\n", 1, "unknown column 'target'"),
        (
            "source_name,action,target_field,target_value\nx@y.com,map,employee_id,1\n",
            2,
            "unknown target_field",
        ),
        (
            "source_name,action,target_field,target_value\nx@y.com,link,sys_id,1\n",
            2,
            "unknown action 'link'",
        ),
        (
            "source_name,action,target_field,target_value\nx@y.com,map,sys_id,\n",
            2,
            "needs a target_value",
        ),
        (
            "source_name,action,target_field,target_value\nx@y.com,ignore,sys_id,1\n",
            2,
            "takes no target",
        ),
        (
            "source_name,action,target_field,target_value,expires\nx@y.com,map,sys_id,1,soon\n",
            2,
            "not a date",
        ),
        (
            "source_name,action,target_field,target_value\na@y.com,map,sys_id,1\nb@y.com,map,sys_id,2\nA@Y.com,map,sys_id,3\n",
            4,
            "already has a different target on line 2",
        ),
    ],
)
def test_csv_validation_errors_name_file_and_line(tmp_path, text, line, problem):
    """Bad columns, fields, actions, values, dates and conflicting duplicates fail with file:line."""
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(AliasMapError) as caught:
        AliasMap.load(path)
    assert caught.value.file == str(path)
    assert caught.value.line == line
    assert problem in str(caught.value)


def test_same_target_twice_is_fine(tmp_path):
    """A repeated key with the same decision is not a conflict."""
    text = "source_name,action,target_field,target_value\na@y.com,map,sys_id,1\nA@y.com ,map,SYS_ID,1\n"
    assert len(AliasMap.load(write(tmp_path, "a.csv", text))) == 1


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            "version: 1\nentries:\n  - source: a@y.com\n    target: {sys_id: 1}\n    colour: red\n",
            3,
            "unknown field 'colour'",
        ),
        (
            "version: 1\nentries:\n  - source: a@y.com\n    target: {employee_id: 1}\n",
            3,
            "unknown target_field",
        ),
        ("version: 1\nentries:\n  - source: a@y.com\n    action: drop\n", 3, "unknown action"),
        ("version: 1\nentries:\n  - source: a@y.com\n", 3, "needs a target"),
        ("version: 1\nwhatever: 1\nentries: []\n", 2, "unknown key 'whatever'"),
        ("version: 2\nentries: []\n", 1, "unsupported version"),
        (
            "version: 1\nentries:\n  - source: a@y.com\n    target: {sys_id: 1}\n  - source: [b@y.com, A@Y.COM]\n    target: {sys_id: 2}\n",
            5,
            "already has a different target on line 3",
        ),
        ("version: 1\nentries: [\n", 3, "invalid YAML"),
    ],
)
def test_yaml_validation_errors_name_file_and_line(tmp_path, text, line, problem):
    """YAML errors point at the entry's line."""
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(AliasMapError) as caught:
        AliasMap.load(path)
    assert (caught.value.file, caught.value.line) == (str(path), line)
    assert problem in str(caught.value)


def test_unknown_file_type(tmp_path):
    """Only .csv, .yaml/.yml and .json are alias maps."""
    with pytest.raises(AliasMapError, match=r"expected a \.csv"):
        AliasMap.load(write(tmp_path, "a.txt", ""))
