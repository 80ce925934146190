"""The partial outcome: its one-line summary, the report's counts, rendering and round trip."""

from datetime import datetime, timezone

import pytest

from cisync_lib import CisyncError
from cisync_lib.sync import SyncReport
from cisync_lib.sync._users import Unevaluated

NOW = datetime(2026, 12, 6, 2, 15, tzinfo=timezone.utc)


def unevaluated(**kw):
    values = {
        "apps": frozenset({"1", "2"}),
        "links": 2753,
        "identifiers": 900,
        "lookups": 27,
        "lookups_failed": 3,
        "hidden_rows": 0,
        "lookups_short": 0,
        "hidden_values": 0,
        "statuses": ("HTTP 500",),
        "tries": 3,
    }
    values.update(kw)
    return Unevaluated(**values)


def test_the_summary_line_of_failed_lookups():
    assert unevaluated().summary() == (
        "2,753 links not evaluated: 3 of 27 sys_user lookups failed (HTTP 500) after 3 tries; "
        "re-run to complete"
    )


def test_a_refusal_is_not_said_to_have_been_tried_again():
    text = unevaluated(statuses=("HTTP 403",)).summary()
    assert "failed (HTTP 403); re-run" in text
    assert "tries" not in text


def test_the_summary_line_of_hidden_rows_says_what_to_grant():
    text = unevaluated(lookups_failed=0, hidden_rows=4, hidden_values=3, lookups_short=2).summary()
    assert text == (
        "2,753 links not evaluated: 3 looked-up value(s) match 4 sys_user row(s) that read "
        "ACLs hide from the integration user; grant the integration user read access to every "
        "sys_user row, then re-run to complete"
    )


def report(**kw):
    kw.setdefault("written", {"add_link": 5, "create_app": 2})
    return SyncReport(
        connection="contoso",
        destination="test",
        environment="test",
        mode="apply",
        outcome="partial",
        started_at=NOW,
        finished_at=NOW,
        counts={"add_link": 5, "create_app": 2},
        partial=unevaluated().to_dict(held_links=12),
        **kw,
    )


def test_a_partial_report_says_so_and_round_trips():
    rep = report()
    assert not rep.ok
    first = rep.summary().splitlines()[0]
    assert first.startswith("contoso -> test (TEST): PARTIAL, 7 write(s); 2,753 links not")
    assert "Changes (written): 2 apps created, 5 links created" in rep.summary()
    assert "PARTIAL" in rep._repr_html_()
    again = SyncReport.from_dict(rep.to_dict())
    assert again == rep
    assert again.partial["existing_links_kept"] == 12
    assert again.partial["sys_user_lookups_failed"] == 3
    with pytest.raises(CisyncError, match="2,753 links not evaluated"):
        rep.raise_for_outcome()


def test_a_partial_dry_run_wrote_nothing():
    rep = report(written={})
    dry = SyncReport.from_dict({**rep.to_dict(), "mode": "dry_run"})
    assert "PARTIAL, dry run, nothing written" in dry.summary()
    assert "Changes (planned)" in dry.summary()
