"""Plans to JSON and back, with a dedicated cattrs converter (snake_case, ISO timestamps)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cattrs

from cisync_lib._atomic import PRIVATE, write_atomic
from cisync_lib.errors import PlanError

from ._actions import Plan

__all__ = ["dump_plan", "load_plan", "plan_converter", "plan_from_json", "plan_to_json"]

_FORMAT = "cisync-cmdb-plan"
_VERSION = 1


def _structure_datetime(value: object, _: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 timestamp, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def plan_converter() -> cattrs.Converter:
    """The converter used for plan files (strict: unknown keys are errors)."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(
        datetime, lambda d: d.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    )
    conv.register_structure_hook(datetime, _structure_datetime)
    return conv


_CONV = plan_converter()


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as a JSON-ready dict (with a format marker and version)."""
    return {"format": _FORMAT, "version": _VERSION, "plan": _CONV.unstructure(plan)}


def plan_from_json(data: object, *, source: str = "<plan>") -> Plan:
    """Read :func:`plan_to_json` output.

    Raises:
        PlanError: naming the source and the JSON path of each problem.
    """
    if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
        raise PlanError(message=f"{source}: not a cisync CMDB plan")
    if data.get("version") != _VERSION:
        raise PlanError(message=f"{source}: unsupported plan version {data.get('version')!r}")
    try:
        return _CONV.structure(data.get("plan"), Plan)
    except cattrs.BaseValidationError as exc:
        problems = "; ".join(cattrs.transform_error(exc, path="$.plan"))
        raise PlanError(message=f"{source}: invalid plan: {problems}") from exc


def dump_plan(plan: Plan, path: str | Path) -> None:
    """Write a plan file (JSON)."""
    write_atomic(path, json.dumps(plan_to_json(plan), indent=1) + "\n", mode=PRIVATE)


def load_plan(path: str | Path) -> Plan:
    """Read a plan file written by :func:`dump_plan`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PlanError(message=f"{path}: not valid JSON: {exc}") from exc
    return plan_from_json(data, source=str(path))
