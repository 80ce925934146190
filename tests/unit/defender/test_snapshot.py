"""Snapshots: lossless round trips, versioning, errors naming file and JSON path, replay."""

import json
import os
import pickle
import stat
from datetime import datetime, timezone

import pytest
from hypothesis import given

from cisync_lib import (
    AppUser,
    ConfigError,
    DiscoveredApp,
    DiscoveryStream,
    DocumentError,
    SnapshotError,
)
from cisync_lib.defender import DefenderData, SnapshotSource, load_snapshot, save_snapshot
from cisync_lib.defender._data import merge_apps
from tests import strategies as sts

READ_AT = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


def sample() -> DefenderData:
    streams = (
        DiscoveryStream(id="s1", display_name="Global View"),
        DiscoveryStream(id="s2", display_name="Zscaler", anonymize_users=True),
    )
    obs = [
        DiscoveredApp(
            id="1", name="Box", risk_score=9, user_count=2, stream_id="s1", period="P30D"
        ),
        DiscoveredApp(
            id="2", name="Drop", risk_score=3, user_count=1, stream_id="s1", period="P30D"
        ),
        DiscoveredApp(
            id="1", name="Box", risk_score=9, user_count=1, stream_id="s2", period="P30D"
        ),
    ]
    users = {
        "1": (
            AppUser(identifier="a@contoso.com", app_id="1", stream_id="s1"),
            AppUser(identifier="b@contoso.com", app_id="1", stream_id="s1"),
            AppUser(identifier="tok1", app_id="1", stream_id="s2", anonymized=True),
        ),
        "2": (AppUser(identifier="CONTOSO\\c", app_id="2", stream_id="s1"),),
    }
    return DefenderData(streams=streams, apps=merge_apps(obs), users=users, read_at=READ_AT)


@given(sts.defender_data)
def test_round_trip_is_lossless(tmp_path_factory, data):
    """Whatever a read can hold comes back equal from its snapshot."""
    path = tmp_path_factory.mktemp("snap") / "s.json"
    save_snapshot(data, path)
    assert load_snapshot(path) == data


def test_file_is_versioned_private_and_atomic(tmp_path):
    """The file names its format and version, is owner-only, and leaves no temp file."""
    path = tmp_path / "snap.json"
    save_snapshot(sample(), path)
    doc = json.loads(path.read_text("utf-8"))
    assert (doc["format"], doc["version"]) == ("cisync-defender-snapshot", 1)
    assert doc["data"]["apps"][0]["app"]["displayName"] == "Box"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["snap.json"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[]", "expected a JSON object @ $"),
        ('{"format": "other", "version": 1, "data": {}}', "@ $.format"),
        ('{"format": "cisync-defender-snapshot", "version": 9, "data": {}}', "newer"),
        ('{"format": "cisync-defender-snapshot", "version": "1", "data": {}}', "@ $.version"),
        ('{"format": "cisync-defender-snapshot", "version": 1}', "@ $.data"),
    ],
)
def test_bad_files_raise_naming_the_file(tmp_path, content, expected):
    """A bad envelope raises SnapshotError naming the file and where."""
    path = tmp_path / "bad.json"
    path.write_text(content, "utf-8")
    with pytest.raises(SnapshotError) as info:
        load_snapshot(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert isinstance(info.value, DocumentError)
    assert info.value.file == info.value.path == str(path)
    assert str(info.value).startswith(f"snapshot {path}: ")


def test_a_bad_value_is_named_by_its_json_path(tmp_path):
    """A wrong value deep inside names its JSON path with wire names."""
    path = tmp_path / "snap.json"
    save_snapshot(sample(), path)
    doc = json.loads(path.read_text("utf-8"))
    doc["data"]["apps"][1]["observations"][0]["riskScore"] = "high"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(SnapshotError, match=r"\$\.data\.apps\[1\]\.observations\[0\]\.riskScore"):
        load_snapshot(path)
    with pytest.raises(SnapshotError) as info:
        load_snapshot(path)
    assert info.value.json_path == "$.data.apps[1].observations[0].riskScore"


def test_missing_file(tmp_path):
    """A missing file is a SnapshotError, not an OSError."""
    with pytest.raises(SnapshotError, match="cannot read"):
        load_snapshot(tmp_path / "nope.json")


def test_replay_returns_the_recorded_data(tmp_path):
    """With the default options, the snapshot source yields exactly what was saved."""
    path = tmp_path / "snap.json"
    save_snapshot(sample(), path)
    seen = []
    assert SnapshotSource(path).read(progress=seen.append) == sample()
    assert seen[-1].phase == "done"
    assert seen[-1].users_read == 4


def test_replay_narrows_like_a_live_read(tmp_path):
    """Streams and a lower risk score narrow apps, observations and users alike."""
    path = tmp_path / "snap.json"
    save_snapshot(sample(), path)
    data = SnapshotSource(path).read(streams=["Global View"], max_risk_score=5)
    assert [m.id for m in data.apps] == ["2"]
    assert data.users == {"2": sample().users["2"]}
    assert data.max_risk_score == 5
    no_users = SnapshotSource(path).read(include_users=False)
    assert (no_users.users, no_users.users_read) == ({}, False)


def test_replay_drops_users_of_an_observation_the_risk_filter_dropped(tmp_path):
    """A live read with the lower risk score never lists the app in that stream, so never
    reads its users there; the replay must not keep them either."""
    streams = (
        DiscoveryStream(id="s1", display_name="Global View"),
        DiscoveryStream(id="s2", display_name="Zscaler"),
    )
    obs = [
        DiscoveredApp(id="1", name="Box", risk_score=3, user_count=1, stream_id="s1"),
        DiscoveredApp(id="1", name="Box", risk_score=7, user_count=1, stream_id="s2"),
    ]
    users = {
        "1": (
            AppUser(identifier="a@contoso.com", app_id="1", stream_id="s1"),
            AppUser(identifier="b@contoso.com", app_id="1", stream_id="s2"),
        )
    }
    path = tmp_path / "snap.json"
    save_snapshot(DefenderData(streams=streams, apps=merge_apps(obs), users=users), path)
    data = SnapshotSource(path).read(max_risk_score=5)
    assert [o.stream_id for m in data.apps for o in m.observations] == ["s1"]
    assert [u.identifier for u in data.users["1"]] == ["a@contoso.com"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"period": "P90D"}, "holds P30D"),
        ({"period": 30}, None),
        ({"include_app_info": True}, "without catalog info"),
    ],
)
def test_replay_refuses_what_was_not_recorded(tmp_path, kwargs, expected):
    """Asking for more than the snapshot holds raises instead of returning less."""
    path = tmp_path / "snap.json"
    save_snapshot(sample(), path)
    if expected is None:
        assert SnapshotSource(path).read(**kwargs) == sample()
        return
    with pytest.raises(SnapshotError, match=expected):
        SnapshotSource(path).read(**kwargs)


def test_replay_refuses_an_incomplete_or_narrower_snapshot(tmp_path):
    """An incomplete read, or one without users or riskier apps, is refused on replay."""
    import attrs

    path = tmp_path / "snap.json"
    save_snapshot(attrs.evolve(sample(), complete=False), path)
    with pytest.raises(SnapshotError, match="incomplete"):
        SnapshotSource(path).read()
    save_snapshot(attrs.evolve(sample(), users_read=False, users={}, max_risk_score=5), path)
    with pytest.raises(SnapshotError, match="without users"):
        SnapshotSource(path).read(max_risk_score=5)
    with pytest.raises(SnapshotError, match="risk score 5"):
        SnapshotSource(path).read(include_users=False)
    with pytest.raises(ConfigError, match="no stream"):
        SnapshotSource(path).read(include_users=False, max_risk_score=5, streams=["x"])


def test_data_pickles_without_secrets():
    """DefenderData holds no connection details, so it pickles (multiprocessing)."""
    assert pickle.loads(pickle.dumps(sample())) == sample()
