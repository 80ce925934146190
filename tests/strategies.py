"""Hypothesis strategies for cisync_lib's models (shared by several test modules)."""

from datetime import datetime, timezone

from hypothesis import strategies as st

from cisync_lib import (
    AppCategory,
    AppInfo,
    AppUser,
    DiscoveredApp,
    DiscoveryStream,
    Holding,
    LogDataProvider,
)
from cisync_lib.settings import SETTINGS, ConnectionSettings, Environment, Override, SettingSpec

text = st.text(max_size=20)
ids = st.text(alphabet="0123456789abcdef", min_size=1, max_size=24)
counts = st.integers(min_value=0, max_value=2**53)
timestamps = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)
opt_ts = st.none() | timestamps
str_tuples = st.lists(text, max_size=4).map(tuple)


# unknown enum values must survive as plain strings; avoid strings that collide
# (case-insensitively) with a known member, which are normalised to the member.
def _enum_or_str(enum_cls):
    known = {str(m.value).casefold() for m in enum_cls}
    return st.sampled_from(list(enum_cls)) | text.filter(lambda s: s.casefold() not in known)


streams = st.builds(
    DiscoveryStream,
    id=ids,
    display_name=text,
    description=text,
    is_snapshot=st.booleans(),
    anonymize_users=st.booleans(),
    anonymize_devices=st.booleans(),
    log_data_provider=st.none() | _enum_or_str(LogDataProvider),
    receiver_protocol=st.none() | text,
    created=opt_ts,
    last_modified=opt_ts,
    last_data_received=opt_ts,
    supported_entity_types=str_tuples,
    supported_traffic_types=str_tuples,
    log_file_count=st.none() | counts,
)

apps = st.builds(
    DiscoveredApp,
    id=ids,
    name=text,
    category=_enum_or_str(AppCategory),
    risk_score=st.integers(0, 10),
    tags=str_tuples,
    domains=str_tuples,
    user_count=counts,
    ip_address_count=counts,
    transaction_count=counts,
    device_count=st.none() | counts,
    upload_bytes=counts,
    download_bytes=counts,
    last_seen=opt_ts,
    stream_id=st.none() | ids,
    period=st.none() | st.sampled_from(["P7D", "P30D", "P90D"]),
)

# single-letter words do not survive camelCase (isAB is ambiguous); Graph has none
flag_names = st.from_regex(r"is_[a-z][a-z0-9]{1,8}(_[a-z][a-z0-9]{1,6}){0,2}", fullmatch=True)

app_infos = st.builds(
    AppInfo,
    vendor=st.none() | text,
    headquarters=st.none() | text,
    hosting_company=st.none() | text,
    founded=st.none() | st.integers(1800, 2100),
    holding=st.none() | _enum_or_str(Holding),
    data_center=st.none() | text,
    logon_urls=st.none() | text,
    domain_registration=opt_ts,
    latest_breach=opt_ts,
    csa_star_level=st.none() | text,
    data_at_rest_encryption_method=st.none() | text,
    data_retention_policy=st.none() | text,
    data_types=st.none() | text,
    fed_ramp_level=st.none() | text,
    pci_dss_version=st.none() | text,
    tls_encryption_protocol=st.none() | text,
    flags=st.dictionaries(flag_names, st.none() | st.booleans(), max_size=6),
)

app_users = st.builds(AppUser, identifier=text, app_id=ids, stream_id=ids, anonymized=st.booleans())


# --- connection settings -----------------------------------------------------------


def setting_values(spec: SettingSpec) -> st.SearchStrategy[object]:
    """Any value the setting accepts, bounds included."""
    if spec.type is bool:
        return st.booleans()
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.type is int:
        low = int(spec.minimum) if spec.minimum is not None else -1000
        high = int(spec.maximum) if spec.maximum is not None else 10_000
        return st.integers(low, high)
    return st.floats(spec.minimum, spec.maximum, allow_nan=False, allow_infinity=False)


def _named_override(name: str) -> st.SearchStrategy[tuple[str, Override]]:
    spec = SETTINGS[name]
    override = st.builds(Override, enabled=st.booleans(), value=setting_values(spec))
    return st.tuples(st.just(name), override)


env_overrides = st.lists(st.sampled_from(list(SETTINGS)).flatmap(_named_override), max_size=6).map(
    dict
)
connection_names = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
connection_settings = st.builds(
    ConnectionSettings,
    connection=connection_names,
    overrides=st.fixed_dictionaries(
        {Environment.TEST: env_overrides, Environment.PROD: env_overrides}
    ),
)


# --- cisync_lib.defender: one read's data (snapshot round trips) ----------------


def _defender_data(draw):
    import attrs

    from cisync_lib.defender import AppDevice, DefenderData
    from cisync_lib.defender._data import merge_apps

    stream_list = draw(st.lists(streams, min_size=1, max_size=3, unique_by=lambda s: s.id))
    stream_ids = [s.id for s in stream_list]
    observations = draw(
        st.lists(
            st.builds(
                lambda app, sid, period: attrs.evolve(app, stream_id=sid, period=period),
                apps,
                st.sampled_from(stream_ids),
                st.sampled_from(["P7D", "P30D", "P90D"]),
            ),
            max_size=5,
        )
    )
    merged = merge_apps(observations)
    app_ids = [m.id for m in merged] or ["none"]
    users = draw(
        st.dictionaries(st.sampled_from(app_ids), st.lists(app_users, max_size=3).map(tuple))
    )
    devices = draw(
        st.dictionaries(
            st.sampled_from(app_ids),
            st.lists(
                st.builds(
                    AppDevice, name=text, app_id=ids, stream_id=ids, anonymized=st.booleans()
                ),
                max_size=3,
            ).map(tuple),
        )
    )
    return DefenderData(
        streams=tuple(stream_list),
        apps=merged,
        users=users,
        devices=devices,
        app_info=draw(st.dictionaries(st.sampled_from(app_ids), app_infos, max_size=2)),
        complete=draw(st.booleans()),
        read_at=draw(timestamps),
        period=draw(st.sampled_from(["P7D", "P30D", "P90D"])),
        max_risk_score=draw(st.integers(0, 10)),
        users_read=draw(st.booleans()),
        source=draw(st.sampled_from(["graph", "legacy"])),
    )


defender_data = st.composite(_defender_data)()


# --- cisync_lib.cmdb: desired states and CMDB states for planner laws -------------------

#: the integration account whose links count as ours, and another account's.
CMDB_ME = "cisync.integration"
CMDB_SOMEONE = "admin"
_app_ids = st.integers(0, 7).map(str)
_names = st.sampled_from(["Box", "Slack", "Zoom", "Miro", "Notion", "Figma"])
_sys_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
cmdb_users = st.integers(0, 5).map(lambda n: f"{n:032x}")


@st.composite
def cmdb_desired(draw):
    """Discovered apps (unique ids), their catalogue facts, and their users' sys_ids."""
    ids = draw(st.lists(_app_ids, unique=True, max_size=5))
    apps = [
        DiscoveredApp(
            id=i,
            name=draw(_names | st.just(f"App {i}")),
            risk_score=draw(st.integers(0, 10)),
            tags=draw(st.lists(st.sampled_from(["Sanctioned", "Unsanctioned", "x"]), max_size=2)),
        )
        for i in ids
    ]
    info = {i: AppInfo(vendor=draw(st.sampled_from(["Acme", "Globex", None]))) for i in ids}
    links = {i: draw(st.lists(cmdb_users, max_size=3)) for i in ids}
    return apps, info, links


_cmdb_values = st.dictionaries(
    st.sampled_from(
        ["operational_status", "application_type", "install_type", "vendor", "discovery_source",
         "short_description", "first_discovered", "last_discovered", "business_owner"]
    ),
    st.sampled_from(["", "1", "6", "saas", "cloud", "stale", "2026-11-01 00:00:00"]),
)  # fmt: skip


@st.composite
def cmdb_rows(draw):
    """Rows already in the CMDB: ours (by correlation id), others' (adoptable by name), links."""
    from cisync_lib.cmdb._state import AppRow, LinkRow

    sys_ids = draw(st.lists(_sys_ids, unique=True, min_size=8, max_size=8))
    apps = []
    for sys_id in sys_ids[: draw(st.integers(0, 6))]:
        ours = draw(st.booleans())
        apps.append(
            AppRow(
                sys_id=sys_id,
                correlation_id=f"mdca:app:{draw(_app_ids)}" if ours else "",
                name=draw(_names),
                values=draw(_cmdb_values),
            )
        )
    links = []
    for n, ci in enumerate(draw(st.lists(st.sampled_from([a.sys_id for a in apps]), max_size=6))
                           if apps else []):  # fmt: skip
        links.append(
            LinkRow(
                sys_id=f"{n:032x}",
                ci=ci,
                user=draw(cmdb_users),
                created_by=draw(st.sampled_from([CMDB_ME, CMDB_SOMEONE])),
            )
        )
    return tuple(apps), tuple(links)
