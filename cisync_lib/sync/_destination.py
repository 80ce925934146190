"""Where a job writes (a ServiceNow instance tagged TEST or PROD) and how it reports progress."""

from __future__ import annotations

from typing import Protocol

from attrs import field, frozen

from cisync_lib.servicenow import ServiceNowConnection
from cisync_lib.settings import Environment

__all__ = ["Destination", "JobProgress"]


class JobProgress(Protocol):
    """Told how far each phase of a job has got (the CLI draws progress bars from it)."""

    def __call__(self, phase: str, done: int, total: int | None, /) -> None:
        """Report progress.

        Args:
            phase: ``read``, ``correlate``, ``read_cmdb``, ``plan`` or ``apply``.
            done: units done so far.
            total: units in all, when known.
        """


@frozen(kw_only=True)
class Destination:
    """A ServiceNow instance a job writes into, tagged TEST or PROD.

    Attributes:
        name: the destination's name (as in the deployment config).
        environment: which settings apply to jobs into it.
        connection: the instance.
    """

    name: str
    environment: Environment = field(converter=Environment)
    connection: ServiceNowConnection = field(eq=False, repr=False)
