"""The sandbox's ServiceNow instance: Table, Batch and IRE APIs over a SQLite store."""

from ._service import ServiceNowService, ServiceNowStore

__all__ = ["ServiceNowService", "ServiceNowStore"]
