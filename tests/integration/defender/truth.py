"""The test oracle: what a read must return, computed from the GeneratedTenant alone.

Nothing here imports cisync_lib.defender: the expected apps, users, devices and
the API's call floor come from how the sandbox generated the tenant and from
the rules the issue states (non-snapshot streams, riskScore filter, userCount 0
skipped, devices for endpoint streams, pages of at most PAGE items).
"""

import math

import attrs

PAGE = 100


def pages(n, size=PAGE):
    """Pages a collection of n items takes (an empty collection is still one page)."""
    return max(1, math.ceil(n / size))


@attrs.frozen
class Truth:
    streams: tuple
    observations: dict  # (stream id, app id) -> DiscoveredApp
    users: dict  # (stream id, app id) -> identifiers, for apps with userCount > 0
    devices: dict  # (stream id, app id) -> device names, endpoint streams
    app_order: tuple  # merged apps ordered by id, numeric ids numerically
    floor: int  # Graph requests: stream pages + app pages + user pages + device pages
    fanout: int = 0  # first pages of users and devices (one per app with users, per device list)

    def http_floor(self, batch=20):
        """HTTP requests when the fan-out's first pages travel in JSON batches of ``batch``.

        Every first page is still one Graph request, inside an envelope; the
        envelopes replace them as round trips (a lone request needs no envelope).
        """
        if batch <= 1:
            return self.floor
        return self.floor - self.fanout + math.ceil(self.fanout / batch)


def truth(tenant, period="P30D", max_risk=10, streams=None, devices=True, page=PAGE):
    chosen = [
        s
        for s in tenant.streams
        if (streams is None and not s.is_snapshot)
        or (streams is not None and (s.id in streams or s.display_name in streams))
    ]
    calls = pages(len(tenant.streams), page)
    observations, users, devs = {}, {}, {}
    fanout = 0
    for stream in chosen:
        apps = [a for a in tenant.apps(period, stream.id) if a.risk_score <= max_risk]
        calls += pages(len(apps), page)
        for app in apps:
            observations[(stream.id, app.id)] = app
            if app.user_count > 0:
                ids = tuple(tenant.users(period, stream.id, app.id))
                users[(stream.id, app.id)] = ids
                calls += pages(len(ids), page)
                fanout += 1
            if devices and stream.is_endpoint:
                names = tuple(tenant.devices(period, stream.id, app.id))
                devs[(stream.id, app.id)] = names
                calls += pages(len(names), page)
                fanout += 1
    ids = {app_id for (_, app_id) in observations}
    order = tuple(sorted(ids, key=lambda i: (0, int(i), "") if i.isdigit() else (1, 0, i)))
    return Truth(tuple(chosen), observations, users, devs, order, calls, fanout)


def assert_matches(data, want):
    """Apps (every field), merged views, users per app and stream, flags, devices."""
    assert data.complete
    assert data.streams == want.streams
    got = {(o.stream_id, o.id): o for m in data.apps for o in m.observations}
    assert got == want.observations
    assert tuple(m.id for m in data.apps) == want.app_order
    for merged in data.apps:
        seen = [o for (s, a), o in want.observations.items() if a == merged.id]
        assert merged.observations == tuple(seen)
        assert merged.app.last_seen == max(o.last_seen for o in seen)
        assert merged.app.user_count == max(o.user_count for o in seen)
        assert merged.app.stream_id is None
    flags = {s.id: (s.anonymize_users, s.anonymize_devices) for s in want.streams}
    for stream_id, app_id in want.observations:
        users = [u for u in data.users.get(app_id, ()) if u.stream_id == stream_id]
        assert tuple(u.identifier for u in users) == want.users.get((stream_id, app_id), ())
        assert all(u.app_id == app_id for u in users)
        assert all(u.anonymized == flags[stream_id][0] for u in users)
        devices = [d for d in data.devices.get(app_id, ()) if d.stream_id == stream_id]
        assert tuple(d.name for d in devices) == want.devices.get((stream_id, app_id), ())
        assert all(d.anonymized == flags[stream_id][1] for d in devices)
    assert sum(map(len, data.users.values())) == sum(map(len, want.users.values()))
