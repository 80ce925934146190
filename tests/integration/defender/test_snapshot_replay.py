"""A live read saved and replayed: the same models, the same downstream view."""

import attrs

from cisync_lib.defender import (
    DefenderSource,
    GraphSource,
    SnapshotSource,
    load_snapshot,
    save_snapshot,
)

from .conftest import graph_connection
from .truth import assert_matches, truth


def downstream(source: DefenderSource, **options):
    """What the sync consumes from a source: apps, catalog info, users by app, completeness."""
    data = source.read(**options)
    return (
        [(m.app, m.observations) for m in data.apps],
        dict(data.app_info),
        {app_id: data.identifiers(app_id) for app_id in data.users},
        {app_id: [u.anonymized for u in users] for app_id, users in data.users.items()},
        data.complete,
        data.users_read,
    )


def test_snapshot_of_a_live_read_replays_identically(sb, tmp_path):
    """Save, load, replay: equal data, equal downstream view, still equal to ground truth."""
    path = tmp_path / "contoso.json"
    options = {"period": 90, "max_risk_score": 8, "include_app_info": True}
    with GraphSource(graph_connection(sb)) as live:
        data = live.read(**options)
        save_snapshot(data, path)
        live_view = downstream(live, **options)
    replay = SnapshotSource(path)
    assert load_snapshot(path) == data
    assert replay.read(**options) == data
    assert downstream(replay, **options) == live_view
    assert_matches(replay.read(**options), truth(sb.tenant, "P90D", max_risk=8))


def test_replay_narrows_like_the_live_source(sb, tmp_path):
    """A narrower replay equals a live read made with the same narrower options."""
    path = tmp_path / "all.json"
    with GraphSource(graph_connection(sb)) as live:
        save_snapshot(live.read(period=30), path)
        stream = next(s for s in sb.tenant.streams if not s.is_snapshot and s.anonymize_users)
        narrow = {"period": 30, "max_risk_score": 4, "streams": [stream.display_name]}
        want = live.read(**narrow)
    got = SnapshotSource(path).read(**narrow)
    assert attrs.evolve(got, read_at=want.read_at) == want
