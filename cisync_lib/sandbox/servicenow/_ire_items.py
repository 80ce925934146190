"""Identification of one IRE item: which CI it is, and what reconciling it would do."""

from __future__ import annotations

from typing import Any

import attrs

from ._context import Instance
from ._query import Condition
from ._sql import fold
from ._store import to_text

__all__ = ["Outcome", "identify", "source_conditions"]

_DATES = ("first_discovered", "last_discovered")


@attrs.define
class Outcome:
    """What IRE decided for one payload item (and, once committed, its sys_id)."""

    index: int
    class_name: str
    values: dict[str, str]
    internal_id: str = ""
    source_name: str = ""
    native_key: str = ""
    operation: str = "INSERT"
    sys_id: str = ""
    stored: dict[str, str] | None = None
    identifier_entry: str = ""
    criterion: tuple[str, str] | None = None
    attempts: list[dict[str, Any]] = attrs.field(factory=list)
    errors: list[dict[str, str]] = attrs.field(factory=list)

    def fail(self, code: str, message: str) -> Outcome:
        """Record an error (the item is then not committed)."""
        self.errors.append({"error": code, "message": message})
        return self

    def as_json(self) -> dict[str, Any]:
        """The item as the IRE response lists it."""
        return {
            "className": self.class_name,
            "operation": self.operation,
            "sysId": self.sys_id,
            "identifierEntrySysId": self.identifier_entry,
            "identificationAttempts": self.attempts,
            "inputIndices": [self.index],
            "info": [],
            "errors": self.errors,
            "errorCount": len(self.errors),
            "markers": [],
        }


def source_conditions(outcome: Outcome) -> tuple[Condition, ...]:
    """Conditions finding the item's ``sys_object_source`` row."""
    return (
        Condition("name", "=", outcome.source_name),
        Condition("id", "=", outcome.native_key),
        Condition("target_table", "=", outcome.class_name),
    )


def _rule(instance: Instance, class_name: str) -> tuple[str, str] | None:
    """(entry sys_id, criterion attribute) of the active rule for the class or a parent."""
    store = instance.store
    for table in store.schema.ancestors(class_name):
        conditions = (Condition("table", "=", table), Condition("active", "=", "true"))
        entries = store.select("cmdb_identifier_entry", "ORDERBYpriority", extra=conditions).rows
        for entry in entries:
            attribute = entry["criterion_attributes"].split(",")[0].strip()
            if attribute in store.schema.columns(class_name):
                return entry["sys_id"], attribute
    return None


def _attempt(name: str, result: str, attributes: list[str], table: str) -> dict[str, Any]:
    return {
        "identifierName": name,
        "attemptResult": result,
        "attributes": attributes,
        "searchOnTable": table,
    }


def _key(instance: Instance, value: str) -> str:
    return value if instance.store.case_sensitive else fold(value)


def _duplicate(instance: Instance, outcome: Outcome, earlier: list[Outcome]) -> bool:
    for other in earlier:
        if other.errors or other.class_name != outcome.class_name:
            continue
        same_source = outcome.native_key and (other.source_name, other.native_key) == (
            outcome.source_name,
            outcome.native_key,
        )
        same_criterion = (
            outcome.criterion is not None
            and other.criterion is not None
            and other.criterion[0] == outcome.criterion[0]
            and _key(instance, other.criterion[1]) == _key(instance, outcome.criterion[1])
        )
        if same_source or same_criterion:
            return True
    return False


def _decide(instance: Instance, outcome: Outcome, row: dict[str, str]) -> Outcome:
    store = instance.store
    stored = store.fetch(
        outcome.class_name, [row["sys_id"]], list(store.schema.columns(outcome.class_name))
    )
    outcome.stored = stored.get(row["sys_id"], row)
    outcome.sys_id = row["sys_id"]
    changed = any(outcome.stored.get(k) != v for k, v in outcome.values.items() if k not in _DATES)
    outcome.operation = "UPDATE" if changed else "NO_CHANGE"
    return outcome


def identify(
    instance: Instance, item: dict[str, Any], index: int, earlier: list[Outcome]
) -> Outcome:
    """Identify one payload item against the store (no writes)."""
    store = instance.store
    class_name = to_text(item.get("className"))
    given = item.get("values")
    raw: dict[str, Any] = given if isinstance(given, dict) else {}
    info = item.get("sys_object_source_info")
    info = info if isinstance(info, dict) else {}
    outcome = Outcome(
        index=index,
        class_name=class_name,
        values={},
        internal_id=to_text(item.get("internal_id")),
        source_name=to_text(info.get("source_name")),
        native_key=to_text(info.get("source_native_key")),
    )
    if not store.schema.has(class_name) or "cmdb_ci" not in store.schema.ancestors(class_name):
        return outcome.fail("INVALID_INPUT_DATA", f"Invalid className [{class_name}]")
    outcome.values = store.normalized(class_name, raw)
    rule = _rule(instance, class_name)
    if rule is None:
        return outcome.fail(
            "IDENTIFICATION_RULE_MISSING", f"Identity Rule Missing for table [{class_name}]"
        )
    outcome.identifier_entry, attribute = rule
    given_id = to_text(raw.get("sys_id"))
    if given_id:
        row = store.get(class_name, given_id)
        if row is None:
            return outcome.fail("INVALID_INPUT_DATA", f"Invalid sys_id [{given_id}]")
        return _decide(instance, outcome, row)
    if outcome.source_name and outcome.native_key:
        sources = store.select("sys_object_source", extra=source_conditions(outcome)).rows
        for source in sources:
            row = store.get(class_name, source["target_sys_id"])
            if row is not None:
                outcome.attempts.append(
                    _attempt("sys_object_source", "MATCHED", ["name", "id"], "sys_object_source")
                )
                if _duplicate(instance, outcome, earlier):
                    return outcome.fail(
                        "DUPLICATE_PAYLOAD_RECORDS", "Duplicate source key in payload"
                    )
                return _decide(instance, outcome, row)
        outcome.attempts.append(
            _attempt("sys_object_source", "NO_MATCH", ["name", "id"], "sys_object_source")
        )
    value = outcome.values.get(attribute, "")
    if not value:
        return outcome.fail(
            "MISSING_MATCHING_ATTRIBUTES",
            f"Missing matching attributes [{attribute}] for [{class_name}]",
        )
    outcome.criterion = (attribute, value)
    if _duplicate(instance, outcome, earlier):
        return outcome.fail(
            "DUPLICATE_PAYLOAD_RECORDS", f"Duplicate [{attribute}] value in payload: {value}"
        )
    matches = store.select(class_name, extra=(Condition(attribute, "=", value),)).rows
    rule_name = f"{class_name} rule on {attribute}"
    if len(matches) > 1:
        outcome.attempts.append(_attempt(rule_name, "MULTI_MATCH", [attribute], class_name))
        return outcome.fail(
            "MULTIPLE_DUPLICATE_RECORDS", f"Found {len(matches)} CIs with {attribute} [{value}]"
        )
    if matches:
        outcome.attempts.append(_attempt(rule_name, "MATCHED", [attribute], class_name))
        return _decide(instance, outcome, matches[0])
    outcome.attempts.append(_attempt(rule_name, "NO_MATCH", [attribute], class_name))
    outcome.operation = "INSERT"
    return outcome
