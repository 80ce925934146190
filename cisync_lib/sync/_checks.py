"""Value checks for the deployment config's keys, in the settings loader's ``ValueCheck`` form.

Each check raises :class:`~cisync_lib.ConfigError` naming the dotted key and
the allowed values; the settings loader adds the file and the line. The
tables and their keys are declared as data (``KeySpec``) so the configuration
reference page is rendered from the same declarations that validate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from attrs import frozen

from cisync_lib.errors import ConfigError
from cisync_lib.settings._spec import describe_found

from ._secrets import SECRET_KEYS, env_var_name, is_secret_key

__all__ = [
    "KeySpec",
    "boolean",
    "choice",
    "https_url",
    "non_empty",
    "proxies",
    "refuse_secret",
    "string_list",
    "table_check",
]

Check = Callable[[str, object], None]


def _fail(key: str, value: object, expected: str, allowed: str | None = None) -> ConfigError:
    return ConfigError(
        key=key, problem=f"expected {expected}, got {describe_found(value)}", allowed=allowed
    )


def non_empty(key: str, value: object, /) -> None:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, value, "a non-empty string")


def boolean(key: str, value: object, /) -> None:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise _fail(key, value, "a boolean", "true | false")


def https_url(key: str, value: object, /) -> None:
    """An ``https://`` URL (TLS is never optional towards Entra, Graph or ServiceNow)."""
    if not isinstance(value, str) or not value.startswith("https://") or len(value) < 9:
        raise _fail(key, value, "an https:// URL", '"https://..."')


def choice(*allowed: str) -> Check:
    """One of the given strings."""
    listed = " | ".join(f'"{a}"' for a in allowed)

    def check(key: str, value: object, /) -> None:
        if value not in allowed:
            raise ConfigError(
                key=key, problem=f"{describe_found(value)} is not allowed", allowed=listed
            )

    check.__doc__ = listed
    return check


def string_list(key: str, value: object, /) -> None:
    """An array of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(key, value, "an array of strings", '["...", "..."]')


def proxies(key: str, value: object, /) -> None:
    """A table of proxy URLs by scheme: ``{ https = "http://proxy:8080" }``."""
    if not isinstance(value, dict):
        raise _fail(key, value, "a table", '{ http = "...", https = "..." }')
    for scheme, url in value.items():
        if scheme not in ("http", "https"):
            raise ConfigError(
                key=f"{key}.{scheme}", problem="unknown scheme", allowed="http, https"
            )
        if not isinstance(url, str) or "://" not in url:
            raise _fail(f"{key}.{scheme}", url, "a proxy URL", '"http://proxy.example:8080"')


def refuse_secret(key: str, value: object, /) -> None:
    """Refuse a secret written into the config itself."""
    parts = key.split(".")
    name, leaf = (parts[1], parts[-1]) if len(parts) >= 3 else (parts[0], parts[-1])
    raise ConfigError(
        key=key,
        problem=(
            "secrets never go in the config file; put it in the secrets file named by "
            f"sync.secrets_file or in the environment variable {env_var_name(name, leaf)}"
        ),
    )


@frozen(kw_only=True)
class KeySpec:
    """One key of a deployment-config table: its check, default and description.

    Attributes:
        name: the key.
        check: validates the value.
        doc: what it means, for the configuration reference.
        default: the value used when the key is absent, as shown in the reference.
        required: whether the key must be present (for the kinds named in ``doc``).
    """

    name: str
    check: Check
    doc: str
    default: str = ""
    required: bool = False


def table_check(
    specs: Mapping[str, KeySpec], *, section: str, nested: bool, secrets_of: str | None = None
) -> Check:
    """A check for a top-level table whose keys are ``specs``.

    Args:
        specs: the allowed keys.
        section: the table's name, for messages.
        nested: the table holds named sub-tables (``[destinations.<name>]``),
            each with the keys of ``specs``.
        secrets_of: the :data:`SECRET_KEYS` section whose secrets belong in the secrets file.
    """

    def check_keys(prefix: str, table: object) -> None:
        if not isinstance(table, dict):
            raise _fail(prefix, table, "a table")
        for key, value in table.items():
            dotted = f"{prefix}.{key}"
            if key in specs:
                specs[key].check(dotted, value)
            elif is_secret_key(key) or (secrets_of and key in SECRET_KEYS[secrets_of]):
                refuse_secret(dotted, value)
            else:
                raise ConfigError(key=dotted, problem="unknown key", allowed=", ".join(specs))

    def check(key: str, value: object, /) -> None:
        if not nested:
            check_keys(key, value)
            return
        if not isinstance(value, dict):
            raise _fail(key, value, "a table of named entries", f"[{section}.<name>]")
        for name, table in value.items():
            check_keys(f"{key}.{name}", table)

    return check
