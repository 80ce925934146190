"""Secrets come from environment variables or the secrets file, never the config."""

from __future__ import annotations

import os

import pytest

from cisync_lib import ConfigError
from cisync_lib.sync import load_secrets
from cisync_lib.sync._secrets import env_var_name, is_secret_key


def test_environment_variable_wins_over_the_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[destinations.test]\npassword = "from-file"\n', encoding="utf-8")
    secrets = load_secrets(path, environ={"CISYNC_TEST_PASSWORD": "from-env"})
    assert secrets.get("destinations", "test", "password") == "from-env"
    assert load_secrets(path, environ={}).get("destinations", "test", "password") == "from-file"


def test_missing_secret_names_both_places(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_secrets(path, environ={}).require(
            "connections", "contoso", "client_secret", why="credential = 'secret'"
        )
    message = str(info.value)
    assert "CISYNC_CONTOSO_CLIENT_SECRET" in message
    assert "[connections.contoso] client_secret" in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[destinations.test]\ntoken = "x"\n', "destinations.test.token"),
        ('[vault.x]\npassword = "x"\n', "vault"),
        ("[destinations.test]\npassword = 4\n", "destinations.test.password"),
    ],
)
def test_bad_secrets_file(tmp_path, text, key):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_secrets(path, environ={})
    assert info.value.key == key
    assert info.value.file == str(path)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_readable_secrets_file_is_a_warning(tmp_path, caplog):
    path = tmp_path / "s.toml"
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)
    load_secrets(path, environ={})
    assert "readable by others" in caplog.text


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("client_secret", True),
        ("api_token", True),
        ("certificate_passphrase", True),
        ("secrets_file", False),
        ("username", False),
        ("tokenizer", False),
    ],
)
def test_secret_looking_keys(key, secret):
    assert is_secret_key(key) is secret


def test_env_var_names():
    assert env_var_name("sn-test", "password") == "CISYNC_SN_TEST_PASSWORD"
