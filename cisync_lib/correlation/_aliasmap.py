"""Alias-map files (CSV, YAML, or a filled-in JSON unmatched report): explicit human decisions."""

from __future__ import annotations

import csv
import datetime
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Literal

import yaml
from attrs import frozen

from cisync_lib.errors import AliasMapError

from ._parse import normalize
from ._text import fold

__all__ = ["ALIAS_COLUMNS", "REPORT_COLUMNS", "TARGET_FIELDS", "AliasEntry", "AliasMap"]

logger = logging.getLogger(__name__)

#: the columns an alias-map CSV may fill in.
ALIAS_COLUMNS = (
    "source_name",
    "action",
    "target_field",
    "target_value",
    "note",
    "owner",
    "reviewed_on",
    "expires",
)
#: the unmatched report's own columns, in its order (``normalized`` names the identifier;
#: the others are informational, accepted and ignored when the report is loaded back).
REPORT_COLUMNS = (
    "normalized",
    "raw_examples",
    "occurrences",
    "kind",
    "status",
    "reason_code",
    "message",
    "strategies_tried",
    "candidates",
    "suggestion",
    "app",
    "stream",
    "first_seen",
    "last_seen",
)
#: the ``sys_user`` fields an alias may target (``sys_id`` preferred: it survives renames).
TARGET_FIELDS = ("sys_id", "user_name", "email")
_ACTIONS = ("map", "ignore")
_YAML_TOP_KEYS = {"version", "defaults", "entries"}
_YAML_ENTRY_KEYS = {"source", "action", "target", "note", "owner", "reviewed_on", "expires"}
_YAML_DEFAULT_KEYS = {"action", "note", "owner", "reviewed_on", "expires"}


@frozen(kw_only=True)
class AliasEntry:
    """One explicit decision about one normalised identifier.

    Attributes:
        source: the normalised identifier (trimmed, NFC, casefolded).
        action: ``map`` to a user, or ``ignore`` the identifier.
        target_field: ``sys_id``, ``user_name`` or ``email`` (``map`` only).
        target_value: the folded target value (``map`` only).
        note: free text for auditors.
        owner: who decided.
        reviewed_on: when the decision was last reviewed.
        expires: past this date the entry still applies, with a logged warning.
        file: the file it was read from.
        line: the 1-based line in ``file``, when known.
    """

    source: str
    action: Literal["map", "ignore"] = "map"
    target_field: str | None = None
    target_value: str | None = None
    note: str = ""
    owner: str = ""
    reviewed_on: datetime.date | None = None
    expires: datetime.date | None = None
    file: str = ""
    line: int | None = None

    def same_decision(self, other: AliasEntry) -> bool:
        """Whether both entries decide the same thing."""
        return (self.action, self.target_field, self.target_value) == (
            other.action,
            other.target_field,
            other.target_value,
        )


class AliasMap:
    """Explicit decisions keyed by normalised identifier; validated when built.

    Args:
        entries: the entries; a key with two different decisions is an error.
        today: the date expiry is checked against (default: today).

    Raises:
        AliasMapError: two entries for one key disagree.
    """

    def __init__(
        self, entries: Iterable[AliasEntry], *, today: datetime.date | None = None
    ) -> None:
        self._entries: dict[str, AliasEntry] = {}
        for entry in entries:
            seen = self._entries.get(entry.source)
            if seen is not None and not seen.same_decision(entry):
                raise AliasMapError(
                    file=entry.file,
                    line=entry.line,
                    problem=f"{entry.source!r} already has a different target on line {seen.line}",
                )
            self._entries.setdefault(entry.source, entry)
        today = today or datetime.date.today()
        self.expired: tuple[AliasEntry, ...] = tuple(
            e for e in self._entries.values() if e.expires is not None and e.expires < today
        )
        for entry in self.expired:
            logger.warning(
                "%s:%s: alias for %r expired on %s; it still applies, review it",
                entry.file,
                entry.line,
                entry.source,
                entry.expires,
            )

    def get(self, normalized: str) -> AliasEntry | None:
        """The entry for a normalised identifier, if any."""
        return self._entries.get(normalized)

    @property
    def entries(self) -> tuple[AliasEntry, ...]:
        """Every entry, in file order."""
        return tuple(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[AliasEntry]:
        return iter(self._entries.values())

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, today: datetime.date | None = None) -> AliasMap:
        """Read a CSV, YAML or (filled-in unmatched report) JSON alias map.

        Args:
            path: ``.csv``, ``.yaml``/``.yml`` or ``.json``.
            today: the date expiry is checked against.

        Raises:
            AliasMapError: naming the file and line of the first problem.
        """
        name = os.fspath(path)
        try:
            with open(name, encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise AliasMapError(file=name, problem=f"cannot read: {exc}") from exc
        suffix = os.path.splitext(name)[1].lower()
        if suffix == ".csv":
            entries = list(_from_csv(text, name))
        elif suffix in (".yaml", ".yml"):
            entries = list(_from_yaml(text, name))
        elif suffix == ".json":
            entries = list(_from_json(text, name))
        else:
            raise AliasMapError(file=name, problem="expected a .csv, .yaml, .yml or .json file")
        return cls(entries, today=today)


def _make_entry(values: Mapping[str, object], file: str, line: int | None) -> AliasEntry | None:
    """Validate one row's values into an entry; ``None`` for a row left blank.

    Raises:
        AliasMapError: a bad action, target field, value or date.
    """

    def fail(problem: str) -> AliasMapError:
        return AliasMapError(file=file, line=line, problem=problem)

    def text(key: str) -> str:
        value = values.get(key)
        return "" if value is None else str(value).strip()

    action, target_field, target_value = text("action"), text("target_field"), text("target_value")
    # a filled-in unmatched report names the identifier in its "normalized" column
    source = normalize(text("source_name") or text("normalized"))[0]
    if not (action or target_field or target_value):
        return None  # an unmatched-report row nobody filled in
    if not source:
        raise fail("empty source_name")
    action = fold(action) or "map"
    if action not in _ACTIONS:
        raise fail(f"unknown action {action!r} (allowed: {', '.join(_ACTIONS)})")
    if action == "ignore" and (target_field or target_value):
        raise fail("an 'ignore' row takes no target")
    if action == "map":
        target_field = fold(target_field)
        if target_field not in TARGET_FIELDS:
            raise fail(
                f"unknown target_field {target_field!r} (allowed: {', '.join(TARGET_FIELDS)})"
            )
        if not target_value:
            raise fail("a 'map' row needs a target_value")
    return AliasEntry(
        source=source,
        action="map" if action == "map" else "ignore",
        target_field=target_field or None,
        target_value=fold(target_value) or None,
        note=text("note"),
        owner=text("owner"),
        reviewed_on=_date(values.get("reviewed_on"), "reviewed_on", fail),
        expires=_date(values.get("expires"), "expires", fail),
        file=file,
        line=line,
    )


def _date(value: object, key: str, fail: Callable[[str], AliasMapError]) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise fail(f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None


def _from_csv(text: str, file: str) -> Iterator[AliasEntry]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = reader.fieldnames or []
    allowed = set(ALIAS_COLUMNS) | set(REPORT_COLUMNS)
    unknown = [c for c in header if c not in allowed]
    if unknown:
        raise AliasMapError(file=file, line=1, problem=f"unknown column {unknown[0]!r}")
    if "source_name" not in header and "normalized" not in header:
        raise AliasMapError(file=file, line=1, problem="missing column 'source_name'")
    for row in reader:
        if None in row:
            raise AliasMapError(file=file, line=reader.line_num, problem="more values than columns")
        entry = _make_entry({k: _uncell(v) for k, v in row.items()}, file, reader.line_num)
        if entry is not None:
            yield entry


def _uncell(value: str | None) -> str | None:
    # undo the unmatched report's guard against spreadsheet formulas ('=..., '+..., '-..., '@...)
    if value and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _from_json(text: str, file: str) -> Iterator[AliasEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AliasMapError(file=file, line=exc.lineno, problem=f"invalid JSON: {exc.msg}") from exc
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise AliasMapError(file=file, problem="expected an unmatched report with a 'rows' list")
    allowed = set(ALIAS_COLUMNS) | set(REPORT_COLUMNS)
    for number, row in enumerate(rows):
        where = f"rows[{number}]"
        if not isinstance(row, dict):
            raise AliasMapError(file=file, problem=f"{where}: expected an object")
        unknown = sorted(set(row) - allowed)
        if unknown:
            raise AliasMapError(file=file, problem=f"{where}: unknown field {unknown[0]!r}")
        try:
            entry = _make_entry(row, file, None)
        except AliasMapError as exc:
            raise AliasMapError(file=file, problem=f"{where}: {exc.problem}") from None
        if entry is not None:
            yield entry


def _from_yaml(text: str, file: str) -> Iterator[AliasEntry]:
    """Read entries from a YAML alias map (``version: 1``): lists of spellings, one target.

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
    unknown = sorted(set(data) - _YAML_TOP_KEYS, key=str)
    if unknown:
        raise AliasMapError(
            file=file, line=lines.get(str(unknown[0])), problem=f"unknown key {unknown[0]!r}"
        )
    if data.get("version", 1) != 1:
        raise AliasMapError(
            file=file, line=lines.get("version"), problem="unsupported version (expected 1)"
        )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping) or set(defaults) - _YAML_DEFAULT_KEYS:
        raise AliasMapError(
            file=file,
            line=lines.get("defaults"),
            problem=f"defaults may only set {', '.join(sorted(_YAML_DEFAULT_KEYS))}",
        )
    entries = data.get("entries") or []
    if not isinstance(entries, list):
        raise AliasMapError(
            file=file, line=lines.get("entries"), problem="'entries' must be a list"
        )
    entry_lines = _item_lines(root, "entries")
    for number, item in enumerate(entries):
        line = entry_lines[number] if number < len(entry_lines) else None
        yield from _yaml_entries(item, {**defaults}, file, line)


def _yaml_entries(
    item: object, defaults: dict[str, object], file: str, line: int | None
) -> Iterator[AliasEntry]:
    def fail(problem: str) -> AliasMapError:
        return AliasMapError(file=file, line=line, problem=problem)

    if not isinstance(item, Mapping):
        raise fail("an entry must be a mapping")
    unknown = sorted(set(item) - _YAML_ENTRY_KEYS, key=str)
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
        entry = _make_entry({**values, "source_name": source}, file, line)
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
