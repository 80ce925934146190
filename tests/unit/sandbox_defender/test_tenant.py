"""Generated tenants: determinism, nesting periods, skew, and ground truth that agrees with the rules."""

import itertools
import re
from collections import Counter

import pytest

from cisync_lib import ConfigError
from cisync_lib.correlation import ReasonCode, Status
from cisync_lib.sandbox._tenant import IdentifierForm, generate_tenant

from .reference_resolver import ReferenceResolver

PERIODS = ("P7D", "P30D", "P90D")


@pytest.fixture(scope="module")
def tiny():
    return generate_tenant("tiny", 0)


@pytest.fixture(scope="module")
def small():
    return generate_tenant("small", 7)


def snapshot(tenant):
    """Everything a tenant exposes, as plain comparable values."""
    out = {
        "streams": tenant.streams,
        "sys_users": tenant.sys_users,
        "truth": dict(tenant.truth),
        "app_info": dict(tenant.app_info),
    }
    for stream in tenant.streams:
        for period in PERIODS:
            for app in tenant.apps(period, stream.id):
                key = (period, stream.id, app.id)
                out[key] = (
                    app,
                    tenant.users(*key),
                    tenant.devices(*key),
                    tenant.ip_addresses(*key),
                )
    return out


def test_same_seed_gives_identical_tenants():
    """Two tenants from the same seed are identical in every exposed value."""
    assert snapshot(generate_tenant("small", 3)) == snapshot(generate_tenant("small", 3))


def test_different_seeds_differ():
    """Different seeds change people, streams and usage."""
    a, b = generate_tenant("small", 1), generate_tenant("small", 2)
    assert {u.email for u in a.sys_users} != {u.email for u in b.sys_users}
    assert [s.id for s in a.streams] != [s.id for s in b.streams]
    assert set(a.truth) != set(b.truth)


def test_unknown_size_is_a_config_error():
    """An unknown size names the key and the allowed values."""
    with pytest.raises(ConfigError, match=r"size.*allowed: tiny, small, medium, large"):
        generate_tenant("huge")


def test_unknown_period_is_a_config_error(tiny):
    """Periods other than P7D/P30D/P90D are refused."""
    with pytest.raises(ConfigError, match="period"):
        tiny.apps("P60D", tiny.streams[0].id)


def test_streams_include_anonymized_endpoint_and_snapshot(tiny):
    """The stream set covers every kind a sync must handle."""
    assert sum(s.anonymize_users for s in tiny.streams) == 1
    assert sum(s.is_endpoint for s in tiny.streams) == 1
    assert sum(s.is_snapshot for s in tiny.streams) == 1
    assert len({s.id for s in tiny.streams}) == len(tiny.streams) >= 4
    assert all(re.fullmatch(r"[0-9a-f]{24}", s.id) for s in tiny.streams)


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_periods_nest(size):
    """Users, IPs and app sets of 7 days are within 30 days, within 90 days; metrics grow."""
    tenant = generate_tenant(size, 11)
    for stream in tenant.streams:
        ids = [tenant.app_ids(p, stream.id) for p in PERIODS]
        assert ids[0] <= ids[1] <= ids[2]
        for app_id in ids[2]:
            apps = [tenant.app(p, stream.id, app_id) for p in PERIODS]
            users = [
                tenant.users(p, stream.id, app_id) if a else ()
                for p, a in zip(PERIODS, apps, strict=True)
            ]
            assert set(users[0]) <= set(users[1]) <= set(users[2])
            present = [a for a in apps if a is not None]
            for shorter, longer in itertools.pairwise(present):
                assert shorter.transaction_count <= longer.transaction_count
                assert shorter.ip_address_count <= longer.ip_address_count
                assert shorter.last_seen == longer.last_seen
    # and the windows do differ somewhere
    assert any(tenant.app_ids("P7D", s.id) != tenant.app_ids("P90D", s.id) for s in tenant.streams)


def test_counts_match_lists(small):
    """userCount, ipAddressCount and deviceCount equal the lengths of the lists served."""
    for stream in small.streams:
        for period in PERIODS:
            for app in small.apps(period, stream.id):
                key = (period, stream.id, app.id)
                assert app.user_count == len(small.users(*key)) == len(set(small.users(*key)))
                assert app.ip_address_count == len(set(small.ip_addresses(*key)))
                if stream.is_endpoint:
                    assert app.device_count == len(set(small.devices(*key)))
                else:
                    assert app.device_count is None
                    assert small.devices(*key) == ()
                assert (app.stream_id, app.period) == (stream.id, period)


def test_usage_is_skewed(small):
    """A few apps reach most people; the median app reaches few."""
    stream = next(s for s in small.streams if s.is_endpoint)
    counts = sorted((a.user_count for a in small.apps("P90D", stream.id)), reverse=True)
    population = max(counts)
    assert counts[0] > 10 * counts[len(counts) // 2]
    assert 3 <= sum(c > 0.6 * population for c in counts) <= 6


def test_catalogue_is_realistic(small):
    """Categories, risk scores, sanction tags and app info vary like a real catalogue."""
    apps = {a.id: a for s in small.streams for a in small.apps("P90D", s.id)}
    assert len({a.category for a in apps.values()}) >= 10
    assert {a.risk_score for a in apps.values()} >= {3, 6, 9, 10}
    tags = Counter(t for a in apps.values() for t in a.tags)
    assert tags["Sanctioned"]
    assert tags["Unsanctioned"]
    assert tags["Monitored"]
    assert all(a.domains for a in apps.values())
    assert set(small.app_info) >= set(apps)
    info = small.app_info["11114"]
    assert info.vendor == "Salesforce"
    assert {True, False, None} == {v for i in small.app_info.values() for v in i.flags.values()}


def test_anonymized_stream_holds_only_tokens(tiny):
    """Every identifier of the anonymized stream is a token, and tokens appear nowhere else."""
    for stream in tiny.streams:
        idents = {
            u for a in tiny.apps("P90D", stream.id) for u in tiny.users("P90D", stream.id, a.id)
        }
        tokens = {i for i in idents if re.fullmatch(r"[0-9a-f]{32}", i)}
        if stream.anonymize_users:
            assert idents == tokens != set()
        else:
            assert not tokens


def test_sys_user_rows_are_well_formed(small):
    """sys_ids are 32-hex and unique; user_names are unique; the mess is there."""
    users = small.sys_users
    assert len({u.sys_id for u in users}) == len(users)
    assert all(re.fullmatch(r"[0-9a-f]{32}", u.sys_id) for u in users)
    assert len({u.user_name.casefold() for u in users}) == len(users)
    emails = Counter(u.email.casefold() for u in users)
    assert any(n > 1 for n in emails.values())  # duplicate emails exist
    assert any(not u.active for u in users)
    assert any(u.web_service_access_only for u in users)
    assert any(u.internal_integration_user for u in users)
    assert any("@" in u.user_name for u in users)
    assert any("@" not in u.user_name for u in users)
    names = {u.user_name.casefold() for u in users}
    assert any(
        u.email.casefold() in names and u.user_name.casefold() != u.email.casefold() for u in users
    )


@pytest.mark.parametrize("seed", range(4))
def test_every_form_is_in_tiny_with_its_outcome(seed):
    """Each identifier form appears in tiny tenants' data and carries its expected outcome."""
    tenant = generate_tenant("tiny", seed)
    shown = {
        u
        for s in tenant.streams
        for p in PERIODS
        for a in tenant.apps(p, s.id)
        for u in tenant.users(p, s.id, a.id)
    }
    assert set(tenant.truth) == shown
    forms = Counter(t.form for t in tenant.truth.values())
    assert set(forms) == {f.value for f in IdentifierForm}
    # spot checks of the semantics, independent of the reference resolver below
    (empty,) = tenant.identifiers("empty")
    assert empty.identifier == ""
    assert empty.default.reason is ReasonCode.EMPTY_INPUT
    assert tenant.identifiers("anonymous_user")[0].identifier == "AnonymousUser"
    for t in tenant.identifiers("downlevel"):
        assert t.identifier.startswith("CONTOSO\\")
        assert t.default.reason is ReasonCode.DOMAIN_NOT_ALLOWED
        assert t.configured.status is Status.MATCHED
        assert t.configured.sys_id == t.person
    for t in tenant.identifiers("local_account"):
        assert re.fullmatch(r"[^\\]+\\[A-Z]+-[A-Z0-9]+", t.identifier)
    for t in tenant.identifiers("onmicrosoft_alias"):
        assert t.identifier.endswith("@contoso.onmicrosoft.com")
    for t in tenant.identifiers("plus_address"):
        assert "+" in t.identifier.split("@")[0]


@pytest.mark.parametrize(("size", "seed"), [("tiny", 0), ("tiny", 5), ("small", 7), ("medium", 1)])
def test_ground_truth_agrees_with_a_reference_resolver(size, seed):
    """An independent resolver over the generated rows reaches every expected outcome."""
    tenant = generate_tenant(size, seed)
    default = ReferenceResolver(tenant.sys_users)
    configured = ReferenceResolver(tenant.sys_users, tenant.correlation_settings)
    for ident, truth in tenant.truth.items():
        for resolver, expected in ((default, truth.default), (configured, truth.configured)):
            got = resolver.resolve(ident)
            assert got == (expected.status, expected.reason, expected.sys_id), (truth.form, ident)


def test_person_is_the_human_behind_the_identifier(small):
    """Matched identifiers point at their person; every person is a sys_user row."""
    rows = {u.sys_id: u for u in small.sys_users}
    for truth in small.truth.values():
        if truth.person is not None:
            assert truth.person in rows
        if truth.configured.status is Status.MATCHED:
            assert truth.configured.sys_id == truth.person
    persons = {t.person for t in small.truth.values() if t.form == "service_account"}
    assert persons == {None}


def test_correlation_settings_use_the_correlator_names(tiny):
    """The settings are plain data under the names CorrelatorConfig uses, and a fresh copy."""
    settings = tiny.correlation_settings
    assert settings == {
        "domain_aliases": {"contoso.onmicrosoft.com": "contoso.com"},
        "netbios_domains": {"CONTOSO": {"upn_suffix": "contoso.com"}},
        "plus_tag_domains": ["contoso.com"],
    }
    settings["plus_tag_domains"].append("x")
    assert tiny.correlation_settings["plus_tag_domains"] == ["contoso.com"]


def test_config_sizes_are_the_generator_sizes():
    """SandboxConfig accepts exactly the sizes generate_tenant knows."""
    from cisync_lib.sandbox import SandboxConfig
    from cisync_lib.sandbox._config import TENANT_SIZE_NAMES
    from cisync_lib.sandbox._tenant import TENANT_SIZES

    assert tuple(TENANT_SIZES) == TENANT_SIZE_NAMES
    with pytest.raises(ConfigError, match="size"):
        SandboxConfig(size="huge")


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"graph_page_size": 0}, "graph_page_size"),
        ({"mdca_page_limit": 101}, "mdca_page_limit"),
        ({"mdca_rate_limit": 0}, "mdca_rate_limit"),
        ({"mdca_rate_window": 0}, "mdca_rate_window"),
        ({"token_lifetime": 0}, "token_lifetime"),
    ],
)
def test_defender_options_are_checked(options, key):
    """Bad Defender options name their key."""
    from cisync_lib.sandbox import DefenderOptions

    with pytest.raises(ConfigError, match=f"defender.{key}"):
        DefenderOptions(**options)
