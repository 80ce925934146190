r"""Ground truth of generated tenants: what each raw user identifier should resolve to.

Every identifier a generated tenant reports is made from a known person (or
from no person) by one generation rule, its *form*. The expected outcome under
each correlation configuration follows from the form alone, by the rules of
``shared/reference/correlation.md`` sections 2-4, because the generator keeps
every key unique except where a form is *about* a collision. The two
configurations are:

* **default**: classify first, no alias map, then the email + ``upn_user_name``
  tier (both compared casefolded); inactive policy ``prefer_active``; service
  accounts (``web_service_access_only`` or ``internal_integration_user``)
  excluded; no NetBIOS domain, domain alias or plus-tag domain configured.
* **configured**: the same plus the tenant's ``correlation_settings``:
  ``domain_aliases={"contoso.onmicrosoft.com": "contoso.com"}``,
  ``netbios_domains={"CONTOSO": {"upn_suffix": "contoso.com"}}`` and
  ``plus_tag_domains=["contoso.com"]``.

The forms (``person`` is the human's own ``sys_user`` row, "row" below):

``email``
    The row's ``email`` verbatim; ``user_name`` is the sAMAccountName, or the
    same address on Entra-provisioned rows. Default: MATCHED row. Configured: same.
``email_case_variant``
    The row's email in other letter case (``Jane.Doe@CONTOSO.com``).
    Default: MATCHED row. Configured: same.
``upn_differs_from_email``
    The UPN ``sam@contoso.com``; the email is ``first.last@contoso.com`` and
    ``user_name`` holds the UPN. Default: MATCHED row. Configured: same.
``upn_not_in_directory``
    The UPN ``sam@contoso.com``; the email is ``first.last@contoso.com`` and
    ``user_name`` is ``sam``. Default: UNMATCHED / NO_CANDIDATE. Configured: same.
``bare_sam``
    The sAMAccountName alone (``jdoe``), which ``user_name`` holds.
    Default: MATCHED row. Configured: same.
``plus_address``
    ``first.last+tag@contoso.com``. Default: UNMATCHED / NO_CANDIDATE.
    Configured: MATCHED row (plus-tag stripping).
``onmicrosoft_alias``
    ``first.last@contoso.onmicrosoft.com``. Default: UNMATCHED / NO_CANDIDATE.
    Configured: MATCHED row (domain alias).
``downlevel``
    ``CONTOSO\sam``; ``user_name`` is ``sam``. Default: UNMATCHED /
    DOMAIN_NOT_ALLOWED. Configured: MATCHED row (down-level).
``downlevel_unknown_domain``
    ``FABRIKAM\sam`` (never configured). Default: UNMATCHED /
    DOMAIN_NOT_ALLOWED. Configured: same.
``local_account``
    ``sam\LAPTOP-7F3KQ2M`` or ``Administrator\PC-0042``: the right side is a
    device name (letters, a hyphen, digits). Default: SKIPPED / LOCAL_ACCOUNT.
    Configured: same.
``anonymous_user``
    The literal ``AnonymousUser``. Default: SKIPPED / ANONYMIZED. Configured: same.
``anonymized_token``
    32 lower-case hex digits, only in the stream whose ``anonymizeUserData``
    is true. Default: SKIPPED / ANONYMIZED. Configured: same.
``empty``
    The empty string. Default: SKIPPED / EMPTY_INPUT. Configured: same.
``duplicate_email_inactive_twin``
    The row's email; an inactive row (``user_name`` ``sam_old``) has the same
    email. Default: MATCHED row (the active one). Configured: same.
``duplicate_email_both_active``
    The row's email; a second active row (``c_sam``, a contractor account)
    has the same email. Default: AMBIGUOUS / AMBIGUOUS_DUPLICATE. Configured: same.
``inactive_leaver``
    The email of an inactive row, the only row with that email.
    Default: MATCHED / MATCHED_INACTIVE row. Configured: same.
``service_account``
    The email of a row flagged ``web_service_access_only`` or
    ``internal_integration_user``. Default: UNMATCHED / EXCLUDED_ONLY. Configured: same.
``key_conflict``
    The row's email, which is also another row's ``user_name`` (a renamed user
    kept her old UPN as ``user_name``). Default: AMBIGUOUS / KEY_CONFLICT.
    Configured: same.
``external``
    A partner or consumer address with no row. Default: UNMATCHED /
    NO_CANDIDATE. Configured: same.

Decisions the correlation engine must share (or say why not):

* ``AnonymousUser`` is classified ANONYMIZED, not EMPTY.
* A backslash form is LOCAL_ACCOUNT when its right side looks like a device
  name; otherwise it is down-level, and a down-level name whose NetBIOS domain
  is not configured is DOMAIN_NOT_ALLOWED, under the default chain too.
* ``person`` is ``None`` for service accounts, partners and the pseudo-users
  (``AnonymousUser``, empty, machine-local administrators); for
  ``key_conflict`` it is the row whose email the identifier is.
"""

from __future__ import annotations

import enum

from attrs import frozen

from cisync_lib.correlation import ReasonCode, Status

__all__ = ["ExpectedOutcome", "IdentifierForm", "IdentityTruth", "expected_outcomes"]


class IdentifierForm(str, enum.Enum):
    """How a generated identifier was made (see the module docstring for each rule)."""

    EMAIL = "email"
    EMAIL_CASE_VARIANT = "email_case_variant"
    UPN_DIFFERS_FROM_EMAIL = "upn_differs_from_email"
    UPN_NOT_IN_DIRECTORY = "upn_not_in_directory"
    BARE_SAM = "bare_sam"
    PLUS_ADDRESS = "plus_address"
    ONMICROSOFT_ALIAS = "onmicrosoft_alias"
    DOWNLEVEL = "downlevel"
    DOWNLEVEL_UNKNOWN_DOMAIN = "downlevel_unknown_domain"
    LOCAL_ACCOUNT = "local_account"
    ANONYMOUS_USER = "anonymous_user"
    ANONYMIZED_TOKEN = "anonymized_token"
    EMPTY = "empty"
    DUPLICATE_EMAIL_INACTIVE_TWIN = "duplicate_email_inactive_twin"
    DUPLICATE_EMAIL_BOTH_ACTIVE = "duplicate_email_both_active"
    INACTIVE_LEAVER = "inactive_leaver"
    SERVICE_ACCOUNT = "service_account"
    KEY_CONFLICT = "key_conflict"
    EXTERNAL = "external"


@frozen(kw_only=True)
class ExpectedOutcome:
    """What correlating one identifier should give.

    Attributes:
        status: the expected status.
        reason: the expected reason code.
        sys_id: the ``sys_user`` row it should match, for MATCHED only.
    """

    status: Status
    reason: ReasonCode
    sys_id: str | None = None


@frozen(kw_only=True)
class IdentityTruth:
    """The ground truth for one distinct raw identifier of a generated tenant.

    Attributes:
        identifier: the raw identifier, exactly as Graph reports it.
        form: how it was generated, e.g. ``email`` or ``downlevel`` (every form is in the
            sandbox reference for Defender).
        person: the ``sys_id`` of the human it belongs to, if any.
        default: the outcome under the default chain.
        configured: the outcome under the tenant's ``correlation_settings``.
    """

    identifier: str
    form: str
    person: str | None
    default: ExpectedOutcome
    configured: ExpectedOutcome


F = IdentifierForm
_MATCHED = (Status.MATCHED, ReasonCode.MATCHED)
_NO_CANDIDATE = (Status.UNMATCHED, ReasonCode.NO_CANDIDATE)
_DOMAIN = (Status.UNMATCHED, ReasonCode.DOMAIN_NOT_ALLOWED)
_ANON = (Status.SKIPPED, ReasonCode.ANONYMIZED)
# form -> ((default status, reason), (configured status, reason))
_RULES: dict[IdentifierForm, tuple[tuple[Status, ReasonCode], tuple[Status, ReasonCode]]] = {
    F.EMAIL: (_MATCHED, _MATCHED),
    F.EMAIL_CASE_VARIANT: (_MATCHED, _MATCHED),
    F.UPN_DIFFERS_FROM_EMAIL: (_MATCHED, _MATCHED),
    F.UPN_NOT_IN_DIRECTORY: (_NO_CANDIDATE, _NO_CANDIDATE),
    F.BARE_SAM: (_MATCHED, _MATCHED),
    F.PLUS_ADDRESS: (_NO_CANDIDATE, _MATCHED),
    F.ONMICROSOFT_ALIAS: (_NO_CANDIDATE, _MATCHED),
    F.DOWNLEVEL: (_DOMAIN, _MATCHED),
    F.DOWNLEVEL_UNKNOWN_DOMAIN: (_DOMAIN, _DOMAIN),
    F.LOCAL_ACCOUNT: ((Status.SKIPPED, ReasonCode.LOCAL_ACCOUNT),) * 2,
    F.ANONYMOUS_USER: (_ANON, _ANON),
    F.ANONYMIZED_TOKEN: (_ANON, _ANON),
    F.EMPTY: ((Status.SKIPPED, ReasonCode.EMPTY_INPUT),) * 2,
    F.DUPLICATE_EMAIL_INACTIVE_TWIN: (_MATCHED, _MATCHED),
    F.DUPLICATE_EMAIL_BOTH_ACTIVE: ((Status.AMBIGUOUS, ReasonCode.AMBIGUOUS_DUPLICATE),) * 2,
    F.INACTIVE_LEAVER: ((Status.MATCHED, ReasonCode.MATCHED_INACTIVE),) * 2,
    F.SERVICE_ACCOUNT: ((Status.UNMATCHED, ReasonCode.EXCLUDED_ONLY),) * 2,
    F.KEY_CONFLICT: ((Status.AMBIGUOUS, ReasonCode.KEY_CONFLICT),) * 2,
    F.EXTERNAL: (_NO_CANDIDATE, _NO_CANDIDATE),
}


def expected_outcomes(
    form: IdentifierForm, row: str | None
) -> tuple[ExpectedOutcome, ExpectedOutcome]:
    """The (default, configured) outcomes of an identifier of ``form``.

    Args:
        form: how the identifier was generated.
        row: the ``sys_id`` a match would point at (the person's own row).
    """
    outcomes = []
    for status, reason in _RULES[form]:
        matched = status is Status.MATCHED
        sys_id = row if matched else None
        outcomes.append(ExpectedOutcome(status=status, reason=reason, sys_id=sys_id))
    return outcomes[0], outcomes[1]
