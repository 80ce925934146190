"""``generate_tenant()``: a deterministic synthetic Defender tenant and its ServiceNow users."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

from cisync_lib import AppInfo, ConfigError, DiscoveredApp, DiscoveryStream, SnUser

from ._appinfo import build_app_info
from ._catalog import build_catalogue
from ._people import DOMAIN, NETBIOS, ONMICROSOFT, Actor, Role
from ._population import build_population
from ._truth import IdentifierForm, IdentityTruth, expected_outcomes
from ._usage import PERIOD_DAYS, Observation, build_streams, observe_all

__all__ = ["DEFAULT_AS_OF", "TENANT_SIZES", "GeneratedTenant", "generate_tenant"]

#: Size name -> (apps, people). The Defender-source acceptance reads ``large``.
TENANT_SIZES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "tiny": (15, 40),
        "small": (100, 500),
        "medium": (400, 5000),
        "large": (1000, 20000),
    }
)
#: The moment generated data is "now" unless ``as_of`` says otherwise.
DEFAULT_AS_OF = datetime(2025, 6, 30, tzinfo=timezone.utc)


def generate_tenant(
    size: str = "tiny", seed: int | str = 0, *, as_of: datetime | None = None
) -> GeneratedTenant:
    """Generate a synthetic tenant; the same ``size`` and ``seed`` always give the same tenant.

    Args:
        size: ``tiny``, ``small``, ``medium`` or ``large`` (see ``TENANT_SIZES``).
        seed: seeds every random choice (an int or a string).
        as_of: the "now" of the data (last-seen dates count back from it).

    Raises:
        ConfigError: for an unknown size.
    """
    if size not in TENANT_SIZES:
        raise ConfigError(
            key="size", problem=f"unknown tenant size {size!r}", allowed=", ".join(TENANT_SIZES)
        )
    return GeneratedTenant(size, seed, as_of or DEFAULT_AS_OF)


class GeneratedTenant:
    """A synthetic Defender tenant with ``sys_user`` rows and ground truth.

    Build it with :func:`generate_tenant`. Everything is read-only; the
    methods return tuples, the mappings are read-only views.

    Attributes:
        size: the size name it was generated with.
        seed: the seed it was generated with.
        as_of: the data's "now".
        domain: the tenant's DNS domain (``contoso.com``).
        onmicrosoft_domain: its ``onmicrosoft.com`` domain.
        netbios: its configured NetBIOS domain (``CONTOSO``).
        streams: the discovery streams (one anonymized, one endpoint, one snapshot).
        app_info: catalogue facts per app id.
        sys_users: the ``sys_user`` rows to load into ServiceNow.
        truth: the ground truth per distinct raw identifier.
    """

    domain = DOMAIN
    onmicrosoft_domain = ONMICROSOFT
    netbios = NETBIOS
    #: a generated tenant has data for every period
    periods: tuple[str, ...] = tuple(PERIOD_DAYS)
    #: and knows the users of every app
    users_recorded = True

    def __init__(self, size: str, seed: int | str, as_of: datetime) -> None:
        self.size = size
        self.seed = seed
        self.as_of = as_of
        n_apps, n_people = TENANT_SIZES[size]
        rng = random.Random(seed)
        specs = build_catalogue(n_apps, rng)
        population = build_population(n_people, rng)
        self._actors: tuple[Actor, ...] = population.actors
        self.sys_users: tuple[SnUser, ...] = population.sys_users
        streams = build_streams(rng, as_of)
        self.streams: tuple[DiscoveryStream, ...] = tuple(s for _, s in streams)
        self._roles: dict[str, Role] = {s.id: role for role, s in streams}
        observations = observe_all([r for r, _ in streams], specs, self._actors, rng)
        self._obs: dict[str, dict[str, Observation]] = {
            s.id: observations[role] for role, s in streams
        }
        self._specs = {spec.id: spec for spec in specs}
        self.app_info: Mapping[str, AppInfo] = MappingProxyType(
            {
                spec.id: build_app_info(spec, random.Random(f"{seed}:info:{spec.id}"))
                for spec in specs
            }
        )
        self._apps: dict[tuple[str, str], tuple[DiscoveredApp, ...]] = {}
        for stream_id in self._roles:
            for period in PERIOD_DAYS:
                self._apps[(period, stream_id)] = tuple(
                    self._app(period, stream_id, obs)
                    for obs in self._obs[stream_id].values()
                    if obs.present(period)
                )
        self.truth: Mapping[str, IdentityTruth] = MappingProxyType(self._build_truth())
        # a sandbox serves the same lists page after page: keep the recent ones (90-day lists,
        # which the shorter periods slice)
        self._all_users = functools.lru_cache(maxsize=512)(self._users_of)
        self._all_ips = functools.lru_cache(maxsize=512)(self._ips_of)

    # --- public reads ----------------------------------------------------------------

    @property
    def correlation_settings(self) -> dict[str, object]:
        """The correlator settings the ``configured`` ground truth assumes (a fresh copy)."""
        return {
            "domain_aliases": {self.onmicrosoft_domain: self.domain},
            "netbios_domains": {self.netbios: {"upn_suffix": self.domain}},
            "plus_tag_domains": [self.domain],
        }

    def stream(self, stream_id: str) -> DiscoveryStream:
        """The stream with this id.

        Raises:
            ConfigError: for an unknown stream id.
        """
        for stream in self.streams:
            if stream.id == stream_id:
                return stream
        raise ConfigError(key="stream_id", problem=f"no stream {stream_id!r} in this tenant")

    def apps(self, period: str, stream_id: str) -> tuple[DiscoveredApp, ...]:
        """The apps a stream saw in ``period``, most used first, with stream and period set."""
        return self._apps[(self._period(period), self._stream_id(stream_id))]

    def app(self, period: str, stream_id: str, app_id: str) -> DiscoveredApp | None:
        """One app as a stream saw it in ``period``, or ``None`` if it did not."""
        obs = self._obs[self._stream_id(stream_id)].get(app_id)
        if obs is None or not obs.present(self._period(period)):
            return None
        return self._app(period, stream_id, obs)

    def app_ids(self, period: str, stream_id: str | None = None) -> frozenset[str]:
        """Ids of the apps seen in ``period`` by one stream, or by any stream."""
        ids = [stream_id] if stream_id is not None else list(self._roles)
        return frozenset(a.id for s in ids for a in self.apps(period, s))

    def users(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """Raw user identifiers of an app in a stream and period, as Graph lists them."""
        _, count = self._window(period, stream_id, app_id, "users")
        return self._all_users(stream_id, app_id)[:count]

    def devices(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """Device names of an app's users; empty unless the stream is an endpoint stream."""
        obs, count = self._window(period, stream_id, app_id, "users")
        if self._roles[stream_id] is not Role.ENDPOINT:
            return ()
        return tuple(str(self._actors[i].device) for i in obs.order[:count])

    def ip_addresses(self, period: str, stream_id: str, app_id: str) -> tuple[str, ...]:
        """IP addresses seen for an app in a stream and period."""
        _, count = self._window(period, stream_id, app_id, "ips")
        return self._all_ips(stream_id, app_id)[:count]

    def identifiers(self, form: IdentifierForm | str) -> tuple[IdentityTruth, ...]:
        """The ground truth of every identifier of one form."""
        value = IdentifierForm(form).value
        return tuple(t for t in self.truth.values() if t.form == value)

    def __repr__(self) -> str:
        return (
            f"GeneratedTenant(size={self.size!r}, seed={self.seed!r}, "
            f"apps={len(self._specs)}, sys_users={len(self.sys_users)})"
        )

    # --- helpers -------------------------------------------------------------------

    def _users_of(self, stream_id: str, app_id: str) -> tuple[str, ...]:
        role = self._roles[stream_id]
        return tuple(
            self._actors[i].identifiers[role][0] for i in self._obs[stream_id][app_id].order
        )

    def _ips_of(self, stream_id: str, app_id: str) -> tuple[str, ...]:
        rng = random.Random(f"{self.seed}:ips:{stream_id}:{app_id}")
        picks = rng.sample(range(1 << 24), self._obs[stream_id][app_id].ips["P90D"])
        return tuple(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}" for n in picks)

    def _period(self, period: str) -> str:
        if period not in PERIOD_DAYS:
            raise ConfigError(
                key="period", problem=f"unknown period {period!r}", allowed=", ".join(PERIOD_DAYS)
            )
        return period

    def _stream_id(self, stream_id: str) -> str:
        return self.stream(stream_id).id

    def _window(
        self, period: str, stream_id: str, app_id: str, what: str
    ) -> tuple[Observation, int]:
        obs = self._obs[self._stream_id(stream_id)].get(app_id)
        if obs is None:
            raise ConfigError(
                key="app_id", problem=f"app {app_id!r} not seen by stream {stream_id!r}"
            )
        counts = obs.users if what == "users" else obs.ips
        return obs, counts[self._period(period)]

    def _app(self, period: str, stream_id: str, obs: Observation) -> DiscoveredApp:
        spec = self._specs[obs.app_id]
        users, ips = obs.users[period], obs.ips[period]
        active_days = PERIOD_DAYS[period] - obs.days_ago
        tx = max(1, round((users or ips) * obs.tx_rate * active_days**0.8))
        return DiscoveredApp(
            id=spec.id,
            name=spec.name,
            category=spec.category,
            risk_score=spec.risk_score,
            tags=spec.tags,
            domains=spec.domains,
            user_count=users,
            ip_address_count=ips,
            transaction_count=tx,
            device_count=users if self._roles[stream_id] is Role.ENDPOINT else None,
            upload_bytes=tx * obs.up_per_tx,
            download_bytes=tx * obs.down_per_tx,
            last_seen=self.as_of - timedelta(days=obs.days_ago),
            stream_id=stream_id,
            period=period,
        )

    def _build_truth(self) -> dict[str, IdentityTruth]:
        seen: dict[str, IdentityTruth] = {}
        for stream_id, role in self._roles.items():
            shown = sorted({i for obs in self._obs[stream_id].values() for i in obs.order})
            for index in shown:
                actor = self._actors[index]
                identifier, form = actor.identifiers[role]
                default, configured = expected_outcomes(form, actor.row)
                truth = IdentityTruth(
                    identifier=identifier,
                    form=form.value,
                    person=actor.person,
                    default=default,
                    configured=configured,
                )
                if seen.setdefault(identifier, truth) != truth:  # pragma: no cover
                    raise AssertionError(f"generator bug: {identifier!r} has two meanings")
        return seen
