"""The extension points: the Protocols an embedder implements to plug into ``cisync_lib``.

Every Protocol here is structural: implement the members, no base class is needed,
and ``isinstance`` works for the runtime-checkable ones. What you may implement:

* :class:`Strategy`: a correlation rule (a ``sys_user`` match for a Defender user
  name). Put it into ``Correlator(strategies=[...])``, or ship a
  :class:`StrategyFactory` under the entry-point group ``cisync_lib.correlation``
  so configuration files can name it. Its ``evaluate`` receives a
  :class:`CandidateIndex`.
* :class:`UserDirectory`: where ``sys_user`` candidates come from (the library
  ships an in-memory and a ServiceNow one). :class:`QueryConnection` is what the
  ServiceNow directory needs of a connection.
* :class:`JobProgress`: told how far each phase of a sync job has got (pass it as
  ``SyncJob(progress=...)`` or ``job_from_config(..., progress=...)``).

The records these Protocols exchange (``ParsedName``, ``LookupKey``,
``StrategyOutcome``, ``FetchRequest``, ``DirectoryResult``, ...) are concrete
classes of their subpackages (:mod:`cisync_lib.correlation`). This module imports
them only for type checking, so importing it costs nothing and creates no import
cycle: every layer of the library may use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from cisync_lib._records import SnUser
    from cisync_lib.correlation import (
        DirectoryResult,
        FetchRequest,
        LookupKey,
        ParsedName,
        StrategyContext,
        StrategyOutcome,
        Tier,
    )

__all__ = [
    "CandidateIndex",
    "JobProgress",
    "QueryConnection",
    "Strategy",
    "StrategyFactory",
    "UserDirectory",
]


@runtime_checkable
class CandidateIndex(Protocol):
    """The ``sys_user`` candidates fetched once per run, handed to :meth:`Strategy.evaluate`.

    The candidates may be a superset of the real matches (ServiceNow compares case-
    and accent-insensitively), so a strategy re-checks each one.
    """

    def candidates(self, key: LookupKey) -> Sequence[SnUser]:
        """Records that may match ``key``; strategies must re-check each.

        Args:
            key: one of the keys the strategy declared in :meth:`Strategy.lookup_keys`.
        """
        ...


@runtime_checkable
class Strategy(Protocol):
    """A correlation rule: pure, it declares lookup keys and decides from candidates.

    The correlator calls :meth:`applies_to` and :meth:`lookup_keys` for every
    distinct name first, fetches every key of every name in one go, then calls
    :meth:`evaluate` per name. A strategy never does I/O.

    Attributes:
        name: the strategy's id (shown in traces, evidence and reports).
        confidence: the confidence of a unique hit (1.0 explicit, 0.95 strong,
            0.8 derived, 0.6 weak); below the correlator's ``min_confidence`` a hit
            is only a suggestion.
    """

    @property
    def name(self) -> str:
        """The strategy's id."""
        ...

    @property
    def confidence(self) -> float:
        """The confidence of a unique hit."""
        ...

    def applies_to(self, parsed: ParsedName) -> bool:
        """Whether the strategy can say anything about ``parsed``.

        Args:
            parsed: the classified, normalised name.
        """
        ...

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The keys to fetch for ``parsed`` (called only when it applies).

        Args:
            parsed: the classified, normalised name.
        """
        ...

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Decide from the fetched candidates; no I/O.

        Args:
            parsed: the classified, normalised name.
            index: the candidates of every key fetched in this run.
        """
        ...


class StrategyFactory(Protocol):
    """Builds a strategy from the correlator's context; what an entry point names.

    A plain function ``def make(context): ...`` or a class whose constructor
    takes the context satisfies it. Register it in your package's metadata under
    the entry-point group ``cisync_lib.correlation`` so configuration files can
    name the strategy.
    """

    def __call__(self, context: StrategyContext, /) -> Strategy | Tier:
        """The strategy (or a tier of strategies) for this correlator.

        Args:
            context: the correlator's configuration and alias map.
        """
        ...


@runtime_checkable
class UserDirectory(Protocol):
    """A source of ``sys_user`` candidates, fetched in bulk once per run."""

    def fetch(self, request: FetchRequest) -> DirectoryResult:
        """Fetch candidates for every key of ``request`` (inactive users included).

        Args:
            request: the keys and fields the correlator needs for the whole run.

        Returns:
            The candidates, and the keys whose lookup failed or was refused.
        """
        ...


class QueryConnection(Protocol):
    """What the ServiceNow user directory needs of a connection.

    ``cisync_lib.servicenow.ServiceNowConnection`` provides it; a test double
    needs only this method.
    """

    def query(
        self,
        table: str,
        *,
        query: str = "",
        fields: Sequence[str] = (),
        page_size: int | None = None,
    ) -> Iterator[dict[str, str]]:
        """Rows of ``table`` matching the encoded query, paged.

        Args:
            table: the table name.
            query: an encoded query (empty: every row).
            fields: the fields to return.
            page_size: rows per page (default: the connection's).
        """
        ...


class JobProgress(Protocol):
    """Told how far each phase of a sync job has got (the CLI draws progress bars from it).

    Example::

        def show(phase: str, done: int, total: int | None) -> None:
            print(phase, done, total or "?")

        job = job_from_config(config, "test", progress=show)
    """

    def __call__(self, phase: str, done: int, total: int | None, /) -> None:
        """Report progress.

        Args:
            phase: ``read``, ``correlate``, ``read_cmdb``, ``plan`` or ``apply``.
            done: units done so far.
            total: units in all, when known.
        """
