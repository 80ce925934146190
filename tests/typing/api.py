"""Never executed: mypy --strict checks that an embedder's use of the public API type-checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

import attrs

import cisync_lib
from cisync_lib import (
    AppUser,
    CisyncError,
    ConnectionSettings,
    Consent,
    ConsentRequiredError,
    DefenderPayloadError,
    DiscoveredApp,
    EffectiveSettings,
    Environment,
    RelationshipKind,
    RelationshipNotAvailableError,
    SettingsFile,
    SnUser,
    available_relationships,
    check_relationships,
    load_settings,
    make_converter,
    structure_payload,
)
from cisync_lib.correlation import ReasonCode, Status
from cisync_lib.settings import (
    CONSENT_STATEMENT,
    SETTINGS,
    ConnectionTable,
    ConsentRecord,
    EffectiveValue,
    Override,
    SettingChange,
    SettingDiff,
    SettingsDocument,
    Source,
)


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


# --- settings: what an embedder (a scheduler, a web UI, a notebook) does ------------


def prod_filters(path: str, connection: str) -> tuple[int, int, bool]:
    file: SettingsFile = load_settings(path)
    eff: EffectiveSettings = file.connection(connection).effective(Environment.PROD)
    source: Source = eff.source("max_risk_score")
    assert source in ("default", "override")
    return eff.max_risk_score, eff.report_time_frame, eff.allow_user_sync


def enable_user_sync_in_test(path: str, connection: str, who: str) -> SettingsFile:
    file = load_settings(path, missing_ok=True)
    current: ConnectionSettings = file.connection(connection, missing_ok=True)
    changed = current.with_override("test", "allow_user_sync", True)
    changes: tuple[SettingChange, ...] = changed.changes_from(current)
    print("\n".join(str(c) for c in changes))
    try:
        return file.save(changed, consent=None)
    except ConsentRequiredError as exc:
        print(exc.changes)
    return file.save(changed, consent=Consent.now(who))


def review_and_promote(file: SettingsFile, connection: str, keys: list[str] | None) -> SettingsFile:
    settings = file.connection(connection)
    rows: tuple[SettingDiff, ...] = settings.diff(only_differences=False)
    for row in rows:
        before: object = row.b.value
        print(row.name, before, row.a.value, row.differs)
    consent = Consent(by="alice", at=datetime.now(timezone.utc), statement=CONSENT_STATEMENT)
    log: tuple[ConsentRecord, ...] = file.consent_log(connection)
    print(len(log), [spec.allowed for spec in SETTINGS.values()])
    return file.save(settings.promote(keys), consent=consent)


def job_relationships(eff: EffectiveSettings, connection: str) -> list[str]:
    kinds: tuple[RelationshipKind, ...] = available_relationships(eff)
    try:
        check_relationships(
            [RelationshipKind.USER_USES_APP, "Cloud App"], eff, connection=connection
        )
    except RelationshipNotAvailableError as exc:
        print(exc.setting, exc.environment)
    return [kind.value for kind in kinds]


@attrs.frozen(kw_only=True)
class ApiConnection(ConnectionTable):
    api: str | None = None


@attrs.frozen(kw_only=True)
class ApiDocument(SettingsDocument):
    connections: Mapping[str, ApiConnection] = attrs.field(factory=dict)


def extended_document(path: str) -> ApiConnection:
    document = load_settings(path, document_type=ApiDocument).document
    assert isinstance(document, ApiDocument)
    return document.connections["contoso"]


def custom_effective() -> EffectiveSettings:
    value = EffectiveValue(name="max_risk_score", value=4, source="override")
    override: Override = Override(enabled=False, value=4)
    print(override.enabled)
    return EffectiveSettings(environment=Environment.TEST, values={"max_risk_score": value})


def sandbox_oracle() -> int:
    from cisync_lib.sandbox import FaultRule, Sandbox, SandboxConfig, ServiceNowOptions

    config = SandboxConfig(servicenow=ServiceNowOptions(strict_queries=True))
    with Sandbox(config) as sb:
        sys_id: str = sb.store.insert("sys_user", {"user_name": "ada"})
        row: dict[str, str] | None = sb.store.get("sys_user", sys_id)
        print(row, sb.servicenow_url, str(sb.ca_file), sb.connection_info()["servicenow_url"])
        rule: FaultRule = sb.faults.add(FaultRule(kind="status", status=503, retry_after=1))
        mark: int = sb.request_log.mark()
        sb.faults.remove(rule)
        return sb.request_log.round_trips("servicenow", since=mark) + sb.request_log.writes()


def cmdb_sync(url: str, secret: str, state_dir: str) -> int:
    from cisync_lib import ApplyError, GuardRefusedError, ServiceNowRequestError
    from cisync_lib.cmdb import (
        ApplyProgress,
        ApplyResult,
        CmdbConfig,
        DesiredState,
        GracePolicy,
        Plan,
        RunStateStore,
        WritePath,
        apply,
        make_plan,
        read_state,
        render_plan,
    )
    from cisync_lib.servicenow import OAuthClientCredentials, ServiceNowConnection, q_eq

    conn = ServiceNowConnection(url, auth=OAuthClientCredentials("id", secret), verify="ca.pem")
    rows: list[dict[str, str]] = list(conn.query("sys_user", query=q_eq("active", "true")))
    config = CmdbConfig(write_path=WritePath.TABLE, grace=GracePolicy(runs=2))
    links: dict[str, list[str]] = {"11114": [r["sys_id"] for r in rows]}
    desired = DesiredState.build([], {}, links, allow_user_sync=True, config=config)
    state = read_state(conn, config, desired)
    store = RunStateStore(state_dir + "/cmdb-run-state.json")
    plan: Plan = make_plan(desired, state, config, store.load())
    print(render_plan(plan, limit=20))

    def show(p: ApplyProgress) -> None:
        print(p.phase, p.done, p.total)

    try:
        result: ApplyResult = apply(plan, conn, config, state=state, run_state=store, progress=show)
    except GuardRefusedError as exc:
        return exc.count
    except (ApplyError, ServiceNowRequestError):
        return -1
    return result.requests + conn.request_count


def sandbox_defender() -> int:
    from cisync_lib.correlation import ReasonCode, Status
    from cisync_lib.sandbox import (
        DefenderOptions,
        EntraAppCertificate,
        GeneratedTenant,
        IdentityTruth,
        Sandbox,
        SandboxConfig,
        generate_tenant,
    )

    config = SandboxConfig(size="tiny", seed=1, defender=DefenderOptions(graph_page_size=50))
    with Sandbox(config) as sb:
        cert: EntraAppCertificate = sb.client_certificate
        print(sb.authority, sb.tenant_id, sb.client_id, sb.client_secret, cert.thumbprint)
        print(sb.graph_url, sb.graph_scope, sb.mdca_url, sb.mdca_token, str(cert.pfx_path))
        expired: str = sb.issue_access_token("graph", lifetime=-60)
        print(expired, sb.tenant is not None)
    tenant: GeneratedTenant = generate_tenant("tiny", seed=2)
    truth: IdentityTruth = tenant.identifiers("downlevel")[0]
    status: Status = truth.configured.status
    reason: ReasonCode = truth.default.reason
    print(status is Status.MATCHED, reason is ReasonCode.DOMAIN_NOT_ALLOWED)
    print(tenant.correlation_settings["netbios_domains"])
    ids: frozenset[str] = tenant.app_ids("P7D")
    users: tuple[str, ...] = tenant.users("P90D", tenant.streams[0].id, next(iter(ids)))
    return len(users) + len(tenant.sys_users)


def correlate(names: list[str], users: list[SnUser], path: str) -> dict[str, str | None]:
    from cisync_lib.correlation import (
        AliasMap,
        CorrelationReport,
        Correlator,
        CorrelatorConfig,
        InMemoryUserDirectory,
        LookupKey,
        MatchResult,
        ParsedName,
        StrategyOutcome,
    )
    from cisync_lib.typing import CandidateIndex

    @attrs.frozen
    class EmployeeNumber:
        name: str = "employee_number"
        confidence: float = 0.9

        def applies_to(self, parsed: ParsedName) -> bool:
            return parsed.skip_reason is None

        def lookup_keys(self, parsed: ParsedName) -> tuple[LookupKey, ...]:
            return (LookupKey(field="employee_number", value=parsed.normalized),)

        def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
            return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))

    config = CorrelatorConfig.from_mapping({"plus_tag_domains": ["contoso.com"]})
    correlator = Correlator(
        config, alias_map=AliasMap.load(path), strategies=["email_upn", EmployeeNumber()]
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


# --- sync: a scheduler or a notebook running jobs ------------------------------------


def nightly_prod(path: str) -> int:
    from cisync_lib.sync import SyncReport, job_from_config, load_deployment

    config = load_deployment(path)
    job = job_from_config(config, "prod", progress=lambda phase, done, total: None)
    preview: SyncReport = job.plan()
    rows: list[dict[str, object]] = preview.rows("unmatched")
    print(preview.summary(), len(rows), preview.unmatched_by_reason)
    report = job.run(dry_run=False, force=False)
    if report.outcome == "refused":
        return 3
    report.save(config.state_folder(job.settings.connection, job.destination.name) / "r.json")
    return 0 if report.ok else 1


def preflight_then_sync(path: str, names_file: str) -> int:
    from cisync_lib import CisyncError, PreflightError
    from cisync_lib.correlation import MatchResult, ServiceNowUserDirectory
    from cisync_lib.defender import load_snapshot
    from cisync_lib.sync import (
        CheckItem,
        CheckReport,
        Mode,
        Outcome,
        Preflight,
        job_from_config,
        load_deployment,
        observed_names,
    )

    config = load_deployment(path)
    job = job_from_config(config, "test")
    preflight = Preflight(
        config=config, source=config.connection(), destination=config.destination("test")
    )

    def show(item: CheckItem) -> None:
        print(item.line(), item.ok, item.fix)

    checks: CheckReport = preflight.check(job, on_item=show)
    if not checks.ok:
        return 1
    preflight.quick_check(job, writes=True)
    try:
        report = job.run(dry_run=False)
    except CisyncError as exc:
        better: PreflightError | None = preflight.diagnose(exc, job)
        if better is not None:
            raise better from exc
        raise
    mode: Mode = report.mode
    outcome: Outcome = report.outcome
    print(mode, outcome, report.counts.describe())
    # ServiceNow alone: resolve the identifiers of a snapshot with the configured chain
    conn = config.servicenow("test")
    Preflight(config=config, destination=config.destination("test")).check_servicenow(conn)
    data = load_snapshot(names_file)
    names, apps = observed_names(data, [merged.id for merged in data.apps])
    results: list[MatchResult] = config.correlator().resolve(names, ServiceNowUserDirectory(conn))
    return len(results) + len(apps)


def job_in_code(source_path: str, conn: object) -> None:
    from cisync_lib.cmdb import Plan
    from cisync_lib.correlation import Correlator, CorrelatorConfig
    from cisync_lib.defender import SnapshotSource
    from cisync_lib.servicenow import ServiceNowConnection
    from cisync_lib.sync import CorrelationSpec, Destination, PlanCounts, SyncJob, SyncReport

    assert isinstance(conn, ServiceNowConnection)
    job = SyncJob(
        source=SnapshotSource(source_path),
        destination=Destination(name="dev", environment=Environment.TEST, connection=conn),
        settings=ConnectionSettings(connection="contoso"),
        relationships=[RelationshipKind.APP_CI],
        correlation=CorrelationSpec(config=CorrelatorConfig(), alias_map=None),
    )
    other = SyncJob(source=None, destination=job.destination, correlation=Correlator())
    planned = job.plan()
    counts: PlanCounts = planned.counts
    links: int = counts.add_link + planned.written.add_link
    print(links, counts.changes, counts.as_dict())
    plan: Plan | None = planned.plan  # None for a report loaded from a file
    assert plan is not None
    where: tuple[str | None, str | None] = (plan.instance_url, plan.environment)
    other.check_plan(plan)
    report: SyncReport = other.apply(plan, force=True)
    loaded = SyncReport.load("report.json")
    print(report.writes, loaded.to_json(), loaded._repr_html_(), where)
    try:
        other.apply(attrs.evolve(plan, environment="prod"))
    except cisync_lib.PlanDestinationError as exc:
        found: str | None = exc.found_environment
        print(exc.expected_instance, exc.expected_environment, exc.found_instance, found)
    # parts replaced in Python: each returns a new job
    chain: SyncJob = job.with_strategies(["email_upn", ["email", "upn_user_name"]])
    swapped: SyncJob = chain.with_correlator(Correlator()).with_source(None)
    print(swapped.correlator.chain, chain.source)


def read_defender(tenant: str, client: str, secret: str, path: str) -> int:
    from cisync_lib.defender import (
        ClientSecret,
        DefenderData,
        DefenderSource,
        GraphConnection,
        GraphSource,
        HttpPolicy,
        ReadProgress,
        SnapshotSource,
        load_snapshot,
        save_snapshot,
    )

    def show(progress: ReadProgress) -> None:
        print(progress.phase, progress.apps_read, progress.apps_total)

    conn = GraphConnection(
        tenant, client, credential=ClientSecret(secret=secret), http=HttpPolicy(concurrency=2)
    )
    sources: list[DefenderSource] = [GraphSource(conn), SnapshotSource(path)]
    data: DefenderData = sources[0].read(period=30, max_risk_score=8, progress=show)
    save_snapshot(data, path)
    return len(data.apps) + len(load_snapshot(path).identifiers("20893"))
