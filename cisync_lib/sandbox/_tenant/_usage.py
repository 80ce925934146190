"""Streams of a generated tenant and who used which app in each, over 7, 30 and 90 days.

Users of an app in a stream are drawn once for the 90-day window, ordered most
recent first; the 30- and 7-day windows are prefixes of that order, so the
periods nest (7 days within 30 within 90) as in Defender. Popularity is skewed:
a handful of apps reach almost everyone, then a long tail.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import frozen

from cisync_lib import DiscoveryStream, LogDataProvider

from ._catalog import AppSpec
from ._people import Actor, Role

__all__ = ["PERIOD_DAYS", "Observation", "build_streams", "observe_all"]

#: Report periods and their length in days.
PERIOD_DAYS = {"P7D": 7, "P30D": 30, "P90D": 90}

#: Share of the catalogue each stream sees (the five most used apps are in every stream).
_APP_SHARE = {
    Role.ENDPOINT: 0.9,
    Role.FIREWALL: 0.7,
    Role.PROXY: 0.5,
    Role.ANONYMIZED: 0.25,
    Role.SNAPSHOT: 0.2,
}
#: A snapshot is a one-off upload: its newest data is this many days old.
SNAPSHOT_AGE_DAYS = 12

_STREAMS = (
    (Role.FIREWALL, "Palo Alto - HQ firewall", LogDataProvider.PALO_ALTO, "syslogTls"),
    (Role.PROXY, "Zscaler - branch offices", LogDataProvider.ZSCALER, "syslogTcp"),
    (Role.ANONYMIZED, "Squid - research lab (anonymized)", LogDataProvider.SQUID, "ftps"),
    (
        Role.ENDPOINT,
        "Defender-managed endpoints",
        LogDataProvider.MICROSOFT_DEFENDER_FOR_ENDPOINT,
        None,
    ),
    (Role.SNAPSHOT, "Snapshot - Q2 firewall export", LogDataProvider.PALO_ALTO, "ftp"),
)


@frozen(kw_only=True)
class Observation:
    """One app as one stream saw it.

    Attributes:
        app_id: the app.
        days_ago: days between the last traffic and the tenant's ``as_of``.
        order: actor indices that used the app in 90 days, most recent first.
        users: per period, how many of ``order`` fall in the window.
        ips: per period, how many distinct IP addresses were seen.
        tx_rate: transactions per user (or IP) and day, for the metrics.
        up_per_tx: bytes uploaded per transaction.
        down_per_tx: bytes downloaded per transaction.
    """

    app_id: str
    days_ago: int
    order: tuple[int, ...]
    users: dict[str, int]
    ips: dict[str, int]
    tx_rate: float
    up_per_tx: int
    down_per_tx: int

    def present(self, period: str) -> bool:
        """Whether the app shows up in ``period`` at all."""
        return self.days_ago < PERIOD_DAYS[period]


def build_streams(rng: random.Random, as_of: datetime) -> tuple[tuple[Role, DiscoveryStream], ...]:
    """The tenant's streams, each with the role that decides its identifiers."""
    out = []
    for role, name, provider, receiver in _STREAMS:
        snapshot = role is Role.SNAPSHOT
        created = as_of - timedelta(days=rng.randrange(120, 900), seconds=rng.randrange(86400))
        received = as_of - timedelta(
            days=SNAPSHOT_AGE_DAYS if snapshot else 0, seconds=rng.randrange(3600)
        )
        entities = (
            ("user", "ipAddress", "machineName") if role is Role.ENDPOINT else ("user", "ipAddress")
        )
        out.append(
            (
                role,
                DiscoveryStream(
                    id=f"{rng.getrandbits(96):024x}",
                    display_name=name,
                    description=f"{name} ({'one-off upload' if snapshot else 'continuous report'})",
                    is_snapshot=snapshot,
                    anonymize_users=role is Role.ANONYMIZED,
                    anonymize_devices=False,
                    log_data_provider=provider,
                    receiver_protocol=receiver,
                    created=created,
                    last_modified=created + timedelta(days=rng.randrange(1, 60)),
                    last_data_received=received,
                    supported_entity_types=entities,
                    supported_traffic_types=("uploadedBytes", "downloadedBytes"),
                    log_file_count=rng.randrange(1, 6) if snapshot else rng.randrange(200, 5000),
                ),
            )
        )
    return tuple(out)


def observe_all(
    roles: Sequence[Role], apps: Sequence[AppSpec], actors: Sequence[Actor], rng: random.Random
) -> dict[Role, dict[str, Observation]]:
    """Draw every (stream, app) observation, in a fixed order so seeds repeat."""
    members = {role: [a.index for a in actors if role in a.identifiers] for role in roles}
    forced = {
        role: [a.index for a in actors if role in a.forced and role in a.identifiers]
        for role in roles
    }
    chosen: dict[Role, list[int]] = {role: [] for role in roles}
    for rank in range(len(apps)):
        picked = [r for r in roles if rank < 5 or rng.random() < _APP_SHARE[r]]
        if not picked:
            picked = [Role.ENDPOINT if Role.ENDPOINT in roles else roles[0]]
        for role in picked:
            chosen[role].append(rank)
    out: dict[Role, dict[str, Observation]] = {}
    for role in roles:
        out[role] = {}
        for rank in chosen[role]:
            push = forced[role] if rank == 0 else []
            obs = _observe(role, rank, apps[rank].id, members[role], push, rng)
            out[role][obs.app_id] = obs
    return out


def _reach(rank: int, rng: random.Random) -> float:
    if rank < 5:
        return rng.uniform(0.8, 0.97)
    if rank < 20:
        return rng.uniform(0.15, 0.5)
    tail: float = 0.35 / (rank - 15) ** 0.85
    return min(0.2, tail)


def _days_ago(rank: int, rng: random.Random) -> int:
    if rank < 5:
        return 0
    if rank < 20:  # mostly daily use; some apps drop out of the shorter windows even in `tiny`
        roll = rng.random()
        return (
            rng.randrange(3)
            if roll < 0.7
            else rng.randrange(7, 30)
            if roll < 0.9
            else rng.randrange(30, 80)
        )
    return min(89, int(rng.expovariate(1 / 20)))


def _observe(
    role: Role, rank: int, app_id: str, pool: list[int], push: list[int], rng: random.Random
) -> Observation:
    head = rank < 20
    days = _days_ago(rank, rng)
    if role is Role.SNAPSHOT:
        days = min(89, days + SNAPSHOT_AGE_DAYS)
    ip_only = not head and rng.random() < 0.06  # some log sources carry no user names
    k = (
        0
        if ip_only or not pool
        else min(
            len(pool),
            max(
                1,
                round(
                    _reach(rank, rng)
                    * len(pool)
                    * rng.uniform(*((0.9, 1.1) if head else (0.7, 1.3)))
                ),
            ),
        )
    )
    order = rng.sample(pool, k) if k else []
    if push:
        pushed = set(push)
        order = push + [i for i in order if i not in pushed]
    n90 = len(order)
    n30 = (
        0
        if days >= 30 or not n90
        else max(1, round(n90 * rng.uniform(*((0.85, 1.0) if head else (0.4, 0.9)))))
    )
    n7 = (
        0
        if days >= 7 or not n30
        else max(1, round(n30 * rng.uniform(*((0.6, 0.9) if head else (0.3, 0.8)))))
    )
    n30, n7 = max(n30, len(push)), max(n7, len(push))
    ip90 = max(1, round(n90 * rng.uniform(0.8, 1.4))) if n90 else rng.randrange(1, 40)
    ip_share = rng.uniform(0.4, 0.9)
    ip30 = 0 if days >= 30 else max(1, min(ip90, round(ip90 * (n30 / n90 if n90 else ip_share))))
    ip7 = 0 if days >= 7 else max(1, min(ip30, round(ip30 * (n7 / n30 if n30 else ip_share))))
    return Observation(
        app_id=app_id,
        days_ago=days,
        order=tuple(order),
        users={"P7D": n7, "P30D": n30, "P90D": n90},
        ips={"P7D": ip7, "P30D": ip30, "P90D": ip90},
        tx_rate=rng.lognormvariate(1.5, 0.8),
        up_per_tx=rng.randrange(500, 60000),
        down_per_tx=rng.randrange(2000, 400000),
    )
