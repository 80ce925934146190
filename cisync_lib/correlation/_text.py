"""Text folding shared by the parser, the indexes and the strategies.

Two folds exist on purpose:

* :func:`fold` is the client's comparison: NFC + casefold. Both sides of every
  comparison go through it, so ``Straße`` equals ``strasse`` (casefold) but
  ``josé`` does not equal ``jose``.
* :func:`loose_fold` mimics ServiceNow's default case- and accent-insensitive
  comparison. It is only used to predict which rows a server query returns
  (a superset); it never decides a match.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ZERO_WIDTH", "fold", "has_control", "idna_domain", "loose_fold"]

#: invisible characters that creep into copied addresses (ZWSP, ZWNJ, ZWJ, word joiner, BOM).
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_LABELS = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)


def fold(value: str) -> str:
    """NFC and casefold, re-composed (casefold can decompose, e.g. ``İ``).

    Args:
        value: any text.

    Returns:
        The form both sides of a client-side comparison are reduced to.
    """
    if value.isascii():  # the common case, and identical: casefold is lower() on ASCII
        return value.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())


def loose_fold(value: str) -> str:
    """The fold a case- and accent-insensitive server applies: fold, then drop accents.

    ``loose_fold(a) == loose_fold(b)`` whenever ``fold(a) == fold(b)``, so an
    index keyed by it returns a superset of the client's matches.
    """
    if value.isascii():
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", fold(value))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control, format or separator character other than a space."""
    if value.isascii():
        return _ASCII_CONTROL.search(value) is not None
    return any(unicodedata.category(c)[0] in "CZ" and c != " " for c in value)


def idna_domain(domain: str) -> str | None:
    """The lower-cased IDNA A-label form of a DNS domain, or ``None`` if it is not one.

    Args:
        domain: a domain, in Unicode or ASCII form.
    """
    text = fold(domain).rstrip(".")
    if not text or len(text) > 253 or "." not in text:
        return None
    if text.isascii():
        return text if _ASCII_LABELS.fullmatch(text) else None
    labels = text.split(".")
    out: list[str] = []
    for label in labels:
        try:
            ascii_label = label.encode("idna").decode("ascii") if not label.isascii() else label
        except UnicodeError:
            return None
        if not (0 < len(ascii_label) <= 63):
            return None
        if not all((c.isalnum() and c.isascii()) or c == "-" for c in ascii_label):
            return None
        if ascii_label.startswith("-") or ascii_label.endswith("-"):
            return None
        out.append(ascii_label)
    return ".".join(out)
