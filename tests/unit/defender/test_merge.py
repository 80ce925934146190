"""Merging apps across streams, grouping users, choosing streams and periods."""

from datetime import datetime, timezone

import pytest

from cisync_lib import AppUser, ConfigError, DiscoveredApp, DiscoveryStream
from cisync_lib.defender._data import merge_apps, merge_by_app
from cisync_lib.defender._reader import normalize_period, select_streams


def ts(day):
    return datetime(2026, 11, day, tzinfo=timezone.utc)


def app(stream, **kw):
    base = {"id": "10", "name": "Box", "risk_score": 8, "stream_id": stream, "period": "P30D"}
    return DiscoveredApp(**{**base, **kw})


def test_merge_keeps_per_stream_observations_and_takes_latest_fields():
    """The merged view takes the latest observation's fields, max counts, union of domains."""
    a = app("s1", name="Box old", last_seen=ts(1), user_count=5, domains=("a",), tags=("X",))
    b = app("s2", name="Box", last_seen=ts(9), user_count=3, domains=("b", "a"), device_count=2)
    c = app("s1", id="9", name="Other")
    merged = merge_apps([a, c, b, app("s2", id="x1"), app("s2", id="100")])
    assert [m.id for m in merged] == ["9", "10", "100", "x1"]
    box = merged[1]
    assert box.observations == (a, b)
    assert box.stream_ids == ("s1", "s2")
    assert box.app.name == "Box"
    assert box.app.last_seen == ts(9)
    assert box.app.user_count == 5
    assert box.app.domains == ("b", "a")
    assert box.app.tags == ("X",)
    assert box.app.device_count == 2
    assert box.app.stream_id is None


def test_merge_ties_and_missing_last_seen_go_to_the_earlier_stream():
    """Without a newer last-seen, the first stream's observation wins."""
    a = app("s1", name="First")
    b = app("s2", name="Second")
    assert merge_apps([a, b])[0].app.name == "First"
    assert merge_apps([b, app("s3", name="Seen", last_seen=ts(2))])[0].app.name == "Seen"


def test_users_are_grouped_by_app_keeping_each_stream():
    """Same identifier in two streams stays twice (each with its stream's flag); repeats go."""
    users = [
        AppUser(identifier="a@x", app_id="1", stream_id="s1"),
        AppUser(identifier="a@x", app_id="1", stream_id="s2", anonymized=True),
        AppUser(identifier="a@x", app_id="1", stream_id="s1"),
        AppUser(identifier="A@x", app_id="1", stream_id="s1"),
        AppUser(identifier="b@x", app_id="2", stream_id="s1"),
    ]
    grouped = merge_by_app(users, lambda u: u.identifier)
    assert [(u.identifier, u.stream_id) for u in grouped["1"]] == [
        ("a@x", "s1"),
        ("a@x", "s2"),
        ("A@x", "s1"),
    ]
    assert list(grouped) == ["1", "2"]


STREAMS = (
    DiscoveryStream(id="s1", display_name="Global View"),
    DiscoveryStream(id="s2", display_name="Snap", is_snapshot=True),
    DiscoveryStream(id="s3", display_name="MDE"),
)


def test_all_non_snapshot_streams_by_default():
    """Snapshot reports are skipped unless named."""
    assert [s.id for s in select_streams(STREAMS, None)] == ["s1", "s3"]


def test_streams_by_id_or_name_in_the_given_order():
    """Streams may be chosen by id or name; duplicates collapse."""
    assert [s.id for s in select_streams(STREAMS, ["MDE", "s2", "s3"])] == ["s3", "s2"]
    assert [s.id for s in select_streams(STREAMS, "Global View")] == ["s1"]


@pytest.mark.parametrize("empty", [[], (), ""])
def test_an_empty_stream_selection_is_refused(empty):
    """An empty list selects nothing: refused, never an empty (and so "complete") read."""
    with pytest.raises(ConfigError, match="streams"):
        select_streams(STREAMS, empty)


def test_unknown_stream_lists_the_known_ones():
    """A stream that does not exist is a ConfigError listing what exists."""
    with pytest.raises(ConfigError, match=r"no stream .*Nope.*Global View \(s1\)"):
        select_streams(STREAMS, ["Nope"])


@pytest.mark.parametrize(
    ("given", "period"),
    [(7, "P7D"), (30, "P30D"), (90, "P90D"), ("p90d", "P90D"), ("30", "P30D")],
)
def test_periods_from_report_time_frame(given, period):
    """report_time_frame days map onto Graph's periods."""
    assert normalize_period(given) == period


@pytest.mark.parametrize("given", [14, "P1D", "", 0])
def test_unknown_periods_are_refused(given):
    """Only 7, 30 and 90 days exist."""
    with pytest.raises(ConfigError, match="period"):
        normalize_period(given)
