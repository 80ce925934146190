"""The strict converter of configuration files: no coercion, every error at its key and line."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Literal

import attrs
import pytest
import tomlkit

from cisync_lib import ConfigError
from cisync_lib.settings import Environment
from cisync_lib.settings._strict import HttpsUrl, NonEmptyStr, structure_config


@attrs.frozen(kw_only=True)
class Server:
    url: HttpsUrl
    name: NonEmptyStr | None = None
    port: int = 443
    weight: float = 1.0
    enabled: bool = True
    mode: Literal["fast", "safe"] = "safe"
    environment: Environment = Environment.TEST
    tags: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Document:
    servers: Mapping[str, Server] = attrs.field(factory=dict)


def load(text: str) -> Document:
    text = textwrap.dedent(text)
    data = tomlkit.parse(text).unwrap()
    return structure_config(data, Document, file="f.toml", text=text)


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(text)
    return info.value


def test_a_good_file_is_typed():
    document = load(
        """
        [servers.a]
        url = "https://a.example"
        port = 8443
        weight = 2
        environment = "prod"
        tags = ["x", "y"]
        """
    )
    server = document.servers["a"]
    assert server == Server(
        url=HttpsUrl("https://a.example"),
        port=8443,
        weight=2.0,
        environment=Environment.PROD,
        tags=("x", "y"),
    )
    assert type(server.weight) is float
    assert server.tags == ("x", "y")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('port = "443"', 'servers.a.port: expected an integer, got string "443"'),
        ("port = 443.0", "servers.a.port: expected an integer, got number 443.0"),
        ("port = true", "servers.a.port: expected an integer, got boolean true"),
        ("enabled = 1", "servers.a.enabled: expected a boolean, got integer 1 (allowed: true | false)"),
        ("weight = nan", "servers.a.weight: expected a number, got number nan"),
        ('tags = "xy"', 'servers.a.tags: expected an array, got string "xy"'),
        ("tags = [1]", "servers.a.tags[0]: expected a string, got integer 1"),
        ('name = " "', 'servers.a.name: expected a non-empty string, got string " "'),
        (
            'mode = "slow"',
            'servers.a.mode: string "slow" is not allowed (allowed: "fast" | "safe")',
        ),
        (
            'environment = "dev"',
            'servers.a.environment: unknown environment string "dev" (allowed: "test" | "prod")',
        ),
        (
            "colour = 1",
            "servers.a.colour: unknown key (allowed: enabled, environment, mode, name, port, "
            "tags, url, weight)",
        ),
    ],
)  # fmt: skip
def test_values_are_never_coerced(line, message):
    """A value of the wrong type is refused, naming file, line, dotted key and what is allowed."""
    error = error_of(f'[servers.a]\nurl = "https://a.example"\n{line}\n')
    assert str(error) == f"f.toml:3: {message}"


def test_a_missing_required_key_is_named_at_its_table():
    error = error_of("\n[servers.a]\nport = 1\n")
    assert (error.key, error.line, error.problem) == ("servers.a.url", 2, "is required")
    assert "url" in (error.allowed or "")


def test_a_table_of_the_wrong_shape():
    assert str(error_of('servers = "all"\n')) == (
        'f.toml:1: servers: expected a table, got string "all"'
    )
    assert str(error_of('[servers]\na = "x"\n')) == (
        'f.toml:2: servers.a: expected a table, got string "x"'
    )


def test_of_several_problems_the_first_in_the_file_is_reported():
    """Whatever order cattrs collects them in, the error is the one nearest the top."""
    error = error_of(
        """
        [servers.b]
        url = "http://b.example"
        [servers.a]
        url = "https://a.example"
        mode = "slow"
        port = "x"
        """
    )
    assert (error.key, error.line) == ("servers.b.url", 3)
    assert error.allowed == '"https://..."'
