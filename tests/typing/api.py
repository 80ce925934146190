"""Never executed: mypy --strict checks that an embedder's use of the public API type-checks."""

from __future__ import annotations

from datetime import datetime, timezone

import cisync_lib
from cisync_lib import (
    AppUser,
    CisyncError,
    DefenderPayloadError,
    DiscoveredApp,
    SnUser,
    make_converter,
    structure_payload,
)
from cisync_lib.correlation import ReasonCode, Status


def read_page(payload: object) -> list[DiscoveredApp]:
    conv = make_converter(strict=False)
    try:
        return structure_payload(payload, list[DiscoveredApp], converter=conv)
    except DefenderPayloadError as exc:
        problems: list[str] = list(exc.problems)
        raise CisyncError(message="; ".join(problems)) from exc


def newest(apps: list[DiscoveredApp]) -> datetime:
    seen = [a.last_seen for a in apps if a.last_seen is not None]
    return max(seen, default=datetime(1970, 1, 1, tzinfo=timezone.utc))


def user_for(row: dict[str, str]) -> SnUser:
    return SnUser.from_row(row)


def describe(user: AppUser, status: Status, reason: ReasonCode) -> str:
    return f"{user.identifier}: {status.value}/{reason.value} ({cisync_lib.__version__})"


def correlate(names: list[str], users: list[SnUser], path: str) -> dict[str, str | None]:
    from cisync_lib.correlation import (
        AliasMap,
        CorrelationReport,
        Correlator,
        CorrelatorConfig,
        EmailStrategy,
        InMemoryUserDirectory,
        MatchResult,
    )

    config = CorrelatorConfig.from_mapping({"plus_tag_domains": ["contoso.com"]})
    correlator = Correlator(
        config, alias_map=AliasMap.load(path), strategies=["email_upn", EmailStrategy()]
    )
    results: list[MatchResult] = correlator.resolve(names, InMemoryUserDirectory(users))
    CorrelationReport.from_results(results).write_csv(path + ".csv")
    rate: float = CorrelationReport.from_results(results).summary().match_rate
    assert rate >= 0
    return {
        r.input.raw: r.user.sys_id if r.user else None
        for r in results
        if r.status is Status.MATCHED
    }
