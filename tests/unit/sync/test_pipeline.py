"""Pure steps of a job: guard verdicts, links and unmatched users from correlation results."""

from __future__ import annotations

import pytest

from cisync_lib import SnUser
from cisync_lib.cmdb import GuardReport
from cisync_lib.correlation import Correlator, InMemoryUserDirectory
from cisync_lib.sync._report import guard_decisions
from cisync_lib.sync._users import links_from, unmatched_users


@pytest.mark.parametrize(
    ("retire", "force", "verdict"),
    [(1, False, "within"), (2, False, "refused"), (2, True, "forced")],
)
def test_guard_verdicts(retire, force, verdict):
    # 2 of 10 is 20%, over a 10% limit; 1 of 10 is exactly at it
    guard = GuardReport(retire_count=retire, managed_apps=10, max_retire_percent=10.0)
    decisions = guard_decisions(guard, force=force)
    assert decisions[0].verdict == verdict
    assert decisions[1].verdict == "within"
    assert decisions[0].percent == pytest.approx(10.0 * retire)


def test_links_and_unmatched_follow_each_name_to_its_app():
    users = [SnUser(sys_id="u1", user_name="jdoe", email="jdoe@contoso.com")]
    names = ["jdoe@contoso.com", "JDOE@contoso.com", "nobody@fabrikam.com", "nobody@fabrikam.com"]
    owners = ["a1", "a2", "a1", "a2"]
    results = Correlator().resolve_each(names, InMemoryUserDirectory(users))
    assert links_from(results, owners) == {"a1": {"u1"}, "a2": {"u1"}}
    (missed,) = unmatched_users(results, owners, {"a1": "Box", "a2": "Dropbox"})
    assert missed.identifier == "nobody@fabrikam.com"
    assert missed.reason == "NO_CANDIDATE"
    assert missed.apps == ("Box", "Dropbox")
