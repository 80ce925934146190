"""Chains are data: names, reordering, tiers, custom objects and entry-point plugins."""

import textwrap

import pytest

from cisync_lib import ConfigError, CorrelationError, UnknownStrategyError
from cisync_lib.correlation import (
    Correlator,
    CorrelatorConfig,
    InMemoryUserDirectory,
    ReasonCode,
    Status,
    Tier,
)
from cisync_lib.correlation._chain import ENTRY_POINT_GROUP, AliasMapStrategy, available_strategies
from cisync_lib.correlation._strategies import EmailStrategy

from .conftest import user

BUILTINS = {
    "alias_map",
    "email",
    "upn_user_name",
    "email_upn",
    "domain_alias",
    "downlevel",
    "plus_tag_strip",
    "proxy_address",
    "local_part",
}


def names_of(chain):
    return [[m.name for m in s.members] if isinstance(s, Tier) else s.name for s in chain]


def test_builtins_are_registered_by_name():
    """Every built-in strategy can be named in a config file."""
    assert set(available_strategies()) >= BUILTINS


def test_default_chain_grows_with_configuration():
    """Default: the email+UPN tier; configured rules add their strategies, the alias map goes first."""
    from cisync_lib.correlation import AliasMap

    assert names_of(Correlator().chain) == [["email", "upn_user_name"]]
    config = CorrelatorConfig(
        domain_aliases={"contoso.onmicrosoft.com": "contoso.com"},
        netbios_domains={"CONTOSO": {"upn_suffix": "contoso.com"}},
        plus_tag_domains=["contoso.com"],
        proxy_address_field="u_proxy",
        local_part_domains=["contoso.com"],
    )
    chain = Correlator(config, alias_map=AliasMap([])).chain
    assert names_of(chain) == [
        "alias_map",
        ["email", "upn_user_name"],
        "domain_alias",
        "downlevel",
        "plus_tag_strip",
        "proxy_address",
        "local_part",
    ]


def test_chain_from_names_reordered_and_dropped():
    """A config can name the chain; email-only reproduces the product's behaviour."""
    u = user("U1", "jdoe@contoso.com", "other@contoso.com")
    email_only = Correlator(CorrelatorConfig(strategies=["email"]))
    (result,) = email_only.resolve(["jdoe@contoso.com"], InMemoryUserDirectory([u]))
    assert result.reason is ReasonCode.NO_CANDIDATE
    upn_first = Correlator(strategies=["upn_user_name", "email"])
    assert names_of(upn_first.chain) == ["upn_user_name", "email"]
    (result,) = upn_first.resolve(["jdoe@contoso.com"], InMemoryUserDirectory([u]))
    assert (result.status, result.strategy) == (Status.MATCHED, "upn_user_name")


def test_list_in_a_chain_is_a_tier():
    """A list of names is evaluated as one tier."""
    chain = Correlator(strategies=[["email", "upn_user_name"], "downlevel"]).chain
    assert names_of(chain) == [["email", "upn_user_name"], "downlevel"]


def test_unknown_name_is_an_error():
    """An unknown name raises UnknownStrategyError listing the known ones."""
    with pytest.raises(UnknownStrategyError) as caught:
        Correlator(strategies=["email", "fuzzy"])
    assert caught.value.name == "fuzzy"
    assert "email_upn" in str(caught.value)


def test_alias_map_is_put_first_when_not_placed():
    """Given an alias map, the chain starts with it unless it names alias_map itself."""
    from cisync_lib.correlation import AliasMap

    chain = Correlator(alias_map=AliasMap([]), strategies=["email"]).chain
    assert isinstance(chain[0], AliasMapStrategy)
    placed = Correlator(alias_map=AliasMap([]), strategies=["email", "alias_map"]).chain
    assert names_of(placed) == ["email", "alias_map"]


def test_custom_strategy_object_in_the_chain():
    """Any object with the Strategy members can be a step."""
    chain = Correlator(strategies=[EmailStrategy(name="primary_email")]).chain
    assert names_of(chain) == ["primary_email"]


def test_proxy_address_by_name_needs_the_field():
    """Naming proxy_address without its field is a configuration error."""
    with pytest.raises(CorrelationError, match="proxy_address_field"):
        Correlator(strategies=["proxy_address"])


PLUGIN = """
import re
from cisync_lib.correlation import InputKind, LookupKey, StrategyOutcome

class EmployeeNumber:
    name = "employee_number"
    confidence = 0.95

    def __init__(self, context):
        self.field = "employee_number"

    def applies_to(self, parsed):
        return re.search(r"e([0-9]{6})", parsed.normalized) is not None

    def lookup_keys(self, parsed):
        number = re.search(r"e([0-9]{6})", parsed.normalized).group(1)
        return (LookupKey(field=self.field, value=number),)

    def evaluate(self, parsed, index):
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))

def broken(context):
    return "not a strategy"
"""


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real distribution (module + dist-info with entry points) on sys.path."""
    (tmp_path / "acme_correlation.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "acme_correlation-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-correlation\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""
            [{ENTRY_POINT_GROUP}]
            employee_number = acme_correlation:EmployeeNumber
            broken = acme_correlation:broken
            email = acme_correlation:broken
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    import sys

    sys.modules.pop("acme_correlation", None)


def test_entry_point_plugin_is_discovered_and_used(installed_plugin):
    """A strategy from an installed distribution's entry point is usable by name."""
    assert "employee_number" in available_strategies()
    correlator = Correlator(strategies=["email_upn", "employee_number"])
    person = user("U1", "jdoe", "jdoe@contoso.com", extra={"employee_number": "004711"})
    plan = correlator.plan(["jdoe-e004711"])
    assert any(k.field == "employee_number" for k in plan.request.keys)
    assert "employee_number" in plan.request.fields
    (result,) = correlator.resolve(["jdoe-e004711"], InMemoryUserDirectory([person]))
    assert (result.status, result.user.sys_id, result.strategy) == (
        Status.MATCHED,
        "U1",
        "employee_number",
    )


def test_entry_point_plugin_cannot_shadow_a_builtin(installed_plugin, caplog):
    """A plugin named like a built-in is ignored with a warning."""
    chain = Correlator(strategies=["email"]).chain
    assert isinstance(chain[0], EmailStrategy)
    assert any("shadows a built-in" in r.getMessage() for r in caplog.records)


def test_entry_point_plugin_returning_garbage_is_an_error(installed_plugin):
    """A plugin factory that does not return a strategy fails clearly."""
    with pytest.raises(CorrelationError, match="not a Strategy"):
        Correlator(strategies=["broken"])


def test_config_from_tenant_settings_mapping():
    """CorrelatorConfig builds from the sandbox's correlation_settings mapping; unknown keys fail."""
    config = CorrelatorConfig.from_mapping(
        {
            "domain_aliases": {"Contoso.onmicrosoft.com": "contoso.com"},
            "netbios_domains": {"CONTOSO": {"upn_suffix": "contoso.com"}},
            "plus_tag_domains": ["contoso.com"],
        }
    )
    assert config.domain_aliases == {"contoso.onmicrosoft.com": "contoso.com"}
    assert config.netbios_domains == {"contoso": {"upn_suffix": "contoso.com"}}
    assert config.plus_tag_domains == frozenset({"contoso.com"})
    with pytest.raises(
        ConfigError, match=r"aliases\.yaml: domain_alias: unknown correlation setting"
    ):
        CorrelatorConfig.from_mapping({"domain_alias": {}}, file="aliases.yaml")
    with pytest.raises(ConfigError, match=r"netbios_domains\.CONTOSO"):
        CorrelatorConfig.from_mapping({"netbios_domains": {"CONTOSO": {"suffix": "x.com"}}})
    with pytest.raises(ConfigError, match="inactive_policy"):
        CorrelatorConfig.from_mapping({"inactive_policy": "never"})
    with pytest.raises(ConfigError, match="plus_tag_domains"):
        CorrelatorConfig(plus_tag_domains=["not a domain"])
