"""Local logons with plain computer names (issue 11, item 8): hand-written cases.

Each expectation follows the documented rule (``local_logon_evidence``), not the code.
"""

from __future__ import annotations

import pytest

from cisync_lib.correlation import CorrelatorConfig, ReasonCode
from cisync_lib.correlation._parse import ObservedName, parse
from cisync_lib.correlation._result import describe

CONFIGURED = CorrelatorConfig(netbios_domains={"CONTOSO": {"upn_suffix": "contoso.com"}})


@pytest.mark.parametrize(
    ("raw", "reason", "host"),
    [
        # the case: a user on a computer named without a hyphen
        ("jdoe\\WS0042", ReasonCode.LOCAL_ACCOUNT, "ws0042"),
        ("alice\\PC12", ReasonCode.LOCAL_ACCOUNT, "pc12"),
        ("Bob.Smith\\SRV01", ReasonCode.LOCAL_ACCOUNT, "srv01"),
        # hyphenated device names, as before
        ("jdoe\\LAPTOP-7F3KQ2M", ReasonCode.LOCAL_ACCOUNT, "laptop-7f3kq2m"),
        # built-in accounts exist on every computer, whatever the right side looks like
        ("Administrator\\FINANCEBOX", ReasonCode.LOCAL_ACCOUNT, "financebox"),
        ("Guest\\KIOSK", ReasonCode.LOCAL_ACCOUNT, "kiosk"),
        ("WDAGUtilityAccount\\ANYTHING", ReasonCode.LOCAL_ACCOUNT, "anything"),
        # a computer's machine account is never a person
        ("FABRIKAM\\WS0042$", ReasonCode.LOCAL_ACCOUNT, "ws0042"),
        # an upper-case left side reads as a NetBIOS domain: DOMAIN\user
        ("FABRIKAM\\jsmith", ReasonCode.DOMAIN_NOT_ALLOWED, None),
        ("FABRIKAM\\jsmith01", ReasonCode.DOMAIN_NOT_ALLOWED, None),  # right side not capitals
        ("FABRIKAM\\WS0042", ReasonCode.DOMAIN_NOT_ALLOWED, None),  # both capitals: ambiguous
        ("jdoe\\finance", ReasonCode.DOMAIN_NOT_ALLOWED, None),  # no host evidence at all
    ],
)
def test_unconfigured_backslash_names(raw, reason, host):
    parsed = parse(raw)
    assert parsed.skip_reason is reason
    if host is not None:
        assert parsed.host == host


def test_an_endpoint_stream_tips_an_ambiguous_name_to_a_local_logon():
    name = ObservedName(raw="FABRIKAM\\WS0042", context={"endpoint": "true"})
    parsed = parse(name)
    assert parsed.skip_reason is ReasonCode.LOCAL_ACCOUNT
    assert parsed.evidence == "host name on an endpoint stream"
    # but never a name without a host-name shape
    other = parse(ObservedName(raw="FABRIKAM\\JSMITH", context={"endpoint": "true"}))
    assert other.skip_reason is ReasonCode.DOMAIN_NOT_ALLOWED


def test_a_configured_domain_always_wins():
    parsed = parse("CONTOSO\\WS0042", CONFIGURED)
    assert parsed.skip_reason is None
    assert parsed.netbios == "contoso"
    assert parse("CONTOSO\\Administrator", CONFIGURED).skip_reason is None


def test_the_advice_fits_each_reason():
    local = parse("jdoe\\WS0042")
    text = describe(local.skip_reason, local)
    assert "local to computer 'ws0042'" in text
    assert "nothing to do" in text
    assert "netbios_domains" not in text
    machine = parse("FABRIKAM\\WS0042$")
    assert "machine account of computer 'ws0042'" in describe(machine.skip_reason, machine)
    domain = parse("FABRIKAM\\jsmith")
    text = describe(domain.skip_reason, domain)
    assert "add it to netbios_domains" in text
    assert "'fabrikam'" in text
