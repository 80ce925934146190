"""Reference pages rendered from the code, so they cannot drift from it.

Directives (they produce reStructuredText, so a Markdown page calls them inside
``{eval-rst}``: ``.. cisync-config-reference::``):

* ``cisync-settings-reference``: every connection setting of the registry
  (``cisync_lib.settings.SETTINGS``): name, label, accepted values, default, meaning.
* ``cisync-config-reference``: every table and key of the deployment config, from
  the key declarations the loader validates with (``cisync_lib.sync``), and the secrets.
* ``cisync-cli-reference``: ``--help`` of every ``cisync`` command, from the argparse parser.
* ``cisync-example-config``: the example config ``cisync init`` writes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from cisync_lib.sync._keys import KeySpec


def _cell(text: str) -> str:
    return " ".join(str(text).split()) or " "


def _list_table(headers: Iterable[str], rows: Iterable[Iterable[str]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [list(headers), *map(list, rows)]:
        lines.append(f"   * - {_cell(row[0])}")
        lines += [f"     - {_cell(c)}" for c in row[1:]]
    return [*lines, ""]


class _RstDirective(SphinxDirective):
    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        """Parse the generated reStructuredText in place of the directive."""
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(self.lines(), source="<cisync>"), container)
        return container.children


def _value(value: object) -> str:
    from cisync_lib.settings._spec import render_value

    return f"``{render_value(value)}``"


def _settings_lines() -> list[str]:
    from cisync_lib.settings import SETTINGS

    rows = (
        (f"``{s.name}``", s.title, s.allowed, _value(s.default), s.doc) for s in SETTINGS.values()
    )
    headers = ("Setting", "Label", "Accepts", "Default", "What it does")
    return _list_table(headers, rows, "14 12 12 8 54")


class SettingsReference(_RstDirective):
    """Every registered connection setting."""

    def lines(self) -> list[str]:
        """The table of settings."""
        return _settings_lines()


def _key_rows(specs: Mapping[str, KeySpec]) -> list[tuple[str, str, str, str]]:
    rows = []
    for spec in specs.values():
        default = spec.default or ("required" if spec.required else "")
        rows.append((f"``{spec.name}``", spec.accepts, default, spec.doc))
    return rows


class ConfigReference(_RstDirective):
    """Every table and key of the deployment config, and the secrets."""

    def lines(self) -> list[str]:
        """One section per table, then the settings and the secrets."""
        from cisync_lib.sync._keys import (
            CONNECTION_KEYS,
            CORRELATION_KEYS,
            DESTINATION_KEYS,
            SYNC_KEYS,
        )
        from cisync_lib.sync._secrets import SECRET_KEYS, env_var_name

        headers, widths = ("Key", "Accepts", "Default", "Meaning"), "16 22 14 48"
        out: list[str] = []
        for title, intro, specs in (
            ("``[sync]``", "How jobs run.", SYNC_KEYS),
            ("``[connections.<name>]``",
             "A Defender for Cloud Apps source connection. Its settings per environment live "
             "in ``[connections.<name>.settings.test]`` and ``...prod]`` (see below), and its "
             "consent log in ``[[connections.<name>.consent_log]]`` (written by cisync).",
             CONNECTION_KEYS),
            ("``[destinations.<name>]``", "A ServiceNow instance, tagged TEST or PROD.",
             DESTINATION_KEYS),
            ("``[correlation]``", "How Defender user names are matched to ``sys_user``.",
             CORRELATION_KEYS),
        ):  # fmt: skip
            out += [title, "-" * len(title), "", intro, ""]
            out += _list_table(headers, _key_rows(specs), widths)
        title = "``[connections.<name>.settings.<test|prod>]``"
        out += [title, "-" * len(title), "",
                "Each setting is ``name = { override = true|false, value = ... }``: the value "
                "counts only while ``override`` (the \"Override default\" box) is true. Change "
                "them with ``cisync settings set ... --i-consent``.", ""]  # fmt: skip
        out += _settings_lines()
        title = "Secrets"
        out += [title, "-" * len(title), "",
                "Never in the config (a secret-looking key there is an error). Each comes "
                "from the environment variable ``CISYNC_<NAME>_<KEY>`` (upper case, other "
                "characters as ``_``) or, failing that, from the secrets file named by "
                "``sync.secrets_file``, in the table of the same name.", ""]  # fmt: skip
        rows = []
        for section, keys in SECRET_KEYS.items():
            for key in keys:
                rows.append((f"``[{section}.<name>]``", f"``{key}``",
                             f"``{env_var_name('<name>', key)}``"))  # fmt: skip
        out += _list_table(("Table", "Key", "Environment variable"), rows, "30 30 40")
        return out


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((name, sub))
    return found


class CliReference(_RstDirective):
    """The ``--help`` of ``cisync`` and of every sub-command."""

    def lines(self) -> list[str]:
        """One section per command, in parser order."""
        from cisync_lib.cli._main import build_parser

        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"  # argparse wraps help to the terminal width
        try:
            out: list[str] = []
            self._emit(build_parser(), "cisync", out)
            return out
        finally:
            if previous is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = previous

    def _emit(self, parser: argparse.ArgumentParser, name: str, out: list[str]) -> None:
        title = f"``{name}``"
        out += [title, "-" * len(title) if name.count(" ") < 2 else "~" * len(title), ""]
        out += ["::", ""]
        out += [f"   {line}".rstrip() for line in parser.format_help().splitlines()]
        out.append("")
        for sub_name, sub in _subcommands(parser):
            self._emit(sub, f"{name} {sub_name}", out)


class ExampleConfig(_RstDirective):
    """The commented example config ``cisync init`` writes."""

    def lines(self) -> list[str]:
        """A TOML code block."""
        from cisync_lib.sync import EXAMPLE_CONFIG

        return [".. code-block:: toml", "", *(f"   {line}" for line in EXAMPLE_CONFIG.splitlines())]


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directives."""
    app.add_directive("cisync-settings-reference", SettingsReference)
    app.add_directive("cisync-config-reference", ConfigReference)
    app.add_directive("cisync-cli-reference", CliReference)
    app.add_directive("cisync-example-config", ExampleConfig)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
