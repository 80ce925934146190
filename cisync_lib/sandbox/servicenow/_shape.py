"""Shaping rows for Table API responses: fields, dot-walks, display values and links.

* ``sysparm_fields``: only those keys, unknown names dropped, dot-walked names
  (``manager.email``) resolved through reference fields and returned as dotted keys;
* ``sysparm_display_value``: ``false`` raw values, ``true`` display values
  (a reference shows the referenced record's display column, a choice its
  label, ``sys_class_name`` the table label), ``all`` both as
  ``{"display_value", "value"}``;
* ``sysparm_exclude_reference_link=false`` adds ``link`` to non-empty
  references (``{"link", "value"}`` when only raw values are asked for);
* date-times are stored in UTC and displayed in the requesting user's time zone;
* password fields (``user_password``) read back masked, value and display value.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import timezone, tzinfo
from typing import Any

from ._dates import is_utc, to_display
from ._schema import Column
from ._store import ServiceNowStore

__all__ = ["Shaper"]


class Shaper:
    """Shapes the rows of one response.

    Args:
        store: the store (for referenced records and choice labels).
        base_url: ``https://127.0.0.1:PORT``, for reference links.
        display: ``false``, ``true`` or ``all``.
        exclude_links: leave out reference links.
        fields: the requested fields, or ``None`` for every column.
        time_zone: returns the requesting user's time zone (called only when a
            date-time is displayed).
    """

    #: what an instance shows for a set password.
    MASK = "********"

    def __init__(
        self,
        store: ServiceNowStore,
        base_url: str,
        *,
        display: str = "false",
        exclude_links: bool = False,
        fields: Sequence[str] | None = None,
        time_zone: Callable[[], tzinfo] = lambda: timezone.utc,
    ) -> None:
        self.store = store
        self.schema = store.schema
        self.base_url = base_url
        self.display = display if display in ("true", "all") else "false"
        self.exclude_links = exclude_links
        self.fields = fields
        self.time_zone = time_zone
        self._cache: dict[str, dict[str, dict[str, str]]] = {}

    def _targets(self, table: str) -> list[tuple[str, list[tuple[str, str, Column]]]]:
        """Output fields with their walk: [(key, [(table, column name, column), ...])]."""
        columns = self.schema.columns(table)
        names = list(columns) if self.fields is None else self.fields
        out = []
        for name in names:
            walk: list[tuple[str, str, Column]] = []
            current = table
            for part in name.split("."):
                column = self.schema.columns(current).get(part) if current else None
                if column is None:
                    walk = []
                    break
                walk.append((current, part, column))
                has_target = column.reference is not None and self.schema.has(column.reference)
                current = column.reference if has_target and column.reference else ""
            if walk:
                out.append((name, walk))
        return out

    def _rows(self, table: str, ids: set[str]) -> dict[str, dict[str, str]]:
        cache = self._cache.setdefault(table, {})
        missing = [i for i in ids if i and i not in cache]
        if missing:
            fetched = self.store.fetch(table, missing, list(self.schema.columns(table)))
            for sys_id in missing:
                cache[sys_id] = fetched.get(sys_id, {})
        return cache

    def _walk(self, rows: list[dict[str, str]], walk: list[tuple[str, str, Column]]) -> list[str]:
        values = [row.get(walk[0][1], "") for row in rows]
        for (_, _, column), (table, name, _) in itertools.pairwise(walk):
            assert column.reference is not None
            found = self._rows(table, set(values))
            values = [found.get(v, {}).get(name, "") if v else "" for v in values]
        return values

    def _display(self, table: str, column: Column, values: list[str]) -> list[str]:
        if column.type == "reference" and column.reference and self.schema.has(column.reference):
            target = column.reference
            display = self.schema.display_column(target)
            found = self._rows(target, set(values))
            return [found.get(v, {}).get(display, "") if v else "" for v in values]
        if column.choice:
            labels = self.store.choice_labels(table, column.name)
            return [labels.get(v, v) for v in values]
        if column.type == "sys_class_name":
            return [self.schema.label(v) if v else "" for v in values]
        if column.type == "glide_date_time":
            zone = self.time_zone()
            if is_utc(zone):
                return values
            return [to_display(v, column.type, zone) for v in values]
        return values

    def shape(self, table: str, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
        """Shape raw rows of ``table`` for a response body."""
        targets = self._targets(table)
        if (
            self.display == "false"
            and self.exclude_links
            and all(len(walk) == 1 and walk[0][2].type != "password" for _, walk in targets)
        ):
            return [{key: row.get(key, "") for key, _ in targets} for row in rows]
        out: list[dict[str, Any]] = [{} for _ in rows]
        for key, walk in targets:
            values = self._walk(rows, walk)
            owner, _, column = walk[-1]
            if column.type == "password":
                values = [self.MASK if v else "" for v in values]
            shown = values if self.display == "false" else self._display(owner, column, values)
            if column.type == "reference" and column.reference is not None:
                for item, value, display in zip(out, values, shown, strict=True):
                    item[key] = self._format(value, display, column)
            elif self.display == "all":  # the common pysnc case, without a call per cell
                for item, value, display in zip(out, values, shown, strict=True):
                    item[key] = {"display_value": display, "value": value}
            else:
                for item, display in zip(out, shown, strict=True):
                    item[key] = display
        return out

    def _format(self, value: str, display: str, reference: Column | None) -> Any:
        link = None
        if reference is not None and value and not self.exclude_links:
            link = f"{self.base_url}/api/now/table/{reference.reference}/{value}"
        if self.display == "all":
            shaped = {"display_value": display, "value": value}
            if link:
                shaped["link"] = link
            return shaped
        if link is None:
            return display if self.display == "true" else value
        if self.display == "true":
            return {"display_value": display, "link": link}
        return {"link": link, "value": value}
