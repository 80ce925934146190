"""Plans to JSON and back, with a dedicated cattrs converter (snake_case, ISO timestamps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cattrs

from cisync_lib._documents import DocumentKind, register_timestamps
from cisync_lib.errors import PlanFileError

from ._actions import Plan

__all__ = [
    "PLAN_DOCUMENT",
    "dump_plan",
    "load_plan",
    "plan_converter",
    "plan_from_json",
    "plan_to_json",
]

#: plan files: owner-only (they name people); version 2 records the destination the plan
#: was made for (``instance_url``, ``environment``), so a version 1 file cannot be applied
PLAN_DOCUMENT = DocumentKind(
    name="plan",
    format="cisync-cmdb-plan",
    version=2,
    oldest=2,
    error=PlanFileError,
    too_old="that version records no destination to check before applying; plan again",
)


def plan_converter() -> cattrs.Converter:
    """The converter used for plan files (strict: unknown keys are errors)."""
    return register_timestamps(cattrs.Converter(forbid_extra_keys=True))


_CONV = plan_converter()


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as a JSON-ready dict (with a format marker and version)."""
    return {**PLAN_DOCUMENT.header(), "plan": _CONV.unstructure(plan)}


def plan_from_json(data: object, *, source: str = "<plan>") -> Plan:
    """Read :func:`plan_to_json` output.

    Raises:
        PlanFileError: naming the source and the JSON path of each problem.
    """
    PLAN_DOCUMENT.check(data, source=source)
    assert isinstance(data, dict)  # checked above
    return PLAN_DOCUMENT.structure(_CONV, data.get("plan"), Plan, source=source, json_path="$.plan")


def dump_plan(plan: Plan, path: str | Path) -> None:
    """Write a plan file (JSON)."""
    PLAN_DOCUMENT.write(path, plan_to_json(plan))


def load_plan(path: str | Path) -> Plan:
    """Read a plan file written by :func:`dump_plan`.

    Raises:
        PlanFileError: the file is unreadable, not JSON or not a valid plan.
    """
    return plan_from_json(PLAN_DOCUMENT.read(path), source=str(path))
