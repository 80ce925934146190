"""What each correlation reason code means and how to fix it, one line each (for the terminal)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["REASON_HELP", "reason_help"]

#: reason code -> (what it means, what to do about it)
REASON_HELP: Mapping[str, tuple[str, str]] = {
    "EMPTY_INPUT": ("Defender reported an empty user name", "nothing to do: not a person"),
    "UNPARSEABLE": (
        "the identifier is not an email, UPN or DOMAIN\\user",
        "map it in the alias map if it is a person",
    ),
    "ANONYMIZED": (
        "the stream anonymises user names (a token, or AnonymousUser)",
        "turn off anonymisation for the stream in Defender, or accept it",
    ),
    "LOCAL_ACCOUNT": (
        "a logon local to one machine (user\\HOST), not a directory account",
        "nothing to do: no sys_user can be meant",
    ),
    "DOMAIN_NOT_ALLOWED": (
        "DOMAIN\\user in a NetBIOS domain the config does not name",
        "add it under correlation.options.netbios_domains with its upn_suffix",
    ),
    "NO_CANDIDATE": (
        "no sys_user has this email, UPN or user ID",
        "check the person is in sys_user, or map the identifier in the alias map",
    ),
    "ONLY_INACTIVE_MATCH": (
        "only an inactive sys_user matches (a leaver)",
        "reactivate the user, or set correlation.options.inactive_policy",
    ),
    "AMBIGUOUS_DUPLICATE": (
        "several sys_user rows share this email",
        "deduplicate sys_user, or pick one in the alias map",
    ),
    "KEY_CONFLICT": (
        "the email and the user ID point at different sys_user rows",
        "fix the rows in sys_user, or pick one in the alias map",
    ),
    "EXCLUDED_ONLY": (
        "only service or integration accounts match",
        "nothing to do unless the account is a person's",
    ),
    "BELOW_THRESHOLD": (
        "a likely match, below the confidence threshold (see the suggestion)",
        "confirm it in the alias map, or lower min_confidence",
    ),
    "IGNORED_BY_ALIAS": ("the alias map says to ignore it", "nothing to do: a decision"),
    "ALIAS_TARGET_NOT_FOUND": (
        "the alias map points at a user that does not exist",
        "fix the alias-map row's target",
    ),
    "ALIAS_TARGET_AMBIGUOUS": (
        "the alias map's target matches several users",
        "make the alias-map row's target unique (a sys_id)",
    ),
    "LOOKUP_ERROR": (
        "the sys_user lookup failed (not 'no such user')",
        "run again; see the warnings for the failure",
    ),
    "UNSAFE_QUERY_VALUE": (
        "the value cannot go into a ServiceNow query safely",
        "map it in the alias map",
    ),
}


def reason_help(reason: str) -> str:
    """``meaning. Fix: ...`` for a reason code ("" for one without help)."""
    meaning, fix = REASON_HELP.get(reason, ("", ""))
    return f"{meaning}. Fix: {fix}" if meaning else ""
