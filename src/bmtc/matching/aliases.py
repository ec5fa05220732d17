"""Aliases written into a name: "(CATL)", "(formerly POSCO Chemical)", "X a.k.a. Y"."""

from __future__ import annotations

import re
import unicodedata

from bmtc.matching.legal_forms import CJK_ABBREVIATIONS
from bmtc.matching.scripts import tokenize
from bmtc.matching.words import INLINE_WORDS, PLACES, token_forms

_ALIAS_MARK = re.compile(
    r"^\s*(?:formerly(?:\s+known\s+as)?|previously|also\s+known\s+as|a\.?k\.?a\.?|"
    r"f\.?k\.?a\.?|d\.?b\.?a\.?|trading\s+as|now)\b[\s:.,]*",
    re.IGNORECASE,
)
# Outside brackets only separators that a normalised name can never contain, so that
# normalising a normalised name never finds an alias in it.
_ALIAS_SPLIT = re.compile(r"\s*(?:;|\b[af]\.k\.a\.|\bd\.b\.a\.)\s*", re.IGNORECASE)
_CJK_EXPANDED = {"주": " 주식회사 ", "株": " 株式会社 "}
_BRACKET = re.compile(r"\(([^()]*)\)")
EDGE = " \t\r\n,.;:-_/\\|"


def _inline(content: str) -> bool:
    words = [w for t in tokenize(content) for w in token_forms(t)]
    return bool(words) and (all(w in INLINE_WORDS for w in words) or "".join(words) in PLACES)


def split_aliases(name: str) -> tuple[str, tuple[str, ...]]:
    """The main name and the aliases written into it.

    "Contemporary Amperex Technology Co., Limited (CATL)" -> ("Contemporary Amperex Technology
    Co., Limited", ("CATL",)); "(Group)" or "(Shanghai)" stay in the main name.
    """
    text = unicodedata.normalize("NFKC", name)
    text = CJK_ABBREVIATIONS.sub(lambda m: _CJK_EXPANDED[m.group(1)], text)
    aliases: list[str] = []

    def bracket(match: re.Match[str]) -> str:
        content = match.group(1)
        marked = _ALIAS_MARK.match(content)
        if marked is None and _inline(content):
            return f" {content} "
        alias = content[marked.end() :] if marked else content
        if alias.strip(EDGE):
            aliases.append(alias.strip(EDGE))
        return " "

    previous = None
    while previous != text:
        previous, text = text, _BRACKET.sub(bracket, text)
    parts = [p for p in (part.strip(EDGE) for part in _ALIAS_SPLIT.split(text)) if p]
    aliases.extend(parts[1:])
    return (parts[0] if parts else ""), tuple(dict.fromkeys(aliases))
