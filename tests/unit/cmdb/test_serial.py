"""Plan JSON round trip, readable rendering, and the run-state file."""

import json
from datetime import datetime, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cisync_lib import DocumentError, PlanError, PlanFileError
from cisync_lib.cmdb import (
    GuardReport,
    Plan,
    RunState,
    RunStateStore,
    dump_plan,
    load_plan,
    make_plan,
    plan_from_json,
    plan_to_json,
    render_plan,
)
from cisync_lib.cmdb._actions import (
    AddLink,
    CreateApp,
    CreateVendor,
    FieldChange,
    PendingRemoval,
    RemoveLink,
    RetireApp,
    UpdateApp,
)
from cisync_lib.cmdb._runstate import MissEntry
from cisync_lib.cmdb._state import ReadScope

from .helpers import NOW, app, desired, state

text = st.text(max_size=12)
ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
times = st.datetimes(timezones=st.just(timezone.utc))
changes = st.lists(st.builds(FieldChange, field=text, old=text, new=text), max_size=3).map(tuple)
small = st.dictionaries(text, text, max_size=3)
entries = st.dictionaries(
    text,
    st.builds(
        MissEntry,
        first_missed_at=times,
        misses=st.integers(0, 99),
        last_run=st.integers(0, 99),
    ),
    max_size=2,
)


def tup(strategy):
    return st.lists(strategy, max_size=3).map(tuple)


plans = st.builds(
    Plan,
    fingerprint=ids,
    created_at=times,
    app_class=text,
    link_table=text,
    rel_type=st.none() | ids,
    scope=st.builds(
        ReadScope, app_names=tup(text), vendor_names=tup(text), read_links=st.booleans()
    ),
    vendors=tup(st.builds(CreateVendor, sys_id=ids, name=text)),
    creates=tup(st.builds(CreateApp, sys_id=ids, app_id=text, values=small)),
    updates=tup(
        st.builds(
            UpdateApp,
            sys_id=ids,
            app_id=text,
            name=text,
            changes=changes,
            adopted=st.booleans(),
            revived=st.booleans(),
        )
    ),
    retires=tup(
        st.builds(RetireApp, sys_id=ids, app_id=text, name=text, changes=changes, reason=text)
    ),
    unchanged_apps=tup(text),
    add_links=tup(st.builds(AddLink, app_id=text, ci=ids, user=ids, new_app=st.booleans())),
    remove_links=tup(st.builds(RemoveLink, sys_id=ids, ci=ids, user=ids, app_id=text, reason=text)),
    unchanged_links=st.dictionaries(text, st.integers(0, 9), max_size=3),
    pending=tup(
        st.builds(
            PendingRemoval,
            kind=text,
            key=text,
            app_id=text,
            missed_runs=st.integers(0, 9),
            first_missed_at=times,
        )
    ),
    guard=st.builds(
        GuardReport,
        retire_count=st.integers(0, 9),
        managed_apps=st.integers(0, 9),
        unlink_count=st.integers(0, 9),
        managed_links=st.integers(0, 9),
    ),
    warnings=tup(text),
    run_state=st.builds(
        RunState,
        completed_runs=st.integers(0, 9),
        integration_user=st.none() | text,
        missing_apps=entries,
        missing_links=entries,
    ),
    instance_url=st.none() | text,
    environment=st.none() | st.sampled_from(["test", "prod"]),
)


@settings(max_examples=40)
@given(plans)
def test_plan_json_round_trip(plan):
    data = json.loads(json.dumps(plan_to_json(plan)))
    assert plan_from_json(data) == plan


def test_plan_file_round_trip(tmp_path):
    plan = make_plan(desired([app(1)], {"1": ["a" * 32]}), state(), now=NOW)
    dump_plan(plan, tmp_path / "plan.json")
    assert load_plan(tmp_path / "plan.json") == plan


def test_a_plan_file_records_the_destination_and_is_version_2(tmp_path):
    plan = make_plan(desired([app(1)]), state(), now=NOW)
    stamped = attrs.evolve(plan, instance_url="https://sn.example", environment="test")
    dump_plan(stamped, tmp_path / "plan.json")
    saved = json.loads((tmp_path / "plan.json").read_text("utf-8"))
    assert (saved["format"], saved["version"]) == ("cisync-cmdb-plan", 2)
    assert (saved["plan"]["instance_url"], saved["plan"]["environment"]) == (
        "https://sn.example",
        "test",
    )
    assert load_plan(tmp_path / "plan.json") == stamped


def test_a_version_1_plan_file_is_refused_with_plan_again(tmp_path):
    """Version 1 recorded no destination: it cannot be checked, so it is not applied."""
    data = plan_to_json(make_plan(desired([app(1)]), state(), now=NOW))
    data["version"] = 1
    del data["plan"]["instance_url"], data["plan"]["environment"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert info.value.json_path == "$.version"
    assert info.value.problem.startswith("unsupported version 1")
    assert info.value.problem.endswith("; plan again")


def test_bad_plan_names_the_path():
    data = plan_to_json(make_plan(desired([app(1)]), state(), now=NOW))
    data["plan"]["creates"][0]["values"] = 3
    with pytest.raises(PlanError, match=r"\$\.plan\.creates\[0\]\.values"):
        plan_from_json(data, source="plan.json")
    with pytest.raises(PlanError, match=r"not a cisync-cmdb-plan document @ \$\.format"):
        plan_from_json({"plan": {}})


def test_render_is_readable():
    plan = make_plan(desired([app(1), app(2)], {"1": ["a" * 32]}), state(), now=NOW)
    text = render_plan(plan)
    assert "+ create   'App 1' (mdca:app:1)" in text
    assert "+ link     app 1" in text
    assert "guard: retire 0/0" in text
    assert render_plan(plan, limit=1).count("+ create") == 1


def test_run_state_file(tmp_path):
    store = RunStateStore(tmp_path / "job" / "cmdb-run-state.json")
    assert store.load() == RunState()
    state_ = RunState(
        completed_runs=4,
        integration_user="me",
        missing_apps={"7": MissEntry(first_missed_at=NOW, misses=2, last_run=4)},
    )
    store.save(state_)
    assert store.load() == state_
    assert [p.name for p in store.path.parent.iterdir()] == ["cmdb-run-state.json"]  # no temp left


def test_run_state_file_is_a_marked_document_with_utc_z_timestamps(tmp_path):
    store = RunStateStore(tmp_path / "cmdb-run-state.json")
    store.save(RunState(missing_apps={"7": MissEntry(first_missed_at=NOW, last_run=1)}))
    saved = json.loads(store.path.read_text("utf-8"))
    assert (saved["format"], saved["version"]) == ("cisync-cmdb-run-state", 2)
    assert saved["missing_apps"]["7"]["first_missed_at"] == "2026-11-27T10:00:00Z"


def test_run_state_written_before_the_marker_still_loads(tmp_path):
    """Version 2 files without a format marker and with ``+00:00`` stamps load as before."""
    path = tmp_path / "rs.json"
    entry = {"first_missed_at": "2026-11-27T10:00:00+00:00", "misses": 2, "last_run": 3}
    path.write_text(json.dumps({"version": 2, "completed_runs": 3, "missing_apps": {"7": entry}}))
    loaded = RunStateStore(path).load()
    assert loaded.missing_apps["7"] == MissEntry(first_missed_at=NOW, misses=2, last_run=3)


def test_plan_file_errors_are_plan_and_document_errors(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"format": "cisync-cmdb-plan", "version": 7, "plan": {}}')
    with pytest.raises(PlanFileError) as info:
        load_plan(path)
    assert isinstance(info.value, DocumentError)
    assert (info.value.file, info.value.json_path) == (str(path), "$.version")
    assert str(info.value).startswith(f"plan {path}: format version 7 is newer")
    path.write_text("{")
    with pytest.raises(PlanFileError, match="not valid JSON"):
        load_plan(path)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("{", None),
        ('{"version": 9}', "$.version"),
        ('{"version": 1, "completed_runs": -1}', "$.completed_runs"),
        ('{"version": 1, "missing_apps": {"7": ["nope", 1]}}', "$.missing_apps['7']"),
        ('{"version": 2, "missing_links": {"a:b": {"misses": 1}}}', "$.missing_links['a:b']"),
        (
            '{"version": 2, "missing_apps": {"7": ["2026-01-01T00:00:00", 1]}}',
            "$.missing_apps['7']",
        ),
        ('{"format": "cisync-cmdb-plan", "version": 2}', "$.format"),
    ],
)
def test_run_state_errors_name_file_and_key(tmp_path, content, key):
    path = tmp_path / "rs.json"
    path.write_text(content)
    with pytest.raises(DocumentError) as info:
        RunStateStore(path).load()
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"run state {path}: ")
    if key:
        assert info.value.json_path == key


def test_miss_entry_counts_only_committed_misses():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    entry = MissEntry.first(start, 5)  # run 5 (completed_runs 4) missed it
    assert entry.committed_misses(4) == 0  # run 5 has not committed yet
    assert entry.committed_misses(5) == 1
    assert entry.missed_again(6, 5) == MissEntry(first_missed_at=start, misses=2, last_run=6)
    # run 5 crashed and run 5 is planned again: its miss is counted once, not twice
    assert entry.missed_again(5, 4) == entry
    # a run that did not observe the item drops an uncommitted miss and keeps the rest
    assert entry.carried(4) == MissEntry(first_missed_at=start, misses=0, last_run=4)
    assert entry.carried(5) is entry


def test_version_1_run_state_still_loads(tmp_path):
    path = tmp_path / "cmdb-run-state.json"
    path.write_text(
        '{"version": 1, "completed_runs": 12, "integration_user": "cisync.integration",'
        ' "missing_apps": {"11114": ["2026-11-20T02:00:00+00:00", 11]},'
        ' "missing_links": {"c:u": ["2026-11-27T02:00:00+00:00", 13]}}'
    )
    loaded = RunStateStore(path).load()
    assert loaded.completed_runs == 12
    assert loaded.integration_user == "cisync.integration"
    # first missed by run 11, runs 11 and 12 committed: two misses
    app_entry = loaded.missing_apps["11114"]
    assert app_entry.committed_misses(12) == 2
    assert app_entry.first_missed_at == datetime(2026, 11, 20, 2, tzinfo=timezone.utc)
    # first missed by run 13, which never committed: no miss counted yet
    assert loaded.missing_links["c:u"].committed_misses(12) == 0
    RunStateStore(path).save(loaded)  # written back in the current format
    assert '"version": 2' in path.read_text()
    assert RunStateStore(path).load() == loaded
