"""Field limits and odd values: what the instance can store, and the rule for what it cannot.

A ServiceNow string column silently keeps only its first ``max_length``
characters. A value longer than that would be written, read back shorter, seen
as changed and written again on every run. So the planner writes values that fit:

* **Column lengths** come from ``sys_dictionary.max_length`` of the fields the
  library writes from Defender data (the app class's ``name``, ``correlation_id``
  and description field, and the vendor table's ``name``), read once per run
  (:func:`read_field_limits`) and kept in the run state, which is used when the
  dictionary cannot be read (an ACL) and otherwise :data:`DEFAULT_LIMITS`.
* **Text** from Defender (app and vendor names, catalog values) is cleaned by one
  rule (:func:`clean_text`): NUL and every other control character (Unicode
  category ``Cc``) and the line/paragraph separators U+2028/U+2029 are never
  written; a run of them becomes one space (in a description a line feed is
  kept), and leading and trailing white space is dropped.
* An **app is refused** (not written; the rest of the tenant syncs, and a CI
  it already has is left as it is, never retired for it) when its cleaned name is
  empty, when its id is not a plausible Defender id (1 to 64 ASCII letters,
  digits, ``.``, ``_``, ``:`` or ``-``), or when ``correlation_prefix + id``
  does not fit ``correlation_id``: a truncated correlation id could name
  another app.
* A **name longer than its column** is truncated to the column's length on
  purpose, with a warning, so the next run compares with what the instance
  stored and writes nothing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping

import attrs

from cisync_lib.errors import CisyncError
from cisync_lib.servicenow import ServiceNowConnection, q_and, q_in

from ._config import CmdbConfig
from ._desired import DesiredApp
from ._state import DEFAULT_LIMITS, FieldLimits

__all__ = [
    "DEFAULT_LIMITS",
    "FieldLimits",
    "clean_text",
    "fit_apps",
    "fit_vendor",
    "id_problem",
    "read_field_limits",
]

logger = logging.getLogger(__name__)

_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_SEPARATORS = {"\u2028", "\u2029"}


def read_field_limits(conn: ServiceNowConnection, config: CmdbConfig) -> FieldLimits | None:
    """Read the lengths from ``sys_dictionary`` in one request.

    A column is defined on the class that introduced it (``name`` on ``cmdb_ci``),
    so the app class and its usual ancestors are asked for, nearest first.

    Returns:
        The limits, or ``None`` when the dictionary cannot be read (the caller
        then uses the run state's cached limits, else :data:`DEFAULT_LIMITS`).
    """
    classes = list(dict.fromkeys([config.app_class, "cmdb_ci_business_app", "cmdb_ci", "cmdb"]))
    elements = ("name", "correlation_id", config.description_field)
    query = q_and(
        q_in("name", [*classes, config.vendor_table]),
        q_in("element", list(dict.fromkeys(elements))),
    )
    try:
        rows = list(
            conn.query("sys_dictionary", query=query, fields=("name", "element", "max_length"))
        )
    except CisyncError as exc:
        logger.warning("sys_dictionary could not be read (%s); using cached field limits", exc)
        return None
    found: dict[tuple[str, str], int] = {}
    for row in rows:
        try:
            length = int(row.get("max_length", ""))
        except ValueError:
            continue
        if length > 0:
            found[(row.get("name", ""), row.get("element", ""))] = length

    def nearest(element: str, default: int) -> int:
        return next((found[(c, element)] for c in classes if (c, element) in found), default)

    return FieldLimits(
        app_name=nearest("name", DEFAULT_LIMITS.app_name),
        correlation_id=nearest("correlation_id", DEFAULT_LIMITS.correlation_id),
        description=nearest(config.description_field, DEFAULT_LIMITS.description),
        vendor_name=found.get((config.vendor_table, "name"), DEFAULT_LIMITS.vendor_name),
        source="instance",
    )


def clean_text(value: str, *, keep_newlines: bool = False) -> str:
    """Apply the documented rule for control characters (see the module docstring)."""
    out: list[str] = []
    gap = False
    for char in value:
        if keep_newlines and char == "\n":
            out.append(char)
            gap = False
        elif char in _SEPARATORS or unicodedata.category(char) == "Cc":
            if not gap:
                out.append(" ")
            gap = True
        else:
            out.append(char)
            gap = False
    return "".join(out).strip()


def id_problem(app_id: str, prefix: str, limits: FieldLimits) -> str | None:
    """Why an app id cannot be a correlation id, or ``None`` when it can."""
    if not _PLAUSIBLE_ID.fullmatch(app_id):
        shown = app_id if len(app_id) <= 40 else f"{app_id[:20]}...{app_id[-8:]}"
        return (
            f"{shown!r} ({len(app_id)} characters) is not a plausible Defender app id "
            "(1 to 64 ASCII letters, digits, '.', '_', ':' or '-')"
        )
    if len(prefix) + len(app_id) > limits.correlation_id:
        return (
            f"its correlation id would be {len(prefix) + len(app_id)} characters but "
            f"correlation_id holds {limits.correlation_id}; a truncated id could name another app"
        )
    return None


def fit_vendor(name: str | None, limits: FieldLimits) -> str:
    """A vendor name as it is looked up and written: cleaned and cut to its column."""
    return clean_text(name or "")[: limits.vendor_name].rstrip()


def _cut_lines(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    cut = text[:length]
    return cut[: cut.rfind("\n")] if "\n" in cut else cut.rstrip()


def _shown(app_id: str) -> str:
    return app_id if len(app_id) <= 40 else f"{app_id[:20]}...({len(app_id)} characters)"


def fit_apps(
    apps: Mapping[str, DesiredApp], limits: FieldLimits, config: CmdbConfig
) -> tuple[dict[str, DesiredApp], dict[str, str], list[str]]:
    """Apply the rule to every desired app.

    Returns:
        The apps as they will be written (cleaned, cut to the columns), the
        refused ones (app id -> reason) and the warnings for the report.
    """
    fitted: dict[str, DesiredApp] = {}
    refused: dict[str, str] = {}
    notes: list[str] = []
    for app_id in sorted(apps):
        app = apps[app_id]
        problem = id_problem(app_id, config.correlation_prefix, limits)
        name = clean_text(app.name)
        if problem is None and not name:
            problem = "its name is empty (once control characters are removed)"
        if problem is not None:
            refused[app_id] = problem
            notes.append(
                f"app {_shown(app_id)} ({name[:60]!r}) refused: {problem}; nothing is written "
                "for it, the rest of the tenant syncs"
            )
            continue
        if name != app.name.strip():
            notes.append(f"app {app_id}: control characters removed from its name")
        if len(name) > limits.app_name:
            notes.append(
                f"app {app_id}: name of {len(name)} characters truncated to "
                f"{limits.app_name} (the length of {config.app_class}.name)"
            )
            name = name[: limits.app_name].rstrip()
        description = _cut_lines(
            clean_text(app.description, keep_newlines=True), limits.description
        )
        fitted[app_id] = attrs.evolve(
            app, name=name, description=description, vendor=fit_vendor(app.vendor, limits) or None
        )
    by_name: dict[str, list[str]] = {}
    for app_id, app in fitted.items():
        by_name.setdefault(app.name, []).append(app_id)
    for name, ids in sorted(by_name.items()):
        if len(ids) > 1:
            notes.append(
                f"apps {', '.join(ids)} share the name {name!r}: each Defender id keeps its own "
                "Business Application (the correlation id tells them apart), so the CMDB shows "
                f"{len(ids)} CIs with that name"
            )
    return fitted, refused, notes
