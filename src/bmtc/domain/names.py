"""Identifiers derived from names: slugs, and organization keys that ignore legal suffixes.

"Cabot Corp." and "Cabot Corporation" are one company; a key that drops the legal form lets
rows from different editions and sources meet on the same organization.
"""

from __future__ import annotations

import re
import unicodedata

_LEGAL_SUFFIXES = (
    "incorporated", "inc", "corporation", "corp", "company", "co", "limited", "ltd", "llc",
    "l.l.c", "lp", "l.p", "llp", "plc", "gmbh", "ag", "se", "sa", "s.a", "nv", "n.v", "bv",
    "b.v", "ab", "asa", "oyj", "spa", "s.p.a", "sas", "kk", "co., ltd", "pty", "pty ltd",
    "s.a. de c.v", "sa de cv", "s. de r.l. de c.v", "de c.v", "ulc",
)
_SUFFIX_RE = re.compile(
    r"(?:[\s,]+(?:" + "|".join(re.escape(s) for s in sorted(_LEGAL_SUFFIXES, key=len,
                                                              reverse=True)) + r")\.?)+$",
    re.IGNORECASE,
)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slugify(text: str, max_length: int = 80) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(text).lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    if not slug:
        raise ValueError(f"{text!r} gives an empty identifier")
    return slug


def organization_key(name: str) -> str:
    """A slug of the name without its legal form ('Cabot Corp.' -> 'cabot')."""
    base = name.strip()
    stripped = _SUFFIX_RE.sub("", base).strip(" ,.")
    return slugify(stripped or base)
