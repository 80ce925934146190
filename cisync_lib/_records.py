"""ServiceNow-side value types: users, Business Application CIs and user links.

ServiceNow's Table API gives every value as a string (``"true"``, ``""``);
the ``from_row`` classmethods turn such rows into typed records.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

__all__ = ["BusinessApp", "SnUser", "UserLink"]


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1")


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if isinstance(value, Mapping):  # sysparm_display_value=all gives {value, display_value}
        value = value.get("value")
    return "" if value is None else str(value)


@frozen(kw_only=True)
class SnUser:
    """A ``sys_user`` record, as far as correlation needs it.

    Attributes:
        sys_id: the record's sys_id.
        user_name: the User ID (often the sAMAccountName or the UPN).
        email: the email address (not unique in ServiceNow).
        active: whether the user is active.
        sys_class_name: the table the record lives in (``sys_user`` or a child).
        name: the display name.
        web_service_access_only: a non-interactive (integration) account.
        internal_integration_user: an internal integration account.
        extra: further fields a custom strategy asked for, raw.
    """

    sys_id: str
    user_name: str = ""
    email: str = ""
    active: bool = True
    sys_class_name: str = "sys_user"
    name: str = ""
    web_service_access_only: bool = False
    internal_integration_user: bool = False
    extra: Mapping[str, str] = field(factory=dict, hash=False)

    #: the fields to request from ``sys_user`` to build this record.
    FIELDS = (
        "sys_id",
        "user_name",
        "email",
        "active",
        "sys_class_name",
        "name",
        "web_service_access_only",
        "internal_integration_user",
    )

    @property
    def is_service_account(self) -> bool:
        """Whether the record is flagged as a non-human account."""
        return self.web_service_access_only or self.internal_integration_user

    @classmethod
    def from_row(cls, row: Mapping[str, object], extra_fields: tuple[str, ...] = ()) -> SnUser:
        """Build from a Table API row (string values).

        Args:
            row: the row, with ``sysparm_display_value=false`` or ``all``.
            extra_fields: further field names to keep in ``extra``.
        """
        return cls(
            sys_id=_text(row, "sys_id"),
            user_name=_text(row, "user_name"),
            email=_text(row, "email"),
            active=_flag(_text(row, "active") or "true"),
            sys_class_name=_text(row, "sys_class_name") or "sys_user",
            name=_text(row, "name"),
            web_service_access_only=_flag(_text(row, "web_service_access_only")),
            internal_integration_user=_flag(_text(row, "internal_integration_user")),
            extra={name: _text(row, name) for name in extra_fields},
        )


@frozen(kw_only=True)
class BusinessApp:
    """A Business Application CI as read from the instance.

    Attributes:
        sys_id: the CI's sys_id.
        correlation_id: our identity key (``mdca:app:<id>``), or empty for a CI
            we have not adopted yet.
        name: the CI's name.
        sys_class_name: the CI's class.
        fields: the current values of the fields the library owns, raw.
    """

    sys_id: str
    correlation_id: str = ""
    name: str = ""
    sys_class_name: str = "cmdb_ci_business_app"
    fields: Mapping[str, str] = field(factory=dict, hash=False)

    @classmethod
    def from_row(cls, row: Mapping[str, object], owned_fields: tuple[str, ...] = ()) -> BusinessApp:
        """Build from a Table API row, keeping the values of ``owned_fields``."""
        return cls(
            sys_id=_text(row, "sys_id"),
            correlation_id=_text(row, "correlation_id"),
            name=_text(row, "name"),
            sys_class_name=_text(row, "sys_class_name") or "cmdb_ci_business_app",
            fields={name: _text(row, name) for name in owned_fields},
        )


@frozen(kw_only=True)
class UserLink:
    """A ``cmdb_rel_person`` row linking a CI to a user with a relationship type.

    Attributes:
        ci: the CI's sys_id.
        user: the ``sys_user`` sys_id.
        type: the ``cmdb_rel_user_type`` sys_id.
        sys_id: the link row's own sys_id, once it exists.
    """

    ci: str
    user: str
    type: str
    sys_id: str | None = field(default=None, eq=False)

    @property
    def key(self) -> tuple[str, str, str]:
        """The natural key ``(ci, user, type)``."""
        return (self.ci, self.user, self.type)

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> UserLink:
        """Build from a ``cmdb_rel_person`` Table API row."""
        return cls(
            ci=_text(row, "ci"),
            user=_text(row, "user"),
            type=_text(row, "type"),
            sys_id=_text(row, "sys_id") or None,
        )
