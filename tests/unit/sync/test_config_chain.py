"""The config's correlation chain: names only, built-ins or entry-point plugins.

Import paths (``"package.module:factory"``) are no longer read: a config naming one
fails when it is loaded. A name no strategy is registered under depends on what is
installed where the config is used, not on the file: it fails when a correlator or a
job is built from the config (a job: before it connects), so commands that do not
correlate (``cisync settings``, ``cisync init --sandbox``) still work on a machine
without the plugin. Both errors are ConfigErrors naming the file, the line and the key,
the known names, and how a custom strategy is registered.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cisync_lib import ConfigError
from cisync_lib.correlation import Correlator
from cisync_lib.correlation._chain import ENTRY_POINT_GROUP
from cisync_lib.sync import job_from_config, load_deployment
from cisync_lib.sync._specs import STRATEGY_ENTRY_POINTS

CONFIG = """\
[connections.contoso]
kind = "snapshot"
path = "snapshot.json"

[destinations.test]
instance_url = "https://test.example.com"
environment = "test"
username = "cisync"

[correlation]
chain = [
    "alias_map",
    "email_upn",
    {item},
]
"""
#: the line the chain starts on (a multi-line array's items are named by index)
CHAIN_LINE = CONFIG.splitlines().index("chain = [") + 1
#: the built-in names, as docs/strategies.md lists them
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

PLUGIN = """
from cisync_lib.correlation import StrategyOutcome

class EmployeeEmail:
    name = "employee_email"
    confidence = 0.9

    def __init__(self, context):
        self.context = context

    def applies_to(self, parsed):
        return False

    def lookup_keys(self, parsed):
        return ()

    def evaluate(self, parsed, index):
        return StrategyOutcome.not_applicable()
"""


def load(tmp_path: Path, item: str):
    path = tmp_path / "cisync.toml"
    path.write_text(CONFIG.format(item=f'"{item}"'), encoding="utf-8")
    return load_deployment(path)


def error_of(tmp_path: Path, item: str) -> ConfigError:
    """The error of a load (an import path) or, once loaded, of building the correlator."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, item).correlator()
    return info.value


@pytest.fixture
def plugin_installed(tmp_path_factory, monkeypatch):
    """A real distribution on sys.path registering ``employee_email`` in the entry-point group."""
    site = tmp_path_factory.mktemp("site")
    (site / "acme_chain_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "acme_chain_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-chain-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[cisync_lib.correlation]\nemployee_email = acme_chain_plugin:EmployeeEmail\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("acme_chain_plugin", None)


def test_the_message_names_the_entry_point_group_correlation_reads():
    assert STRATEGY_ENTRY_POINTS == ENTRY_POINT_GROUP == "cisync_lib.correlation"


def test_an_unknown_name_names_file_line_key_and_the_known_names(tmp_path):
    error = error_of(tmp_path, "fuzzy")
    assert error.file == str(tmp_path / "cisync.toml")
    assert error.line == CHAIN_LINE
    assert error.key == "correlation.chain[2]"
    assert set((error.allowed or "").split(", ")) >= BUILTINS
    assert error.problem.startswith("unknown correlation strategy 'fuzzy'")
    assert "entry point in the group 'cisync_lib.correlation'" in error.problem
    text = str(error)
    assert text.startswith(f"{tmp_path / 'cisync.toml'}:{CHAIN_LINE}: correlation.chain[2]: ")
    assert "email_upn" in text


def test_a_former_import_path_is_refused_with_how_to_register_it(tmp_path):
    # the module exists and its factory works: the import path is refused all the same
    error = error_of(tmp_path, "cisync_lib.correlation:Correlator")
    assert (error.key, error.line) == ("correlation.chain[2]", CHAIN_LINE)
    assert "unknown correlation strategy 'cisync_lib.correlation:Correlator'" in error.problem
    assert 'import paths ("package.module:factory") are no longer read' in error.problem
    assert "'cisync_lib.correlation'" in error.problem


def test_a_name_registered_by_an_installed_plugin_loads_and_builds(tmp_path, plugin_installed):
    assert "employee_email" in Correlator.strategy_names()
    config = load(tmp_path, "employee_email")
    assert config.correlation.config.strategies == ("alias_map", "email_upn", "employee_email")
    chain = config.correlator().chain
    assert chain[-1].name == "employee_email"


def test_the_plugin_name_is_unknown_once_its_package_is_gone(tmp_path):
    assert "employee_email" not in Correlator.strategy_names()
    assert error_of(tmp_path, "employee_email").key == "correlation.chain[2]"


def test_a_config_naming_a_plugin_not_installed_here_loads_for_what_does_not_correlate(
    tmp_path,
):
    # e.g. `cisync settings promote` on an admin's machine, the plugin installed only where
    # the scheduled sync runs (or installed later): the settings and consent are readable
    config = load(tmp_path, "employee_email")
    assert config.correlation.config.strategies == ("alias_map", "email_upn", "employee_email")
    assert config.settings("contoso").connection == "contoso"
    with pytest.raises(ConfigError) as info:
        config.correlator()
    assert (info.value.key, info.value.line) == ("correlation.chain[2]", CHAIN_LINE)
    assert "unknown correlation strategy 'employee_email'" in info.value.problem


def test_a_job_is_not_built_from_a_chain_naming_an_unknown_strategy(tmp_path):
    config = load(tmp_path, "employee_email")
    with pytest.raises(ConfigError) as info:
        job_from_config(config, "test", environ={"CISYNC_TEST_PASSWORD": "x"})
    assert (info.value.key, info.value.line) == ("correlation.chain[2]", CHAIN_LINE)
    assert info.value.file == str(tmp_path / "cisync.toml")


def test_a_former_import_path_fails_at_load_already(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "acme.strategies:make")
    assert info.value.key == "correlation.chain[2]"


def test_strategy_names_are_the_builtins_sorted():
    names = Correlator.strategy_names()
    assert set(names) >= BUILTINS
    assert list(names) == sorted(names)


def test_a_default_chain_needs_no_check(tmp_path):
    path = tmp_path / "cisync.toml"
    path.write_text(CONFIG.split("[correlation]")[0], encoding="utf-8")
    assert load_deployment(path).correlation.config.strategies is None


def test_an_empty_chain_is_not_a_name_error(tmp_path):
    path = tmp_path / "cisync.toml"
    path.write_text(CONFIG.split("chain = [")[0] + "chain = []\n", encoding="utf-8")
    config = load_deployment(path)
    assert config.correlation.config.strategies == ()
