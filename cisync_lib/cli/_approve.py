"""Approval before writing: show the plan's totals and ask, like ``terraform apply``.

``--yes`` (alias ``--auto-approve``) skips the question; without a terminal
and without ``--yes`` the run is refused (exit 2) so that a scheduled job
never hangs on a prompt nobody sees. PROD asks for its name to be typed.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TextIO

from cisync_lib.errors import ApprovalDeclinedError, ApprovalRequiredError
from cisync_lib.sync import SyncReport

from ._common import command_line

__all__ = ["ask_approval", "check_approval_possible", "needs_approval", "plan_totals"]


def plan_totals(report: SyncReport) -> str:
    """One line with the plan's changes per action (``3 apps created, 40 links created``)."""
    return report.counts.describe()


def needs_approval(report: SyncReport, *, force: bool) -> bool:
    """Whether applying the report's plan would write (an empty or guard-refused plan does not)."""
    plan = report.plan
    if plan is None or plan.write_count == 0:
        return False
    refused = plan.guard.refuses_retire or plan.guard.refuses_unlink
    return force or not refused


def check_approval_possible(args: argparse.Namespace, stdin: TextIO | None = None) -> None:
    """Refuse at once a run that could not be approved (no ``--yes`` and no terminal).

    Checked before anything is read, so a scheduled job without ``--yes`` fails on
    its first run, not on the first night there is something to write.

    Raises:
        ApprovalRequiredError: exit 2.
    """
    if not getattr(args, "yes", False) and not (stdin or sys.stdin).isatty():
        raise ApprovalRequiredError(command=command_line(args, "--yes"))


def ask_approval(
    report: SyncReport,
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stderr: TextIO | None = None,
) -> None:
    """Ask the operator to approve the plan on the terminal; return only when approved.

    Raises:
        ApprovalRequiredError: no terminal to ask on and no ``--yes`` (exit 2).
        ApprovalDeclinedError: the answer was not the expected word (exit 3).
    """
    if getattr(args, "yes", False):
        return
    stdin = stdin or sys.stdin
    stderr = stderr or sys.stderr
    if not stdin.isatty():
        raise ApprovalRequiredError(command=command_line(args, "--yes"))
    env = report.environment
    prod = env == "prod"
    changes = report.changes
    plan_file = getattr(args, "plan", None)
    review = (
        shlex.join(["cisync", "show", str(plan_file), "--all"])
        if plan_file is not None
        else command_line(args, "--show", "--all", command="plan")
    )
    lines = [
        "",
        f"cisync will write {changes} change(s) to {report.destination} ({env.upper()}):",
        f"  {plan_totals(report)}",
        f"  (to review each change first: {review})",
        "",
    ]
    if prod:
        lines.append(f'This is PRODUCTION. Type the environment name "{env}" to approve.')
        expected = env
    else:
        lines.append('Do you want to apply these changes? Only "yes" is accepted to approve.')
        expected = "yes"
    stderr.write("\n".join(lines) + "\n  Enter a value: ")
    stderr.flush()
    answer = stdin.readline()
    if not answer:  # end of input: nobody answered
        stderr.write("\n")
    typed = answer.strip()
    if typed != expected:
        raise ApprovalDeclinedError(answer=typed, expected=expected)
    stderr.write("\n")
    stderr.flush()
