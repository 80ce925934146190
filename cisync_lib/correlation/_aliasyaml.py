"""The YAML alias-map format: lists of spellings, one target, comments, defaults."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import yaml

from cisync_lib.errors import AliasMapError

from ._aliasmap import TARGET_FIELDS, AliasEntry, make_entry

__all__ = ["entries_from_yaml"]

_TOP_KEYS = {"version", "defaults", "entries"}
_ENTRY_KEYS = {"source", "action", "target", "note", "owner", "reviewed_on", "expires"}
_DEFAULT_KEYS = {"action", "note", "owner", "reviewed_on", "expires"}


def entries_from_yaml(text: str, file: str) -> Iterator[AliasEntry]:
    """Read entries from a YAML alias map (``version: 1``).

    Raises:
        AliasMapError: naming the file and the line of the offending entry.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise AliasMapError(file=file, line=line, problem=f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, Mapping) or root is None:
        raise AliasMapError(file=file, line=1, problem="expected a mapping with 'entries'")
    lines = _key_lines(root)
    unknown = sorted(set(data) - _TOP_KEYS, key=str)
    if unknown:
        raise AliasMapError(
            file=file, line=lines.get(str(unknown[0])), problem=f"unknown key {unknown[0]!r}"
        )
    if data.get("version", 1) != 1:
        raise AliasMapError(
            file=file, line=lines.get("version"), problem="unsupported version (expected 1)"
        )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping) or set(defaults) - _DEFAULT_KEYS:
        raise AliasMapError(
            file=file,
            line=lines.get("defaults"),
            problem=f"defaults may only set {', '.join(sorted(_DEFAULT_KEYS))}",
        )
    entries = data.get("entries") or []
    if not isinstance(entries, list):
        raise AliasMapError(
            file=file, line=lines.get("entries"), problem="'entries' must be a list"
        )
    entry_lines = _item_lines(root, "entries")
    for number, item in enumerate(entries):
        line = entry_lines[number] if number < len(entry_lines) else None
        yield from _entry(item, {**defaults}, file, line)


def _entry(
    item: object, defaults: dict[str, object], file: str, line: int | None
) -> Iterator[AliasEntry]:
    def fail(problem: str) -> AliasMapError:
        return AliasMapError(file=file, line=line, problem=problem)

    if not isinstance(item, Mapping):
        raise fail("an entry must be a mapping")
    unknown = sorted(set(item) - _ENTRY_KEYS, key=str)
    if unknown:
        raise fail(f"unknown field {unknown[0]!r}")
    values = {**defaults, **item}
    sources = values.pop("source", None)
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise fail("'source' must be a name or a list of names")
    target = values.pop("target", None)
    if target is not None:
        if not isinstance(target, Mapping) or len(target) != 1:
            raise fail(f"'target' must be one of {{{', '.join(TARGET_FIELDS)}: value}}")
        ((field_name, value),) = target.items()
        values["target_field"], values["target_value"] = str(field_name), value
    elif values.get("action", "map") == "map":
        raise fail("a 'map' entry needs a target")
    if "action" not in values:
        values["action"] = "map"
    for source in sources:
        entry = make_entry({**values, "source_name": source}, file, line)
        if entry is not None:
            yield entry


def _key_lines(root: yaml.Node) -> dict[str, int]:
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in root.value}


def _item_lines(root: yaml.Node, key: str) -> list[int]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for k, v in root.value:
        if k.value == key and isinstance(v, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in v.value]
    return []
