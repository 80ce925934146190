"""Explicit consent to a settings change, and the record a saved change leaves behind."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
from attrs import field, frozen

from cisync_lib.errors import ConfigError

from ._registry import Environment

__all__ = ["CONSENT_STATEMENT", "Consent", "ConsentRecord"]

CONSENT_STATEMENT = (
    "I consent to this change of connection settings, including the processing of user "
    "names as personal data where user synchronization is allowed."
)
"""The statement the ``cisync`` command records when ``--i-consent`` is given."""


def _non_blank(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key=f"consent.{attribute.name}", problem="must be a non-empty string")


def _aware(_: object, __: attrs.Attribute[datetime], value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ConfigError(key="consent.at", problem="must be a datetime with a time zone")


@frozen(kw_only=True)
class Consent:
    """Someone's explicit consent to save a settings change (the product's "I consent" box).

    Attributes:
        by: who consented (an e-mail address or user name).
        at: when, with a time zone.
        statement: what they consented to, recorded verbatim in the log.
    """

    by: str = field(validator=_non_blank)
    at: datetime = field(validator=_aware)
    statement: str = field(validator=_non_blank)

    @classmethod
    def now(cls, by: str, statement: str = CONSENT_STATEMENT) -> Consent:
        """Consent given by ``by`` at the current time (UTC)."""
        return cls(by=by, at=datetime.now(timezone.utc).replace(microsecond=0), statement=statement)


@frozen(kw_only=True)
class ConsentRecord:
    """One entry of a connection's consent log: who changed which environment, when, and how.

    Attributes:
        by: who consented.
        at: when the change was saved.
        environment: the environment whose settings changed.
        changes: one line per changed setting, e.g.
            ``allow_user_sync: default false -> override true``.
        statement: the statement consented to (empty in hand-written entries).
    """

    by: str
    at: datetime
    environment: Environment
    changes: tuple[str, ...] = field(converter=tuple)
    statement: str = ""
