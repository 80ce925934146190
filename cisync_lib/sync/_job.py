"""A sync job: read Defender, correlate users, plan against the CMDB, and apply only when asked.

One sync run is one concept, and it lives here whole: the destination it writes
to, the write lock, the phases (read, correlate, read the CMDB, plan, apply),
and the report each run returns.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import filelock
from attrs import field, frozen

from cisync_lib._records import SnUser
from cisync_lib.cmdb import (
    ApplyProgress,
    ApplyResult,
    CmdbConfig,
    CurrentState,
    DesiredState,
    Plan,
    PrefetchedRows,
    RunState,
    RunStateStore,
    WritePath,
    apply,
    make_plan,
    prefetch_state,
    read_state,
)
from cisync_lib.correlation import Correlator, ServiceNowUserDirectory, Tier
from cisync_lib.defender import DefenderData, DefenderSource, ReadProgress
from cisync_lib.errors import (
    CisyncError,
    ConfigError,
    GuardRefusedError,
    JobLockedError,
    PlanDestinationError,
)
from cisync_lib.servicenow import ServiceNowConnection, q_in
from cisync_lib.settings import (
    ConnectionSettings,
    EffectiveSettings,
    Environment,
    RelationshipKind,
    available_relationships,
    check_relationships,
)
from cisync_lib.typing import JobProgress, Strategy

from ._factory import build_correlator, cmdb_config_for, scope_policy_for
from ._report import Mode, PlanCounts, SyncReport, guard_decisions, plan_rows
from ._specs import CorrelationSpec
from ._users import (
    RecordingDirectory,
    Unevaluated,
    links_from,
    matching_summary,
    observed_names,
    unevaluated,
    unmatched_users,
)

__all__ = ["Destination", "SyncJob"]

logger = logging.getLogger(__name__)

RUN_STATE_FILE = "cmdb-run-state.json"
#: the state folder's write lock (one writer per destination and state folder)
LOCK_FILE = "apply.lock"


_DEFAULT_PORTS = {"https": 443, "http": 80}


def instance_identity(url: str) -> str:
    """An instance URL in the one form plans record and compare.

    The scheme and host in lower case (DNS names are case-insensitive), the
    scheme's default port dropped, no trailing slash, no query or fragment:
    ``HTTPS://Contoso.Service-Now.com:443/`` and ``https://contoso.service-now.com``
    are the same instance.

    Args:
        url: the instance URL as configured.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""  # lower case already, without brackets or user info
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: keep what was written, in lower case
        return url.strip().rstrip("/").lower()
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


@frozen(kw_only=True)
class Destination:
    """A ServiceNow instance a job writes into, tagged TEST or PROD.

    Attributes:
        name: the destination's name (as in the deployment config).
        environment: which settings apply to jobs into it.
        connection: the instance.
    """

    name: str
    environment: Environment = field(converter=Environment)
    connection: ServiceNowConnection = field(eq=False, repr=False)

    @property
    def identity(self) -> tuple[str, str]:
        """The instance URL (normalised) and environment a plan for this destination records."""
        return instance_identity(self.connection.instance_url), self.environment.value

    def warnings(self) -> tuple[str, ...]:
        """Warnings about the connection (TLS verification turned off)."""
        session = getattr(self.connection, "session", None)
        if getattr(session, "verify", True) is False:
            env = self.environment.value.upper()
            return (
                f"TLS certificate verification is OFF for {env} destination {self.name!r}: "
                "anyone on the network path can read and change what this sync sends and "
                "receives; set ca_bundle instead of verify = false",
            )
        return ()


@contextmanager
def _job_lock(state_dir: Path | None, *, destination: str, wait: float) -> Iterator[None]:
    """Hold the state folder's write lock for the duration of the block.

    The lock is an operating-system lock (``flock``/``LockFileEx`` through
    :mod:`filelock`) on ``<state folder>/apply.lock``: the system releases it
    when the holding process ends, even by ``kill -9``, so a crash never
    leaves a stale lock behind. A job without a state folder keeps its run
    state in memory and takes no lock.

    Args:
        state_dir: the job's state folder (``None``: no lock).
        destination: the destination's name, for the message.
        wait: seconds to wait for another run to finish before refusing.

    Raises:
        JobLockedError: another run held the lock for longer than ``wait``; nothing written.
        ConfigError: the state folder cannot be created or written.
    """
    if state_dir is None:
        yield
        return
    path = state_dir / LOCK_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(path, timeout=wait)
        lock.acquire()
    except filelock.Timeout:
        raise JobLockedError(lock_file=str(path), destination=destination, waited=wait) from None
    except OSError as exc:
        raise ConfigError(
            file=str(state_dir),
            key="sync.state_dir",
            problem=f"cannot use the state folder ({exc.strerror or exc}); nothing was written",
        ) from exc
    logger.debug("holding %s", path)
    try:
        yield
    finally:
        lock.release()


def _written_counts(result: ApplyResult) -> PlanCounts:
    """Writes made per action."""
    return PlanCounts(
        create_app=result.apps_created,
        update_app=result.apps_updated,
        retire_app=result.apps_retired,
        add_link=result.links_added,
        remove_link=result.links_removed,
        create_vendor=result.vendors_created,
    )


@frozen(kw_only=True)
class _Prepared:
    data: DefenderData | None
    desired: DesiredState
    state: CurrentState
    plan: Plan
    report: SyncReport


class _MemoryRunState:
    """The run state of a job without a state folder, shared with the job's copies."""

    def __init__(self) -> None:
        self.state = RunState()


class _CountingQueries:
    """A connection that tells ``tick`` each time a query starts (correlation progress).

    Everything else is the wrapped connection's; the rows iterator is returned as is
    (its ``hidden`` count is read by the directory).
    """

    def __init__(self, conn: Any, tick: Callable[[], None]) -> None:
        self._conn = conn
        self._tick = tick

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self._tick()
        return self._conn.query(*args, **kwargs)


class SyncJob:
    """One source connection synced into one destination, with the settings of its environment.

    A job refuses, when it is made, a relationship the environment's effective
    settings do not make available ("User uses Cloud App" needs
    ``allow_user_sync``). :meth:`plan` and :meth:`run` (a dry run unless
    ``dry_run=False``) return a :class:`SyncReport`; only ``run(dry_run=False)``
    writes.

    Args:
        source: where Defender data comes from (Graph, legacy or a snapshot);
            ``None`` for a job that only applies saved plans.
        destination: the ServiceNow instance and its environment tag.
        settings: the connection's settings (product defaults if ``None``).
        relationships: the relationships to sync; ``None`` selects every available one.
        correlation: the chain, alias map and rules, or a ready :class:`Correlator`.
        cmdb: how apps and links map onto the instance (grace, guard and heartbeat
            come from the effective settings).
        write_path: ``table`` or ``ire`` (ignored when ``cmdb`` is given).
        state_dir: the job's state folder (run state for grace periods); ``None``
            keeps the run state in memory for this object's lifetime only (shared
            with its copies: :meth:`with_source` and the like).
        streams: the discovery streams to read (``None``: all).
        progress: told about progress per phase.
        lock_wait: seconds a writing run waits for another one writing with the same
            state folder before it refuses (:class:`~cisync_lib.JobLockedError`).

    Raises:
        RelationshipNotAvailableError: a selected relationship is not available.
    """

    def __init__(
        self,
        *,
        source: DefenderSource | None,
        destination: Destination,
        settings: ConnectionSettings | None = None,
        relationships: Iterable[RelationshipKind | str] | None = None,
        correlation: CorrelationSpec | Correlator | None = None,
        cmdb: CmdbConfig | None = None,
        write_path: WritePath | str = WritePath.TABLE,
        state_dir: str | os.PathLike[str] | None = None,
        streams: Iterable[str] | None = None,
        progress: JobProgress | None = None,
        lock_wait: float = 10.0,
    ) -> None:
        self.source = source
        self.destination = destination
        self.settings = settings or ConnectionSettings(connection="default")
        self.effective: EffectiveSettings = self.settings.effective(destination.environment)
        chosen = available_relationships(self.effective) if relationships is None else relationships
        check_relationships(chosen, self.effective, connection=self.settings.connection)
        self.relationships = tuple(RelationshipKind(r) for r in chosen)
        if isinstance(correlation, Correlator):
            self.correlator = correlation
        else:
            self.correlator = build_correlator(correlation or CorrelationSpec())
        base = cmdb or CmdbConfig(write_path=WritePath(write_path))
        self.cmdb_config = cmdb_config_for(base, self.effective)
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.streams = tuple(streams) if streams is not None else None
        self.progress = progress
        self.lock_wait = lock_wait
        # a box, so the job's copies (with_source, ...) keep one bookkeeping with it
        self._memory = _MemoryRunState()
        self._totals: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._cmdb_pages_read = itertools.count(1)

    def __repr__(self) -> str:
        relationships = ", ".join(repr(r.value) for r in self.relationships)
        return (
            f"SyncJob(connection={self.settings.connection!r}, destination="
            f"{self.destination.name!r} ({self.destination.environment.value.upper()}), "
            f"relationships=({relationships}), dry_run_default=True)"
        )

    # --- public API -------------------------------------------------------------

    def with_correlator(self, correlator: Correlator) -> SyncJob:
        """A copy of this job that resolves users with ``correlator``; this job is unchanged.

        Everything else (source, destination, settings, relationships, CMDB
        mapping, state folder or the run state kept in memory, progress) is shared
        with this job.

        Example::

            from cisync_lib.correlation import Correlator

            job = job_from_config(config, "test")
            strict = job.with_correlator(Correlator(strategies=["email"]))
            print(strict.plan().summary())

        Args:
            correlator: the correlator the copy uses.

        Returns:
            The new job.
        """
        job = self._copy()
        job.correlator = correlator
        return job

    def with_strategies(
        self, strategies: Iterable[str | Strategy | Tier | Sequence[str | Strategy]]
    ) -> SyncJob:
        """A copy of this job with another correlation chain; this job is unchanged.

        The copy's correlator keeps this job's correlation rules
        (:class:`~cisync_lib.correlation.CorrelatorConfig`: domain aliases, NetBIOS
        domains, ``min_confidence``, ...) and its alias map (first in the chain
        unless ``strategies`` places ``alias_map``); only the ordered chain is
        replaced. A step is a name (a built-in strategy's or an installed plugin's,
        as in a config's ``chain``), a strategy object
        (:class:`~cisync_lib.typing.Strategy`), a :class:`~cisync_lib.correlation.Tier`,
        or a list of names and strategies forming one tier.

        Example::

            job = job_from_config(config, "test")
            custom = job.with_strategies(["email_upn", LocalLogonStrategy()])
            print(custom.plan().counts.add_link)

        Args:
            strategies: the chain, in order.

        Returns:
            The new job.

        Raises:
            UnknownStrategyError: a name is not registered.
        """
        current = self.correlator
        return self.with_correlator(
            Correlator(config=current.config, alias_map=current.alias_map, strategies=strategies)
        )

    def with_source(self, source: DefenderSource | None) -> SyncJob:
        """A copy of this job that reads Defender from ``source``; this job is unchanged.

        Example::

            from cisync_lib.defender import SnapshotSource

            job = job_from_config(config, "test")
            replay = job.with_source(SnapshotSource("snapshot.json"))
            print(replay.plan().summary())

        Args:
            source: the copy's source (``None``: a job that only applies saved plans).

        Returns:
            The new job.
        """
        job = self._copy()
        job.source = source
        return job

    def _copy(self) -> SyncJob:
        """A shallow copy with its own progress bookkeeping.

        The parts are shared (connections and sources are meant to be), and so is the
        run state: the state folder's, or the one a job without a state folder keeps
        in memory (both write into the same destination, so a run either commits
        counts for the other's grace periods, as with a shared state folder).
        """
        job = copy.copy(self)
        job._totals = {}
        job._last = {}
        job._cmdb_pages_read = itertools.count(1)
        return job

    @property
    def syncs_users(self) -> bool:
        """Whether this job links users (relationship selected and user sync on)."""
        return (
            RelationshipKind.USER_USES_APP in self.relationships and self.effective.allow_user_sync
        )

    def plan(self) -> SyncReport:
        """Read, correlate and plan; write nothing. The report's ``plan`` can be applied later."""
        return self._prepare("plan").report

    def run(
        self,
        *,
        dry_run: bool = True,
        force: bool = False,
        confirm: Callable[[SyncReport], None] | None = None,
    ) -> SyncReport:
        """Plan and, unless ``dry_run``, apply the plan.

        Args:
            dry_run: only plan (the default, so a notebook never writes by accident).
            force: apply even when the blast-radius guard would refuse.
            confirm: called with the planned report (its ``plan`` attached) after
                planning and before anything is written; it stops the run by raising
                (the ``cisync`` command asks the operator here).

        Returns:
            The report; ``outcome`` is ``refused`` (nothing written) when the guard
            refused, ``partial`` when some users could not be looked up (what could
            be evaluated is planned or written; ``report.partial`` says what was
            not), ``applied`` after writing. See :meth:`SyncReport.raise_for_outcome`.
        """
        if dry_run:
            return self._prepare("dry_run", force=force).report
        # planning happens under the lock too, so the run state it starts from is the
        # one it commits over: two runs never interleave their grace-period bookkeeping
        with self._write_lock():
            prepared = self._prepare("apply", force=force)
            if confirm is not None:
                confirm(prepared.report)
            return self._apply_plan(
                prepared.plan, prepared.report, force=force, state=prepared.state
            )

    def apply(
        self,
        plan: Plan,
        *,
        force: bool = False,
        confirm: Callable[[SyncReport], None] | None = None,
    ) -> SyncReport:
        """Apply a plan made earlier (e.g. reviewed from ``cisync plan --out``).

        Args:
            plan: the plan.
            force: apply even when the blast-radius guard would refuse.
            confirm: called with the plan's report before anything is written; it
                stops the run by raising.

        Raises:
            PlanDestinationError: the plan was made for another instance or environment,
                or records none (see :meth:`check_plan`); nothing read or written.
            StalePlanError: the instance changed since the plan was made; nothing written.
            RelationshipNotAvailableError: the plan adds user links but the effective
                settings no longer allow user sync (consent withdrawn); nothing written.
            ConfigError: the plan adds user links but this job does not select them.
        """
        self.check_plan(plan)
        if plan.add_links and not self.syncs_users:
            check_relationships(
                [RelationshipKind.USER_USES_APP],
                self.effective,
                connection=self.settings.connection,
            )
            raise ConfigError(
                key="sync.relationships",
                problem=f"the plan adds {len(plan.add_links)} user link(s) but this job does not "
                f"select {RelationshipKind.USER_USES_APP.value!r}; plan again",
            )
        report = self._plan_report("apply", started=datetime.now(timezone.utc), plan=plan)
        with self._write_lock():
            if confirm is not None:
                confirm(report)
            return self._apply_plan(plan, report, force=force)

    def check_plan(self, plan: Plan) -> None:
        """Refuse a plan made for another destination than this job's; no I/O.

        A plan made by :meth:`plan` or :meth:`run` records the instance URL and the
        environment of its job's destination (``plan.instance_url``,
        ``plan.environment``). :meth:`apply` calls this first; call it yourself to
        check a saved plan before asking anyone to approve it.

        Example::

            plan = load_plan("plan.json")
            prod_job.check_plan(plan)  # PlanDestinationError if it was planned for TEST

        Args:
            plan: the plan.

        Raises:
            PlanDestinationError: the plan's instance (compared regardless of the case
                of the scheme and host, a default port or a trailing slash) or
                environment differs from this job's, or the plan records no destination (one made by
                :func:`cisync_lib.cmdb.make_plan` directly: there is nothing to check
                it against, so it is refused rather than trusted).
        """
        instance, environment = self.destination.identity
        found = instance_identity(plan.instance_url) if plan.instance_url is not None else None
        if found == instance and plan.environment == environment:
            return
        raise PlanDestinationError(
            destination=self.destination.name,
            expected_instance=instance,
            expected_environment=environment,
            found_instance=plan.instance_url,
            found_environment=plan.environment,
        )

    # --- phases -----------------------------------------------------------------

    def _write_lock(self) -> AbstractContextManager[None]:
        return _job_lock(self.state_dir, destination=self.destination.name, wait=self.lock_wait)

    @property
    def _run_state_store(self) -> RunStateStore | None:
        return RunStateStore(self.state_dir / RUN_STATE_FILE) if self.state_dir else None

    def _load_run_state(self) -> RunState:
        store = self._run_state_store
        return store.load() if store is not None else self._memory.state

    @contextmanager
    def _phase(self, name: str, timings: dict[str, float]) -> Iterator[None]:
        # a phase partly done ahead (read_cmdb) starts where it got to
        self._tell(name, self._last.get(name, 0), None)
        logger.info("%s: started", name)
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            logger.info("%s: finished in %.2f s", name, elapsed)
            timings[name] = timings.get(name, 0.0) + elapsed
            # a finished phase shows full, in its own units (the count, when it had no total)
            total = self._totals.get(name) or self._last.get(name) or 1
            self._tell(name, total, total)

    def _tell(self, phase: str, done: int, total: int | None) -> None:
        self._last[phase] = max(done, self._last.get(phase, 0))
        if total:
            self._totals[phase] = total
        if self.progress is not None:
            self.progress(phase, done, total)

    def _lookup_progress(self) -> Callable[[], None]:
        ticks = itertools.count(1)

        def tick() -> None:  # called from the lookup threads; count() is atomic
            self._tell("correlate", next(ticks), None)

        return tick

    def _watch_cmdb_pages(self) -> AbstractContextManager[None]:
        """Tell ``read_cmdb`` progress per CMDB page, wherever the pages are read.

        The CMDB is read partly ahead (during the Defender read) and partly in
        the ``read_cmdb`` phase, in parallel pages inside the connection; the
        connection says when each page is answered. ``sys_user`` pages are the
        correlation's, which may overlap the read ahead.
        """
        watch = getattr(self.destination.connection, "watch_pages", None)
        if watch is None:  # a connection without page events: start and end only
            return nullcontext()

        def page(table: str) -> None:  # called from the reading threads; count() is atomic
            if table != "sys_user":
                self._tell("read_cmdb", next(self._cmdb_pages_read), None)

        context: AbstractContextManager[None] = watch(page)
        return context

    def _prefetch(self, read_links: bool) -> PrefetchedRows:
        with self._watch_cmdb_pages():
            return prefetch_state(
                self.destination.connection, self.cmdb_config, read_links=read_links
            )

    def _read_progress(self) -> Callable[[ReadProgress], None]:
        def report(p: ReadProgress) -> None:
            if p.requests_total:
                self._tell("read", p.requests_done, p.requests_total)
            else:
                self._tell("read", p.apps_read, p.apps_total)

        return report

    def _requests(self) -> dict[str, int]:
        return {
            # what the services served: retries included (sources without the count: sent)
            "defender": int(
                getattr(self.source, "round_trips", None)
                or getattr(self.source, "requests_sent", 0)
                or 0
            ),
            "servicenow": self.destination.connection.request_count,
            # answers 429/503 (throttled or busy; retried): reported only when some came
            "servicenow_throttled": int(getattr(self.destination.connection, "throttled", 0)),
        }

    def _people(self, plan: Plan, known: dict[str, SnUser]) -> dict[str, SnUser]:
        """The users of the plan's link changes, for the review.

        Those correlation found, plus those of links to remove (read by sys_id; a
        failed read only loses their names).
        """
        wanted = {r.user for r in plan.remove_links} | {a.user for a in plan.add_links}
        missing = sorted(wanted - known.keys())
        found = dict(known)
        try:
            for start in range(0, len(missing), 100):
                rows = self.destination.connection.query(
                    "sys_user",
                    query=q_in("sys_id", missing[start : start + 100]),
                    fields=("sys_id", "name", "email", "user_name"),
                )
                for row in rows:
                    found[row["sys_id"]] = SnUser(
                        sys_id=row["sys_id"],
                        name=row.get("name", ""),
                        email=row.get("email", ""),
                        user_name=row.get("user_name", ""),
                    )
        except CisyncError as exc:
            logger.info("user names for the review not read: %s", exc)
        return found

    def _prepare(self, mode: Mode, *, force: bool = False) -> _Prepared:
        started = datetime.now(timezone.utc)
        timings: dict[str, float] = {}
        before = self._requests()
        if self.source is None:
            raise ConfigError(
                key="source", problem="this job has no Defender source; it can only apply plans"
            )
        # the CMDB rows that do not depend on the Defender data are read meanwhile
        # each run's bars start empty (a job may run more than once)
        self._totals.clear()
        self._last.clear()
        self._cmdb_pages_read = itertools.count(1)
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cisync-prefetch")
        prefetch = ahead.submit(
            self._prefetch,
            self.syncs_users or self.cmdb_config.remove_links_when_user_sync_off,
        )
        try:
            prepared = self._read_and_plan(mode, force, started, timings, before, prefetch)
        finally:
            ahead.shutdown(wait=False, cancel_futures=True)
        return prepared

    def _read_and_plan(
        self,
        mode: Mode,
        force: bool,
        started: datetime,
        timings: dict[str, float],
        before: dict[str, int],
        prefetch: Future[PrefetchedRows],
    ) -> _Prepared:
        assert self.source is not None
        eff, users = self.effective, self.syncs_users
        with self._phase("read", timings):
            data = self.source.read(
                period=eff.report_time_frame,
                max_risk_score=eff.max_risk_score,
                streams=self.streams,
                include_users=users,
                include_devices=False,
                progress=self._read_progress(),
            )
        scope = scope_policy_for(eff)
        scoped = DesiredState.from_defender(
            data, None, scope=scope, config=self.cmdb_config, user_relationship_selected=False
        )
        links: dict[str, set[str]] | None = None
        unknown: Unevaluated | None = None
        unmatched: tuple[Any, ...] = ()
        matching: dict[str, Any] = {}
        names = {a.id: a.app.name for a in data.apps}
        people: dict[str, SnUser] = {}
        if users:
            with self._phase("correlate", timings):
                observed, owners = observed_names(data, scoped.apps)
                conn = self.destination.connection
                counted = _CountingQueries(conn, self._lookup_progress())
                directory = RecordingDirectory(ServiceNowUserDirectory(counted))
                results = self.correlator.resolve_each(observed, directory)
                links = links_from(results, owners)
                tries = int(getattr(conn, "read_attempts", 1))
                unknown = unevaluated(results, owners, directory.last, tries=tries)
                unmatched = unmatched_users(results, owners, names)
                matching = matching_summary(results)
                people = {r.user.sys_id: r.user for r in results if r.user is not None}
        desired = DesiredState.from_defender(
            data,
            links,
            scope=scope,
            config=self.cmdb_config,
            user_relationship_selected=RelationshipKind.USER_USES_APP in self.relationships,
            links_unknown=unknown.apps if unknown is not None else (),
        )
        run_state = self._load_run_state()
        with self._phase("read_cmdb", timings), self._watch_cmdb_pages():
            state = read_state(
                self.destination.connection,
                self.cmdb_config,
                desired,
                prefetched=prefetch.result(),
                saved_limits=run_state.field_limits,
            )
        with self._phase("plan", timings):
            plan = make_plan(desired, state, self.cmdb_config, run_state)
        # the plan says where it may be applied: apply() refuses it anywhere else
        instance, environment = self.destination.identity
        plan = attrs.evolve(plan, instance_url=instance, environment=environment)
        if unknown is not None:
            # not everything could be evaluated: the run is partial whatever it writes, and
            # so is this plan wherever it is applied (a saved plan keeps it)
            plan = attrs.evolve(plan, partial=unknown.to_dict(plan.held_links))
        after = self._requests()
        report = self._plan_report(
            mode,
            started=started,
            plan=plan,
            desired=desired,
            people=self._people(plan, people),
            ci_names={a.sys_id: a.name for a in state.apps},
        )
        if plan.partial:
            report = attrs.evolve(report, outcome="partial")
        report = attrs.evolve(
            report,
            source={
                "kind": getattr(self.source, "kind", type(self.source).__name__),
                "period": data.period,
                "apps": len(data.apps),
                "apps_in_scope": len(desired.apps),
                **({"identifiers": sum(len(u) for u in data.users.values())} if users else {}),
                "complete": data.complete,
                # Graph's pacing: concurrency reached, throttling met (see GraphSource.read_stats)
                **(
                    {"http": dict(stats)}
                    if (stats := getattr(self.source, "read_stats", None))
                    else {}
                ),
            },
            matching=matching,
            unmatched=unmatched,
            guard=guard_decisions(plan.guard, force=force),
            timings=timings,
            requests={
                k: after[k] - before[k]
                for k in after
                if k != "servicenow_throttled" or after[k] > before[k]
            },
            warnings=(
                *plan.warnings,
                *self._warnings(desired),
                *self.destination.warnings(),
            ),
        )
        return _Prepared(data=data, desired=desired, state=state, plan=plan, report=report)

    # --- the report and the apply -------------------------------------------------

    def _warnings(self, desired: DesiredState) -> tuple[str, ...]:
        """Warnings about how the job is set up (not about the data)."""
        found = []
        if RelationshipKind.USER_USES_APP in self.relationships and not desired.sync_users:
            found.append("user links selected but not synced (allow_user_sync is off)")
        if self.state_dir is None:
            found.append("no state folder: grace periods are kept in memory for this job only")
        return tuple(found)

    def _plan_report(
        self,
        mode: Mode,
        *,
        started: datetime,
        plan: Plan,
        desired: DesiredState | None = None,
        people: Mapping[str, SnUser] | None = None,
        ci_names: Mapping[str, str] | None = None,
    ) -> SyncReport:
        """The report of a plan, before anything is applied.

        ``people`` (``sys_user`` sys_id -> user) and ``ci_names`` (CI sys_id -> name) put
        names next to the sys_ids of the planned changes, for people reviewing them.
        """
        return SyncReport(
            connection=self.settings.connection,
            destination=self.destination.name,
            environment=self.destination.environment.value,
            mode=mode,
            outcome="planned",
            started_at=started,
            finished_at=datetime.now(timezone.utc),
            relationships=tuple(r.value for r in self.relationships),
            settings={
                name: {"value": item.value, "source": item.source}
                for name, item in self.effective.values.items()
            },
            counts=PlanCounts.from_plan(plan),
            actions=plan_rows(plan, desired or DesiredState(), people=people, ci_names=ci_names),
            guard=guard_decisions(plan.guard, force=False),
            plan_fingerprint=plan.fingerprint,
            warnings=(*plan.warnings, *self.destination.warnings()),
            plan=plan,
            # a plan that left users unevaluated makes its run partial, even applied later
            partial=plan.partial,
        )

    def _apply_plan(
        self,
        plan: Plan,
        report: SyncReport,
        *,
        force: bool,
        state: CurrentState | None = None,
    ) -> SyncReport:
        """Apply ``plan`` and return ``report`` completed with what was written.

        A refusal by the blast-radius guard is not an exception here: the report
        comes back with outcome ``refused`` and nothing written.

        Raises:
            StalePlanError: the instance changed since the plan was made (``state`` not given).
            ApplyError: some writes failed; the rest were applied.
        """
        conn = self.destination.connection
        timings = dict(report.timings)
        before = conn.request_count
        throttled = int(getattr(conn, "throttled", 0))
        start = time.perf_counter()

        def progress(p: ApplyProgress) -> None:
            if p.phase != "check":
                self._tell("apply", p.done, p.total)

        store = self._run_state_store
        try:
            result = apply(
                plan,
                conn,
                self.cmdb_config,
                on_stale="refuse",
                state=state,
                run_state=store,
                force=force,
                progress=progress,
            )
        except GuardRefusedError as exc:
            return attrs.evolve(
                report,
                mode="apply",
                outcome="refused",
                error=str(exc),
                guard=guard_decisions(plan.guard, force=False),
                finished_at=datetime.now(timezone.utc),
            )
        if store is None:
            self._memory.state = result.plan.run_state.committed()
        timings["apply"] = time.perf_counter() - start
        requests = dict(report.requests)
        requests["servicenow"] = requests.get("servicenow", 0) + (conn.request_count - before)
        throttled = int(getattr(conn, "throttled", 0)) - throttled
        if throttled:
            requests["servicenow_throttled"] = requests.get("servicenow_throttled", 0) + throttled
        return attrs.evolve(
            report,
            mode="apply",
            outcome="partial" if report.partial else "applied",
            counts=PlanCounts.from_plan(result.plan),
            written=_written_counts(result),
            guard=guard_decisions(result.plan.guard, force=force),
            timings=timings,
            requests=requests,
            finished_at=datetime.now(timezone.utc),
            plan=result.plan,
        )
