"""How much a token says about identity, and when two tokens are nearly the same.

Tokens are weighted by how much they say about identity: a prior from the word lists (weak
words such as "group" 0.15, industry words such as "lithium" 0.35, places 0.1, anything else 1)
lowered further by inverse document frequency over the reference set, so that sharing only a
common word scores low.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from bmtc.matching.legal_forms import LEGAL_WORDS
from bmtc.matching.normalize import NormalizedName
from bmtc.matching.vocab import CHINESE_PLACES, GENERIC_WORDS, WEAK_WORDS, WORLD_PLACES

WEAK_WEIGHT = 0.15
GENERIC_WEIGHT = 0.35
PLACE_WEIGHT = 0.1
# A token found in more than this share of the reference starts losing weight; the pseudo
# count keeps a small reference from making every token look common.
COMMON_SHARE = 0.02
PSEUDO_RECORDS = 1000
MIN_WEIGHT = 0.02

KNOWN_WORDS = GENERIC_WORDS | WEAK_WORDS | LEGAL_WORDS | CHINESE_PLACES | WORLD_PLACES
_SKELETON_MAP = str.maketrans("cqzvfl", "kkjbpr")
_VOWELS = re.compile(r"[aeiouyw]")
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=131072)
def skeleton(word: str) -> str:
    """Consonant outline that survives the usual romanisation variants of Korean and
    Japanese: "samseong" and "samsung" both give "smsng", "panasoniku" and "panasonic"
    "pnsnk"."""
    return _VOWELS.sub("", _REPEATS.sub(r"\1", word.translate(_SKELETON_MAP)))


def typo_match(a: str, b: str) -> bool:
    """One typo (a letter inserted, dropped, changed, or two neighbours swapped) between words
    that start with the same letter: typos rarely touch the first letter, distinct brands often
    differ there.

    Real, distinct companies differ by one letter in short names ("Tianqi", "Tianyi"), so both
    words need 6 letters and the longer one 7, or both 7 for a swap; a known word ("lithium")
    matches a misspelling of itself ("lithuim", "cobolt" for "cobalt") from 6 letters, but
    never another known word ("american", "americas").
    """
    short, long = sorted((len(a), len(b)))
    if short < 6 or a[0] != b[0] or not (a.isalpha() and b.isalpha()):
        return False
    known_a, known_b = a in KNOWN_WORDS, b in KNOWN_WORDS
    if known_a and known_b:
        return False
    if OSA.distance(a, b, score_cutoff=1) > 1:
        return False
    if known_a or known_b:
        return True
    return short >= 7 or (long >= 7 and Levenshtein.distance(a, b, score_cutoff=1) <= 1)


def prior(token: str) -> float:
    """Weight before rarity. English stopwords are left out of comparisons altogether (see
    `alignment.content`); as pinyin ("de", "en") the same letters are ordinary syllables."""
    if token in WEAK_WORDS:
        return WEAK_WEIGHT
    if token in GENERIC_WORDS:
        return GENERIC_WEIGHT
    return 1.0


class TokenWeights:
    """Prior weight of each token times its rarity in a reference set."""

    def __init__(self, doc_freq: Mapping[str, int] | None = None, size: int = 0) -> None:
        self._doc_freq = dict(doc_freq or {})
        self._size = size
        self._cache: dict[str, float] = {}

    @classmethod
    def from_names(cls, records: Iterable[Iterable[NormalizedName]]) -> TokenWeights:
        """Weights from reference records, each given as its name variants."""
        counts: Counter[str] = Counter()
        size = 0
        for variants in records:
            size += 1
            counts.update({t for v in variants for t in v.tokens})
        return cls(counts, size)

    @property
    def size(self) -> int:
        return self._size

    def weight(self, token: str) -> float:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        base = prior(token)
        df = self._doc_freq.get(token, 0)
        if base and df:
            rarity = math.log((self._size + PSEUDO_RECORDS) / (df + 0.5)) / -math.log(COMMON_SHARE)
            base = max(MIN_WEIGHT, min(base, rarity))
        self._cache[token] = base
        return base
