"""Acronyms: "BYD" for "bi ya di" (比亚迪), "CATL" for "Contemporary Amperex Technology
(Co.,) Limited", "LGES" for "LG Energy Solution"."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bmtc.matching.normalize import NormalizedName, content

MAX_ACRONYM = 6


def initials(words: Iterable[str]) -> tuple[str, str]:
    """Plain initials and initials that keep short all-letter words whole ("lg energy
    solution" -> "les", "lges")."""
    words = list(words)
    plain = "".join(w[0] for w in words)
    kept = "".join(w if len(w) <= 3 and w.isalpha() else w[0] for w in words)
    return plain, kept


@lru_cache(maxsize=65536)
def acronym_runs(name: NormalizedName) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """Runs (first, last position) of two or more consecutive core words with the acronyms
    they spell. A run that ends the name may add the initials of its legal words, so that
    "CATL" meets "Contemporary Amperex Technology Co., Limited"."""
    core = [i for i in content(name) if name.roles[i] == "core"]
    words = [name.tokens[i] for i in core]
    legal = name.legal_words
    tails = {w[0] for w in legal} | {"".join(w[0] for w in legal)} if legal else set()
    runs = []
    for start in range(len(words)):
        for end in range(start + 2, min(len(words), start + MAX_ACRONYM) + 1):
            forms = set(initials(words[start:end]))
            if end == len(words):
                forms |= {form + tail for form in forms for tail in tails}
            forms = {f for f in forms if len(f) <= MAX_ACRONYM}
            if forms:
                runs.append((core[start], core[end - 1], frozenset(forms)))
    return tuple(runs)


def acronym_token(name: NormalizedName, token: str) -> bool:
    """Whether a token may be an acronym: letters only, 3 to 6 of them, or 2 when it is the
    whole name ("GM")."""
    if not token.isalpha() or not 2 <= len(token) <= MAX_ACRONYM:
        return False
    return len(token) >= 3 or [name.tokens[i] for i in content(name)] == [token]
