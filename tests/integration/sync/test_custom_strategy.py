"""A job from a config with a custom strategy swapped in from Python (issue 15, item 9).

The oracle is how the sandbox tenant was generated: a ``local_account`` identifier
``sam\\DEVICE`` of a person belongs to that person's ``sys_user`` row, whose
``user_name`` is ``sam`` (``IdentityTruth.person``); built-in accounts belong to nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from cisync_lib.correlation import InputKind, LookupKey, ParsedName, StrategyOutcome
from cisync_lib.typing import CandidateIndex, Strategy

from .conftest import PERIOD, continuous_streams, expected_links, make_job, stored_links


@frozen
class LocalLogon:
    """``user\\COMPUTER`` -> the ``sys_user`` whose ``user_name`` is ``user``."""

    name: str = "local_logon"
    confidence: float = 0.85  # above the default 0.8 threshold: a link, not a suggestion

    def applies_to(self, parsed: ParsedName) -> bool:
        return parsed.kind is InputKind.LOCAL_ACCOUNT and bool(parsed.local)

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        return (LookupKey(field="user_name", value=parsed.local or ""),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))


def local_logons(tenant, max_risk_score=10):
    """(app id, raw identifier, sys_user sys_id) of every local logon of a person reported."""
    found = set()
    for stream in continuous_streams(tenant):
        for app in tenant.apps(PERIOD, stream.id):
            if app.risk_score > max_risk_score:
                continue
            for raw in tenant.users(PERIOD, stream.id, app.id):
                truth = tenant.truth[raw]
                if truth.form == "local_account" and truth.person is not None:
                    found.add((app.id, raw, truth.person))
    return found


def test_a_custom_strategy_swapped_into_a_configured_job_links_local_logons(tiny_sandbox, tmp_path):
    assert isinstance(LocalLogon(), Strategy)
    tenant = tiny_sandbox.tenant
    logons = local_logons(tenant)
    recovered = {(app_id, person) for app_id, _, person in logons}
    assert recovered  # the tiny tenant has local logons of people by construction
    assert not recovered <= expected_links(tenant)  # and the default chain misses some

    job = make_job(tiny_sandbox, tmp_path, allow_user_sync=True)
    custom = job.with_strategies(["email_upn", LocalLogon()])
    assert [s.name for s in job.correlator.chain] == ["email_upn"]  # the original is unchanged
    assert job.plan().counts.add_link == len(expected_links(tenant))
    report = custom.run(dry_run=False)
    assert report.outcome == "applied"
    assert stored_links(tiny_sandbox.store) == expected_links(tenant) | recovered
    # one match per distinct identifier, credited to the custom strategy
    assert report.matching["by_strategy"]["local_logon"] == len({raw for _, raw, _ in logons})
