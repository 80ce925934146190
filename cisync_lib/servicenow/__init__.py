"""The ServiceNow connection: the only part of cisync_lib that talks to pysnc.

:class:`ServiceNowConnection` reads with lean, stable paging and writes one
record at a time (through pysnc) or in chunked Batch API calls. The ``q_*``
helpers build encoded queries that can never match more than intended.
"""

from ._auth import BasicAuth, OAuthClientCredentials, OAuthPassword
from ._batch import BatchItem, BatchOutcome, BatchResult
from ._connection import QueryRows, RowList, ServiceNowConnection
from ._query import q_and, q_eq, q_gt, q_in, q_is_empty, q_or_eq, q_startswith

__all__ = [
    "BasicAuth",
    "BatchItem",
    "BatchOutcome",
    "BatchResult",
    "OAuthClientCredentials",
    "OAuthPassword",
    "QueryRows",
    "RowList",
    "ServiceNowConnection",
    "q_and",
    "q_eq",
    "q_gt",
    "q_in",
    "q_is_empty",
    "q_or_eq",
    "q_startswith",
]
