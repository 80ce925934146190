"""The Identification and Reconciliation API: ``/api/now/identifyreconcile[/enhanced|/query]``.

Simulated for CI classes under ``cmdb_ci``, with identification rules only for
``cmdb_ci_business_app`` (the rule chosen at start: ``correlation_id``, ``name``
or none). Per item: a given ``sys_id`` locates the CI directly; otherwise
``sys_object_source`` (source name + native key) is tried first, then the
rule. Every processed CI gets ``discovery_source`` and ``last_discovered``
written, even when nothing else changed (``NO_CHANGE`` is still a write), as
the IRE documentation says. ``/query`` and ``/queryEnhanced`` are dry runs.
Items are processed independently: valid ones are committed even when others
fail (``partial_commits`` and ``partial_payloads`` are not simulated further).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ._context import Call, Instance
from ._http import BadBody, error, json_body, json_response
from ._ire_items import Outcome, identify, source_conditions
from ._query import Condition
from ._store import to_text

__all__ = ["ENHANCED_OPTIONS", "identify_reconcile"]

ENHANCED_OPTIONS = frozenset(
    {"partial_payloads", "partial_commits", "deduplicate_payloads", "generate_summary"}
)


def _options(text: str | None) -> dict[str, bool] | str:
    """``k:v,k:v`` options of ``/enhanced``; a bad chunk gives the chunk text back."""
    parsed: dict[str, bool] = {}
    for chunk in (text or "").split(","):
        if not chunk.strip():
            continue
        key, _, value = chunk.strip().partition(":")
        if key not in ENHANCED_OPTIONS or value not in ("true", "false"):
            return chunk
        parsed[key] = value == "true"
    return parsed


def _commit(instance: Instance, call: Call, outcome: Outcome, source: str) -> None:
    store = instance.store
    now = store.now()
    values = dict(outcome.values)
    given_last = values.pop("last_discovered", "")
    if outcome.operation == "INSERT":
        values.update(
            discovery_source=source,
            first_discovered=values.get("first_discovered") or now,
            last_discovered=given_last or now,
        )
        row = store.insert_row(outcome.class_name, values, user=call.user.name)
        outcome.sys_id = row["sys_id"]
    else:
        stored = outcome.stored or {}
        newer = given_last and given_last > stored.get("last_discovered", "")
        values.update(discovery_source=source, last_discovered=given_last if newer else now)
        store.update_row(outcome.class_name, outcome.sys_id, values, user=call.user.name)
    if outcome.source_name and outcome.native_key:
        _record_source(instance, call, outcome, now)
    call.info.writes += 1


def _record_source(instance: Instance, call: Call, outcome: Outcome, now: str) -> None:
    store = instance.store
    existing = store.select("sys_object_source", extra=source_conditions(outcome)).rows
    values = {
        "name": outcome.source_name,
        "id": outcome.native_key,
        "target_table": outcome.class_name,
        "target_sys_id": outcome.sys_id,
        "last_scan": now,
    }
    if existing:
        store.update_row("sys_object_source", existing[0]["sys_id"], values, user=call.user.name)
    else:
        store.insert_row("sys_object_source", values, user=call.user.name)


def _end(relation: dict[str, Any], side: str, outcomes: list[Outcome]) -> Outcome | None:
    index, internal = relation.get(side), relation.get(f"{side}_id")
    if isinstance(index, int) and 0 <= index < len(outcomes):
        return outcomes[index]
    if internal is not None:
        return next((o for o in outcomes if o.internal_id == str(internal)), None)
    return None


def _relation(
    instance: Instance, call: Call, relation: dict[str, Any], outcomes: list[Outcome], dry: bool
) -> dict[str, Any]:
    store = instance.store
    result: dict[str, Any] = {"className": "cmdb_rel_ci", "operation": "INSERT", "sysId": ""}
    parent, child = _end(relation, "parent", outcomes), _end(relation, "child", outcomes)
    type_name = to_text(relation.get("type"))
    types = store.select("cmdb_rel_type", extra=(Condition("name", "=", type_name),)).rows
    rel_type = next((t["sys_id"] for t in types if t["name"] == type_name), None)
    errors = []
    if parent is None or child is None or parent.errors or child.errors:
        errors.append(
            {"error": "INVALID_INPUT_DATA", "message": "Relation end is not a valid item"}
        )
    if rel_type is None:
        errors.append(
            {"error": "INVALID_INPUT_DATA", "message": f"Invalid relation type {type_name}"}
        )
    if not errors and not dry and parent is not None and child is not None and rel_type:
        ends = {"parent": parent.sys_id, "child": child.sys_id, "type": rel_type}
        conditions = tuple(Condition(k, "=", v) for k, v in ends.items())
        existing = store.select("cmdb_rel_ci", extra=conditions).rows
        if existing:
            result.update(operation="NO_CHANGE", sysId=existing[0]["sys_id"])
        else:
            row = store.insert_row("cmdb_rel_ci", ends, user=call.user.name)
            result["sysId"] = row["sys_id"]
            call.info.writes += 1
    result.update(errors=errors, errorCount=len(errors))
    return result


def identify_reconcile(instance: Instance, call: Call, variant: str) -> Response:
    """Serve one of the IRE endpoints (``""``, ``enhanced``, ``query``, ``queryEnhanced``)."""
    if call.request.method != "POST":
        return error(405, "Method not Supported", "the IRE API takes POST")
    if not call.user.writable:
        return error(403, "Operation Failed", "the itil or asset role is required")
    args = call.request.args
    options = _options(args.get("options")) if variant in ("enhanced", "queryEnhanced") else {}
    if isinstance(options, str):
        return error(500, f"Chunk [{options}] is not a valid entry", None)
    source = args.get("sysparm_data_source", "")
    sources = instance.store.choice_labels("cmdb_ci", "discovery_source")
    if source not in sources:
        detail = f"sysparm_data_source {source!r} is not a choice of cmdb_ci.discovery_source"
        return error(400, "INVALID_INPUT_DATA", detail)
    try:
        payload: dict[str, Any] = json_body(call.request)
    except BadBody as exc:
        return error(400, "Exception while reading request", str(exc))
    items = payload.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return error(400, "INVALID_INPUT_DATA", "items must be a list of objects")
    dry = variant.startswith("query")
    outcomes: list[Outcome] = []
    with instance.store.lock:
        for index, item in enumerate(items):
            outcome = identify(instance, item, index, outcomes)
            if not outcome.errors and not dry:
                _commit(instance, call, outcome, source)
            outcomes.append(outcome)
        relations = [
            _relation(instance, call, r, outcomes, dry)
            for r in payload.get("relations") or []
            if isinstance(r, dict)
        ]
    call.info.items += len(items)
    result: dict[str, Any] = {
        "items": [o.as_json() for o in outcomes],
        "relations": relations,
        "additionalCommittedItems": [],
        "additionalCommittedRelations": [],
    }
    if isinstance(options, dict) and options.get("generate_summary"):
        counts: dict[str, int] = {}
        for outcome in outcomes:
            key = "ERROR" if outcome.errors else outcome.operation
            counts[key] = counts.get(key, 0) + 1
        result["summary"] = counts
    return json_response(200, {"result": result})
