"""The deployment config: the example loads, every error names file, key and allowed values."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import pytest

from cisync_lib import ConfigError
from cisync_lib.settings import Consent, Environment, RelationshipKind
from cisync_lib.sync import EXAMPLE_CONFIG, EXAMPLE_SECRETS, load_deployment, load_secrets

BASE = """\
[sync]
connection = "contoso"
secrets_file = "secrets.toml"

[connections.contoso]
kind = "graph"
tenant_id = "00000000-0000-0000-0000-000000000000"
client_id = "app"

[destinations.test]
instance_url = "https://test.example.com"
environment = "test"
username = "cisync"

[destinations.prod]
instance_url = "https://prod.example.com"
environment = "prod"
username = "cisync"
"""


def write(tmp_path: Path, text: str, name: str = "cisync.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_deployment(write(tmp_path, text))
    return info.value


def test_example_config_loads(tmp_path):
    """The text `cisync init` writes loads as written, with both destinations."""
    config = load_deployment(write(tmp_path, EXAMPLE_CONFIG))
    assert set(config.destinations) == {"test", "prod"}
    assert config.destination("prod").environment is Environment.PROD
    assert config.connection().name == "contoso"
    assert config.secrets_file == tmp_path / "cisync-secrets.toml"
    assert config.state_dir == tmp_path / ".cisync" / "state"
    assert config.write_path == "table"


def test_example_secrets_file_loads(tmp_path):
    """The example secrets file (values commented out) is valid and empty."""
    secrets = load_secrets(write(tmp_path, EXAMPLE_SECRETS, "s.toml"), environ={})
    assert secrets.get("destinations", "test", "password") is None


def test_relative_paths_are_relative_to_the_config(tmp_path):
    text = BASE + '[correlation]\nalias_map = "maps/aliases.csv"\n'
    text = text.replace('username = "cisync"\n', 'username = "cisync"\nca_bundle = "ca.pem"\n', 1)
    config = load_deployment(write(tmp_path, text))
    assert config.correlation.alias_map == tmp_path / "maps" / "aliases.csv"
    assert config.destination("test").verify == str(tmp_path / "ca.pem")


@pytest.mark.parametrize(
    ("change", "key", "allowed"),
    [
        (('kind = "graph"', 'kind = "csv"'), "connections.contoso.kind", '"graph" | "legacy"'),
        (('environment = "test"', 'environment = "staging"'), "destinations.test.environment",
         '"test" | "prod"'),
        (('instance_url = "https://test', 'instance_url = "http://test'),
         "destinations.test.instance_url", "https://"),
        (('[sync]\n', '[sync]\nwrite_path = "soap"\n'), "sync.write_path", '"table" | "ire"'),
        (('[sync]\n', '[sync]\ncolour = "blue"\n'), "sync.colour", "write_path"),
        (('username = "cisync"\n', 'username = "cisync"\npage_size = 0\n'),
         "destinations.test.page_size", None),
        (('client_id = "app"\n', 'client_id = "app"\nproxies = { ftp = "x" }\n'),
         "connections.contoso.proxies.ftp", '"http" | "https"'),
    ],
)  # fmt: skip
def test_an_invalid_value_names_file_key_and_allowed_values(tmp_path, change, key, allowed):
    error = error_of(tmp_path, BASE.replace(*change, 1))
    assert error.key == key
    assert error.file == str(tmp_path / "cisync.toml")
    assert error.line is not None
    if allowed:
        assert allowed in (error.allowed or "")
    assert key in str(error)
    assert "cisync.toml" in str(error)


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("destinations.test.password", 'password = "hunter2"'),
        ("destinations.test.client_secret", 'client_secret = "x"'),
        ("connections.contoso.client_secret", 'client_secret = "x"'),
        ("destinations.test.api_token", 'api_token = "x"'),
    ],
)
def test_a_secret_in_the_config_is_refused(tmp_path, key, line):
    section = (
        "[connections.contoso]\n" if key.startswith("connections") else "[destinations.test]\n"
    )
    error = error_of(tmp_path, BASE.replace(section, section + line + "\n", 1))
    assert error.key == key
    assert "secrets never go in the config" in error.problem
    assert "CISYNC_" in error.problem  # names the environment variable to use instead
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    ("remove", "key"),
    [
        ('tenant_id = "00000000-0000-0000-0000-000000000000"\n', "connections.contoso.tenant_id"),
        ('instance_url = "https://test.example.com"\n', "destinations.test.instance_url"),
        ('environment = "test"\n', "destinations.test.environment"),
    ],
)
def test_a_missing_required_key_is_named(tmp_path, remove, key):
    error = error_of(tmp_path, BASE.replace(remove, "", 1))
    assert error.key == key
    assert "required" in error.problem


def test_unknown_default_connection(tmp_path):
    error = error_of(tmp_path, BASE.replace('connection = "contoso"', 'connection = "fabrikam"'))
    assert error.key == "sync.connection"
    assert error.allowed == "contoso"


def test_unknown_relationship(tmp_path):
    error = error_of(tmp_path, BASE.replace("[sync]\n", '[sync]\nrelationships = ["Users"]\n'))
    assert error.key == "sync.relationships[0]"
    assert '"User uses Cloud App"' in (error.allowed or "")


def test_relationships_and_correlation(tmp_path):
    text = BASE.replace("[sync]\n", '[sync]\nrelationships = ["Cloud App"]\n') + textwrap.dedent(
        """
        [correlation]
        chain = ["email_upn", "domain_alias"]
        [correlation.options]
        domain_aliases = { "contoso.onmicrosoft.com" = "contoso.com" }
        """
    )
    config = load_deployment(write(tmp_path, text))
    assert config.relationships == (RelationshipKind.APP_CI,)
    assert config.correlation.config.strategies == ("email_upn", "domain_alias")
    assert config.correlation.config.domain_aliases == {"contoso.onmicrosoft.com": "contoso.com"}


def test_bad_correlation_option_names_its_key(tmp_path):
    text = BASE + '[correlation.options]\ninactive_policy = "never"\n'
    error = error_of(tmp_path, text)
    assert error.key == "correlation.options.inactive_policy"
    assert "prefer_active" in (error.allowed or "")


def test_a_malformed_correlation_option_names_its_key(tmp_path):
    error = error_of(tmp_path, BASE + '[correlation.options]\ndomain_aliases = "contoso.com"\n')
    assert error.key == "correlation.options.domain_aliases"
    assert error.line == 20
    assert error.problem == 'expected a table, got string "contoso.com"'
    assert "None" not in str(error)


def test_destination_choice(tmp_path):
    config = load_deployment(write(tmp_path, BASE))
    assert config.destination("test").name == "test"
    with pytest.raises(ConfigError, match="is prod, not test"):
        config.destination("test", "prod")
    with pytest.raises(ConfigError, match="no such destination"):
        config.destination(None, "staging")
    with pytest.raises(ConfigError, match="several to choose from"):
        config.destination(None)


def test_connection_and_destination_names_must_differ(tmp_path):
    text = BASE.replace("[destinations.test]", "[destinations.contoso]")
    assert error_of(tmp_path, text).key == "destinations.contoso"


def test_settings_live_in_the_same_file_and_save_with_consent(tmp_path):
    """The settings layer reads and writes the deployment config, extra keys and all."""
    path = write(tmp_path, BASE)
    config = load_deployment(path)
    changed = config.settings().with_override("test", "allow_user_sync", True)
    config.settings_file.save(changed, consent=Consent.now("alice@contoso.com"))
    again = load_deployment(path)
    assert again.settings().effective("test").allow_user_sync is True
    assert again.settings_file.consent_log("contoso")[-1].by == "alice@contoso.com"
    assert again.destination("test").instance_url == "https://test.example.com"


def test_kind_mdca_is_a_deprecated_alias_of_graph(tmp_path, caplog):
    """The old spelling loads as the Graph source, warning with the file, line and key."""
    path = write(tmp_path, BASE.replace('kind = "graph"', 'kind = "mdca"'))
    where = f"{path}:6: connections.contoso.kind"
    with pytest.warns(DeprecationWarning, match="is deprecated") as warned:
        config = load_deployment(path)
    assert [str(w.message) for w in warned] == [
        f'{where}: "mdca" is deprecated, write "graph" (source kinds are named after the API '
        "they read)"
    ]
    assert warned[0].filename == __file__  # attributed to the caller, not to cisync_lib
    assert config.connection("contoso").kind == "graph"
    assert [r.levelname for r in caplog.records if where in r.getMessage()] == ["WARNING"]


def test_kind_graph_loads_without_a_warning(tmp_path, caplog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = load_deployment(write(tmp_path, BASE))
    assert config.connection("contoso").kind == "graph"
    assert [r for r in caplog.records if r.levelname == "WARNING"] == []


def test_a_check_across_keys_names_the_line(tmp_path):
    """Checks that involve several keys also name the line (of the key, or of its table)."""
    error = error_of(
        tmp_path, BASE.replace('client_id = "app"\n', 'client_id = "app"\ncredential = "token"\n')
    )
    assert (error.key, error.line) == ("connections.contoso.credential", 9)
    assert error.allowed == '"secret" | "certificate"'
    error = error_of(
        tmp_path, BASE.replace('tenant_id = "00000000-0000-0000-0000-000000000000"\n', "")
    )
    assert (error.key, error.line, error.problem) == (
        "connections.contoso.tenant_id",
        5,
        'is required for kind = "graph"',
    )


def test_a_string_is_never_an_array_of_its_letters(tmp_path):
    error = error_of(tmp_path, BASE.replace("[sync]\n", '[sync]\nrelationships = "Cloud App"\n'))
    assert (error.key, error.line) == ("sync.relationships", 2)
    assert error.problem == 'expected an array, got string "Cloud App"'
