"""The alignment of two normalised names, token by token.

Exact tokens first, then tokens one side wrote as one word ("Tianqi" against pinyin "tian qi",
"LiCycle" against "Li-Cycle"), acronyms ("BYD" against "bi ya di", "CATL" against "Contemporary
Amperex Technology Limited"), and finally single typos and romanisation variants of kana and
hangul ("samseong" against "Samsung"). The result is a soft, weighted Dice coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass

from bmtc.matching.acronyms import acronym_runs, acronym_token
from bmtc.matching.normalize import NormalizedName, compact, content
from bmtc.matching.similarity import (
    PLACE_WEIGHT,
    WEAK_WEIGHT,
    TokenWeights,
    skeleton,
    typo_match,
)

SOFT_CREDIT = 0.85  # a typo or a romanisation variant is nearly, not quite, the same token
ACRONYM_CREDIT = 0.9
MAX_SPAN = 4
MIN_SKELETON = 4  # shorter consonant outlines are shared by too many unrelated words


@dataclass(frozen=True, slots=True)
class Alignment:
    """How two names line up. `overlap` is the weighted share of both names that found a
    counterpart (a soft, weighted Dice coefficient); `links` are (left, right, how);
    `left_text` and `right_text` are the names with linked spellings made identical, for a
    character comparison that is not thrown off by "BYD" against "bi ya di"."""

    overlap: float
    links: tuple[tuple[str, str, str], ...]
    left_only: tuple[str, ...]
    right_only: tuple[str, ...]
    left_only_weight: float
    right_only_weight: float
    left_text: str
    right_text: str


class Side:
    """One name during alignment: token weights, the credit each token has earned, and the
    text used for the character comparison."""

    def __init__(self, name: NormalizedName, weights: TokenWeights) -> None:
        self.name = name
        self.tokens = name.tokens
        self.order = content(name)
        self.weight = [0.0] * len(self.tokens)
        for i in self.order:
            core = name.roles[i] == "core"
            self.weight[i] = weights.weight(self.tokens[i]) if core else PLACE_WEIGHT
        self.credit = [0.0] * len(self.tokens)
        self.text: list[str | None] = [None] * len(self.tokens)
        for i in self.order:
            self.text[i] = self.tokens[i]
        self.core = [i for i in self.order if name.roles[i] == "core"]

    def free(self, i: int) -> bool:
        return self.credit[i] == 0.0 and self.weight[i] > 0.0

    def spans(self) -> list[tuple[tuple[int, ...], str]]:
        order, out = self.order, []
        for size in range(MAX_SPAN, 1, -1):
            for s in range(len(order) - size + 1):
                idx = order[s : s + size]
                if all(self.free(i) for i in idx):
                    out.append((idx, "".join(self.tokens[i] for i in idx)))
        return out

    def link(self, positions: list[int], credit: float, text: str | None = None) -> None:
        for k, i in enumerate(positions):
            self.credit[i] = credit
            if text is not None:
                self.text[i] = text if k == 0 else None

    def joined_text(self) -> str:
        return " ".join(t for t in self.text if t)


def _in_order(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The largest subset of (i, j) pairs, sorted by i, whose j also increase."""
    chains: list[list[tuple[int, int]]] = []
    for pair in sorted(pairs):
        longest: list[tuple[int, int]] = []
        for chain in chains:
            if chain[-1][1] < pair[1] and len(chain) > len(longest):
                longest = chain
        chains.append([*longest, pair])
    best: list[tuple[int, int]] = []
    for chain in chains:
        if len(chain) > len(best):
            best = chain
    return set(best)


def _exact(a: Side, b: Side) -> list[tuple[str, str, str]]:
    pairs: list[tuple[int, int]] = []
    free: dict[str, list[int]] = {}
    for j in reversed(b.order):
        free.setdefault(b.tokens[j], []).append(j)
    for i in a.order:
        slots = free.get(a.tokens[i])
        if slots:
            pairs.append((i, slots.pop()))
    # Syllables of Chinese names only count in their order: 信远锦 and 源鑫金 share every
    # syllable ("xin yuan jin", "yuan xin jin") and are different names.
    pinyin = [(i, j) for i, j in pairs if a.name.kinds[i] == b.name.kinds[j] == "pinyin"]
    if len(pinyin) > 1:
        kept = _in_order(pinyin)
        pairs = [p for p in pairs if p in kept or p not in pinyin]
    for i, j in pairs:
        a.link([i], 1.0)
        b.link([j], 1.0)
    return [(a.tokens[i], b.tokens[j], "exact") for i, j in pairs]


def _joined(a: Side, b: Side, translit: frozenset[str]) -> list[tuple[str, str, str]]:
    """Spans of `a` written as one word in `b` (exactly, or as a romanisation variant)."""
    words: dict[str, int] = {}
    for j in reversed(b.order):
        if b.free(j):
            word = b.tokens[j]
            words[word] = j
            if word in translit and len(skeleton(word)) >= MIN_SKELETON:
                words.setdefault(f"\0{skeleton(word)}", j)
    links: list[tuple[str, str, str]] = []
    if not words or sum(map(a.free, a.order)) < 2:
        return links
    for idx, text in a.spans():
        j = words.get(text, words.get(f"\0{skeleton(text)}", -1) if translit else -1)
        if j < 0 or not b.free(j) or not all(a.free(i) for i in idx):
            continue
        word = b.tokens[j]
        credit = 1.0 if word == text else SOFT_CREDIT
        a.link(list(idx), credit)
        b.link([j], credit, " ".join(a.tokens[i] for i in idx))
        links.append((" ".join(a.tokens[i] for i in idx), word, "joined"))
    return links


def _acronyms(a: Side, b: Side) -> list[tuple[str, str, str]]:
    """Tokens of `a` that are the initials of consecutive words of `b`."""
    links: list[tuple[str, str, str]] = []
    tokens = [i for i in a.core if a.free(i) and acronym_token(a.name, a.tokens[i])]
    if not tokens or sum(map(b.free, b.core)) < 2:
        return links
    for i in tokens:
        token = a.tokens[i]
        for start, end, forms in acronym_runs(b.name):
            covered = [j for j in b.core if start <= j <= end]
            if token not in forms or not all(b.free(j) for j in covered):
                continue
            if len(token) == 2 and (start != b.core[0] or end != b.core[-1]):
                continue  # two letters only stand for a whole name
            a.link([i], ACRONYM_CREDIT)
            b.link(covered, ACRONYM_CREDIT, token)
            links.append((token, " ".join(b.tokens[j] for j in covered), "acronym"))
            break
    return links


def _soft(a: Side, b: Side, translit: frozenset[str]) -> list[tuple[str, str, str]]:
    links = []
    for i in a.order:
        if not a.free(i):
            continue
        x = a.tokens[i]
        for j in b.order:
            y = b.tokens[j]
            if not b.free(j):
                continue
            phonetic = (
                (x in translit or y in translit)
                and len(skeleton(x)) >= MIN_SKELETON
                and (skeleton(x) == skeleton(y))
            )
            if phonetic or typo_match(x, y):
                a.link([i], SOFT_CREDIT)
                b.link([j], SOFT_CREDIT, x if phonetic else None)
                links.append((x, y, "romanisation" if phonetic else "typo"))
                break
    return links


def _swap(links: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(x, y, how) for y, x, how in links]


def align(left: NormalizedName, right: NormalizedName, weights: TokenWeights) -> Alignment:
    a, b = Side(left, weights), Side(right, weights)
    translit = left.translit | right.translit
    links = _exact(a, b)
    links += _joined(a, b, translit) + _swap(_joined(b, a, translit))
    links += _acronyms(a, b) + _swap(_acronyms(b, a))
    links += _soft(a, b, translit)
    total = sum(a.weight) + sum(b.weight)
    got = sum(c * w for c, w in zip(a.credit, a.weight, strict=True)) + sum(
        c * w for c, w in zip(b.credit, b.weight, strict=True)
    )
    overlap = got / total if total else float(left.tokens == right.tokens)
    left_text, right_text = a.joined_text(), b.joined_text()
    whole = False
    # Whole names written with different word breaks ("NINGDESHIDAI" against "宁德时代").
    x, y = compact(left), compact(right)
    credit = 1.0 if x == y else SOFT_CREDIT
    if (
        x
        and overlap < credit
        and (
            x == y or (translit and len(skeleton(x)) >= MIN_SKELETON and skeleton(x) == skeleton(y))
        )
    ):
        overlap, whole, right_text = credit, True, left_text
        links.append((x, y, "joined" if x == y else "romanisation"))
    left_only = [] if whole else [i for i in a.core if a.free(i)]
    right_only = [] if whole else [j for j in b.core if b.free(j)]
    return Alignment(
        overlap=overlap,
        links=tuple(links),
        left_only=tuple(left.tokens[i] for i in left_only),
        right_only=tuple(right.tokens[j] for j in right_only),
        left_only_weight=sum(a.weight[i] for i in left_only if a.weight[i] > WEAK_WEIGHT),
        right_only_weight=sum(b.weight[j] for j in right_only if b.weight[j] > WEAK_WEIGHT),
        left_text=left_text,
        right_text=right_text,
    )
