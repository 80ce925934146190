"""Errors about the operator's approval of a run that writes (the ``cisync`` command)."""

from __future__ import annotations

import attrs

from ._errors import CisyncError

__all__ = ["ApprovalDeclinedError", "ApprovalRequiredError"]


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ApprovalRequiredError(CisyncError):
    """A run that writes needs approval but nobody can give it (no terminal, no ``--yes``).

    Attributes:
        command: the command line to run instead (with ``--yes``).
    """

    command: str = ""

    def _describe(self) -> str:
        hint = f": {self.command}" if self.command else ""
        return (
            "this run writes to ServiceNow and needs approval, but there is no terminal to ask "
            f"on; nothing was written. For scheduled runs add --yes{hint}"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ApprovalDeclinedError(CisyncError):
    """The operator did not approve the plan at the prompt; nothing was written.

    Attributes:
        answer: what was typed.
        expected: what approval needed.
    """

    answer: str = ""
    expected: str = "yes"

    def _describe(self) -> str:
        return (
            f"not approved (typed {self.answer!r}, approval needs {self.expected!r}); "
            "nothing was written"
        )
