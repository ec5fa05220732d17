"""Latin words in the form used for comparison."""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bmtc.matching.legal_forms import LEGAL_WORDS
from bmtc.matching.scripts import Token
from bmtc.matching.vocab import (
    CHINESE_PLACES,
    GENERIC_WORDS,
    STOPWORDS,
    SYNONYMS,
    WEAK_WORDS,
    WORLD_PLACES,
)

PLACES = CHINESE_PLACES | WORLD_PLACES
# Words allowed in brackets that belong to the name: "(Group)", "(Shanghai)", "(publ)".
INLINE_WORDS = LEGAL_WORDS | WEAK_WORDS | STOPWORDS | PLACES
_KNOWN = INLINE_WORDS | GENERIC_WORDS | frozenset(SYNONYMS)
# A misspelt legal form ("Corporaton") would otherwise stay in the name as a rare word. Other
# misspellings are left to the comparison, which sees both sides. Typos rarely touch the first
# letter, so only words sharing it are candidates.
_CORRECTABLE: dict[str, list[str]] = {}
for _word in sorted(LEGAL_WORDS):
    if len(_word) >= 6:
        _CORRECTABLE.setdefault(_word[0], []).append(_word)


@lru_cache(maxsize=65536)
def word_forms(word: str) -> tuple[str, ...]:
    """A Latin word in the form used for comparison: synonyms folded ("intl" ->
    "international"), plurals stemmed unless that makes a place ("americas"), misspelt legal
    forms corrected."""
    if word in SYNONYMS:
        return SYNONYMS[word]
    if word in _KNOWN or word.isdigit():
        return (word,)
    stem = word
    if len(word) > 4 and word.endswith("ies"):
        stem = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        stem = word[:-1]
    if stem in SYNONYMS:
        return SYNONYMS[stem]
    if stem in _KNOWN or len(stem) < 6:
        return (stem if stem not in PLACES else word,)
    choices = _CORRECTABLE.get(stem[0], [])
    found = process.extractOne(stem, choices, scorer=OSA.distance, score_cutoff=1)
    return (found[0],) if found is not None else (stem,)


def token_forms(token: Token) -> tuple[str, ...]:
    # Every kind of token goes through the same forms, so that a normalised name read back as
    # plain Latin text gives the same words (on pinyin syllables the forms change nothing).
    return word_forms(token.text)
