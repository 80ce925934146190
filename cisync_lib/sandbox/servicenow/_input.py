"""Request bodies given as display values (``sysparm_input_display_value=true``).

As the Table API documents it: a reference field may be given by the display
value of the record it points to (resolved to that record's sys_id), a choice
field by its label, and a date-time in the requesting user's time zone (stored
in UTC). A reference whose display value matches no record, or matches several,
is stored as given: the sandbox does not guess which record was meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from ._dates import from_display
from ._query import Condition
from ._store import ServiceNowStore
from ._values import to_text

__all__ = ["from_display_values"]


def _reference(store: ServiceNowStore, target: str, text: str) -> str:
    if store.get(target, text) is not None:
        return text  # already a sys_id
    display = store.schema.display_column(target)
    rows = store.select(target, extra=(Condition(display, "=", text),), limit=2).rows
    return rows[0]["sys_id"] if len(rows) == 1 else text


def from_display_values(
    store: ServiceNowStore, table: str, payload: Mapping[str, Any], zone: tzinfo
) -> dict[str, Any]:
    """``payload`` with display values of ``table``'s fields turned into stored values."""
    columns = store.schema.columns(table)
    out = dict(payload)
    for name, value in payload.items():
        column = columns.get(name)
        if column is None or value is None or isinstance(value, (dict, list)):
            continue
        text = to_text(value)
        if not text:
            continue
        if column.type == "reference" and column.reference and store.schema.has(column.reference):
            out[name] = _reference(store, column.reference, text)
        elif column.choice:
            labels = {label.casefold(): v for v, label in store.choice_labels(table, name).items()}
            out[name] = labels.get(text.casefold(), text)
        elif column.type == "glide_date_time":
            out[name] = from_display(text, column.type, zone)
    return out
