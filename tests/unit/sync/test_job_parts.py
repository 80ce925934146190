"""A job's parts replaced in Python (issue 15, item 9): copies, the original unchanged; no HTTP.

The oracle is the documented contract: the copy holds the given part (or a correlator
with the job's rules and alias map and exactly the given chain), everything else is
the original's, and the original still holds what it held.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from attrs import frozen

from cisync_lib import SnUser, UnknownStrategyError
from cisync_lib.correlation import (
    AliasEntry,
    AliasMap,
    Correlator,
    CorrelatorConfig,
    InMemoryUserDirectory,
    LookupKey,
    ParsedName,
    StrategyOutcome,
    Tier,
)
from cisync_lib.defender import SnapshotSource
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection
from cisync_lib.settings import ConnectionSettings
from cisync_lib.sync import Destination, SyncJob
from cisync_lib.typing import CandidateIndex

RULES = CorrelatorConfig(domain_aliases={"contoso.onmicrosoft.com": "contoso.com"})
ALIASES = AliasMap([AliasEntry(source="bob", target_field="user_name", target_value="robert")])


@frozen
class EmployeeNumber:
    """``E004712@contractors.example`` -> the user whose ``employee_number`` is ``004712``."""

    name: str = "employee_number"
    confidence: float = 0.9

    def applies_to(self, parsed: ParsedName) -> bool:
        return parsed.normalized.endswith("@contractors.example")

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        return (LookupKey(field="employee_number", value=parsed.normalized[1:7]),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))


def _job() -> SyncJob:
    conn = ServiceNowConnection("https://x.invalid", auth=BasicAuth(username="u", password="p"))
    return SyncJob(
        source=None,
        destination=Destination(name="test", environment="test", connection=conn),
        settings=ConnectionSettings(connection="contoso"),
        correlation=Correlator(config=RULES, alias_map=ALIASES),
    )


def _chain(job: SyncJob) -> list[str]:
    return [step.name for step in job.correlator.chain]


def _everything_but(job: SyncJob, *names: str) -> dict[str, object]:
    public = ("source", "destination", "settings", "effective", "relationships", "correlator",
              "cmdb_config", "state_dir", "streams", "progress", "lock_wait")  # fmt: skip
    return {name: getattr(job, name) for name in public if name not in names}


def test_with_correlator_returns_a_new_job_and_leaves_the_original_alone():
    job = _job()
    before = job.correlator
    replacement = Correlator(strategies=["email"])
    new = job.with_correlator(replacement)
    assert new is not job
    assert new.correlator is replacement
    assert job.correlator is before
    assert _chain(job) == ["alias_map", "email_upn", "domain_alias"]
    shared = _everything_but(job, "correlator")
    assert all(getattr(new, k) is v for k, v in shared.items())


def test_with_strategies_keeps_the_rules_and_the_alias_map_and_takes_the_chain():
    job = _job()
    new = job.with_strategies(["email", [EmployeeNumber(), "upn_user_name"]])
    # the alias map stays first (the chain does not place it); then exactly the given steps
    assert _chain(new) == ["alias_map", "email", "employee_number+upn_user_name"]
    assert isinstance(new.correlator.chain[2], Tier)
    assert new.correlator.config is RULES
    assert new.correlator.alias_map is ALIASES
    assert _chain(job) == ["alias_map", "email_upn", "domain_alias"]
    assert all(getattr(new, k) is v for k, v in _everything_but(job, "correlator").items())


def test_the_new_chain_is_the_one_that_resolves():
    ann = SnUser(
        sys_id="1" * 32,
        user_name="ann",
        email="ann@contoso.com",
        extra={"employee_number": "004712"},
    )
    directory = InMemoryUserDirectory([ann])
    name = "E004712@contractors.example"
    job = _job()
    new = job.with_strategies(["email_upn", EmployeeNumber()])
    assert new.correlator.resolve([name], directory)[0].user == ann
    assert job.correlator.resolve([name], directory)[0].user is None


def test_with_strategies_refuses_an_unknown_name():
    with pytest.raises(UnknownStrategyError):
        _job().with_strategies(["nope"])
    with pytest.raises(UnknownStrategyError):  # import paths are not names (no longer read)
        _job().with_strategies(["tests.unit.sync.test_job_parts:employee_number"])


def test_with_source_returns_a_new_job_and_leaves_the_original_alone(tmp_path):
    job = _job()
    source = SnapshotSource(tmp_path / "snapshot.json")
    new = job.with_source(source)
    assert new.source is source
    assert job.source is None
    assert all(getattr(new, k) is v for k, v in _everything_but(job, "source").items())
    assert new.with_source(None).source is None
    assert new.source is source


def test_a_copy_keeps_its_own_progress_bookkeeping():
    job = _job()
    job._tell("read", 3, 10)
    new = job.with_source(None)
    assert new._totals == {}
    new._tell("read", 1, 5)
    assert job._totals == {"read": 10}
