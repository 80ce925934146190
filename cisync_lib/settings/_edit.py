"""Writing settings changes into a tomlkit document, keeping the user's comments and layout."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, InlineTable, Item
from tomlkit.toml_document import TOMLDocument

from ._consent import Consent
from ._diff import SettingChange
from ._registry import Environment
from ._values import Override

__all__ = ["apply_changes"]


def _child(parent: MutableMapping[str, Any], key: str, *, super_table: bool = True) -> Any:
    # tables the library creates only to hold deeper tables get no header of
    # their own ("super tables"), so a new connection reads like a hand-written one;
    # inside an inline table only inline tables are allowed
    if key not in parent:
        if isinstance(parent, InlineTable):
            parent[key] = tomlkit.inline_table()
        else:
            parent[key] = tomlkit.table(is_super_table=super_table)
    return parent[key]


def _inline(override: Override) -> Item:
    flag, value = tomlkit.item(override.enabled), tomlkit.item(override.value)
    # parsed from text (not built) so it has the spacing people write by hand
    snippet = f"x = {{ override = {flag.as_string()}, value = {value.as_string()} }}\n"
    item: Item = tomlkit.parse(snippet)["x"]
    return item


def _set(table: MutableMapping[str, Any], name: str, override: Override | None) -> None:
    if override is None:
        if name in table:
            del table[name]
        return
    existing = table.get(name)
    if isinstance(existing, MutableMapping):
        # edit the user's own inline table (or sub-table) in place: its
        # position and trailing comment stay where they were
        existing["override"] = override.enabled
        existing["value"] = override.value
    else:
        table[name] = _inline(override)


def _log_entry(consent: Consent, env: Environment, lines: Sequence[str]) -> Any:
    entry = tomlkit.table()
    entry.add("by", consent.by)
    entry.add("at", consent.at)
    entry.add("environment", env.value)
    entry.add("statement", consent.statement)
    changes = tomlkit.array()
    changes.extend(lines)
    changes.multiline(len(lines) > 1)
    entry.add("changes", changes)
    return entry


def apply_changes(
    document: TOMLDocument,
    connection: str,
    changes: Sequence[SettingChange],
    consent: Consent,
) -> None:
    """Write ``changes`` of ``connection`` into ``document`` and append consent-log entries.

    One log entry is appended per environment that changed, each listing
    that environment's changes and who consented, when.
    """
    conn = _child(_child(document, "connections"), connection)
    settings = _child(conn, "settings")
    for env in Environment:
        mine = [change for change in changes if change.environment is env]
        if not mine:
            continue
        table = _child(settings, env.value, super_table=False)
        for change in mine:
            _set(table, change.name, change.new)
    entries = [
        _log_entry(consent, env, lines)
        for env in Environment
        if (lines := [change.describe() for change in changes if change.environment is env])
    ]
    log = conn.get("consent_log")
    if isinstance(log, Array):
        # the user wrote the log as an inline array: keep that form
        log.extend({key: entry[key] for key in entry} for entry in entries)
    elif isinstance(log, AoT):
        for entry in entries:
            # entries are separated by a blank line; if the last one had one
            # (another section follows), the new last one keeps it
            last = log[-1] if len(log) else None
            if last is not None and last.as_string().endswith("\n\n"):
                entry.add(tomlkit.nl())
            elif last is not None:
                last.add(tomlkit.nl())
            log.append(entry)
    else:
        log = tomlkit.aot()
        for entry in entries:
            log.append(entry)
        if not _is_last(document, connection):
            entries[-1].add(tomlkit.nl())  # a blank line before the next section
        conn["consent_log"] = log


def _is_last(document: TOMLDocument, connection: str) -> bool:
    # whether the connection's table ends the file, so a new log (appended to
    # it) would be followed by nothing
    top = list(document.keys())
    return top[-1:] == ["connections"] and list(document["connections"])[-1:] == [connection]
