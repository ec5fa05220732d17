"""Features of a pair of names, each with a value, a weight and a reason a person can check.

The score of a pair is the sum of value x weight over its features, clipped to [0, 1]; an equal
LEI overrides the sum and gives 1. Name evidence carries almost all of the weight:

- name_similarity: rapidfuzz token-sort, token-set and joined-text ratios of the aligned
  names, 0..1, weight 0.30.
- token_overlap: IDF-weighted share of both names that lines up, 0..1, weight 0.70.
- legal_form: same form +1 x 0.02; variants of one form (Ltd., Co., Ltd., 株式会社) 0; distinct
  types of one legal system (GmbH, AG) -1 x 0.04; different legal systems -1 x 0.08.
- location: a place prefix on one side only -1 x 0.03; a place inside one name only (a regional
  subsidiary's mark) -1 x 0.15; different places on the two sides -1 x 0.20.
- numbers: on one side only -1 x 0.10; different -1 x 0.35.
- extra_words: distinctive words left over on both sides -(their weight, at most 1) x 0.15;
  on one side, when the other is a complete legal name x 0.20, when it is a bare short name
  x 0.04.
- country: equal +1 x 0.05; different -1 x 0.25; unknown 0.
- lei: different -1 x 0.60; equal is decisive.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from bmtc.matching.alignment import Alignment, align
from bmtc.matching.legal_forms import compatibility, label
from bmtc.matching.normalize import NormalizedName
from bmtc.matching.similarity import TokenWeights

NAME_WEIGHT = 0.30
OVERLAP_WEIGHT = 0.70


@dataclass(frozen=True, slots=True)
class Feature:
    """One piece of evidence: contribution to the score is value x weight."""

    name: str
    value: float
    weight: float
    reason: str

    @property
    def contribution(self) -> float:
        return self.value * self.weight


def _quote(words: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def name_similarity(alignment: Alignment) -> Feature:
    """Character similarity of the two names as aligned (acronyms and words written together
    already made identical, so that only genuine spelling differences count)."""
    x, y = alignment.left_text, alignment.right_text
    value = (
        fuzz.token_sort_ratio(x, y)
        + fuzz.token_set_ratio(x, y)
        + fuzz.ratio(x.replace(" ", ""), y.replace(" ", ""))
    ) / 300
    return Feature(
        "name_similarity",
        value,
        NAME_WEIGHT,
        f"names {value:.0%} alike character by character ('{x}' vs '{y}')",
    )


def token_overlap(alignment: Alignment) -> Feature:
    shared = [f"'{x}'" if x == y else f"'{x}'~'{y}' ({how})" for x, y, how in alignment.links]
    parts = [f"shared {', '.join(shared)}" if shared else "no token in common"]
    if alignment.left_only:
        parts.append(f"only left {_quote(alignment.left_only)}")
    if alignment.right_only:
        parts.append(f"only right {_quote(alignment.right_only)}")
    return Feature(
        "token_overlap",
        alignment.overlap,
        OVERLAP_WEIGHT,
        f"rare-token overlap {alignment.overlap:.2f}: {'; '.join(parts)}",
    )


def legal_form(a: NormalizedName, b: NormalizedName) -> Feature:
    fa, fb = a.legal_form, b.legal_form
    relation = compatibility(fa, fb)
    if fa is None or fb is None:
        known = fa or fb
        text = f"legal form on one side only ({label(known)})" if known else "no legal form"
        return Feature("legal_form", 0.0, 0.0, text)
    pair = f"{label(fa)} vs {label(fb)}"
    if relation == "same":
        return Feature("legal_form", 1.0, 0.02, f"same legal form ({label(fa)})")
    if relation == "compatible":
        text = (
            f"names differ only by legal form ({pair})"
            if a.tokens == b.tokens
            else f"legal forms {pair} are variants of one form"
        )
        return Feature("legal_form", 0.0, 0.02, text)
    if relation == "related":
        return Feature("legal_form", -1.0, 0.04, f"legal forms {pair} are distinct entity types")
    return Feature(
        "legal_form", -1.0, 0.08, f"legal forms {pair} belong to different legal systems"
    )


def location(a: NormalizedName, b: NormalizedName) -> Feature:
    pa, pb = set(a.places) | set(a.qualifiers), set(b.places) | set(b.qualifiers)
    only_a, only_b = sorted(pa - pb), sorted(pb - pa)
    if only_a and only_b:
        return Feature(
            "location", -1.0, 0.20, f"different places: {_quote(only_a)} vs {_quote(only_b)}"
        )
    extra = only_a or only_b
    if not extra:
        text = f"same place {_quote(sorted(pa))}" if pa else "no place in either name"
        return Feature("location", 0.0, 0.0, text)
    strong = set(a.qualifiers if only_a else b.qualifiers) & set(extra)
    if strong:
        return Feature(
            "location",
            -1.0,
            0.15,
            f"{_quote(sorted(strong))} on one side only: likely a regional subsidiary",
        )
    return Feature(
        "location",
        -1.0,
        0.03,
        f"place prefix {_quote(extra)} on one side only (often left out of English names)",
    )


def numbers(a: NormalizedName, b: NormalizedName) -> Feature | None:
    na, nb = set(a.numbers), set(b.numbers)
    if not na and not nb:
        return None
    if na == nb:
        return Feature("numbers", 0.0, 0.0, f"numbers agree ({_quote(sorted(na))})")
    if na and nb:
        return Feature(
            "numbers", -1.0, 0.35, f"numbers differ: {_quote(sorted(na))} vs {_quote(sorted(nb))}"
        )
    return Feature("numbers", -1.0, 0.10, f"number {_quote(sorted(na or nb))} on one side only")


def extra_words(a: NormalizedName, b: NormalizedName, alignment: Alignment) -> Feature | None:
    """Distinctive words without a counterpart. On both sides they are a conflict ("SK On" vs
    "SK Innovation"); on one side, they matter when the shorter name is a complete legal name
    ("Mitsubishi Corporation" vs "Mitsubishi Chemical Corporation"), less when it is a bare
    short name ("Ford" vs "Ford Motor Company")."""
    la, lb = alignment.left_only_weight, alignment.right_only_weight
    if la and lb:
        value = min(1.0, (la + lb) / 2)
        return Feature(
            "extra_words",
            -value,
            0.15,
            f"distinctive words on each side: "
            f"{_quote(alignment.left_only)} vs {_quote(alignment.right_only)}",
        )
    if not la and not lb:
        return None
    shorter, extra, words = (a, lb, alignment.right_only) if lb else (b, la, alignment.left_only)
    if shorter.legal_form is not None:
        return Feature(
            "extra_words",
            -min(1.0, extra),
            0.20,
            f"'{shorter.original}' is a complete legal name without {_quote(words)}",
        )
    return Feature(
        "extra_words",
        -min(1.0, extra),
        0.04,
        f"short name '{shorter.original}' lacks {_quote(words)}",
    )


def name_features(
    a: NormalizedName, b: NormalizedName, weights: TokenWeights
) -> tuple[Feature, ...]:
    alignment = align(a, b, weights)
    found = [
        name_similarity(alignment),
        token_overlap(alignment),
        legal_form(a, b),
        location(a, b),
        numbers(a, b),
        extra_words(a, b, alignment),
    ]
    return tuple(f for f in found if f is not None)


def country(a: str | None, b: str | None) -> Feature:
    if a is None or b is None:
        return Feature("country", 0.0, 0.0, "country unknown on one side")
    if a == b:
        return Feature("country", 1.0, 0.05, f"country {a} on both sides")
    return Feature("country", -1.0, 0.25, f"country {a} vs {b} differs")


def lei(a: str | None, b: str | None) -> Feature | None:
    if a is None and b is None:
        return None
    if a is None or b is None:
        return Feature("lei", 0.0, 0.0, f"LEI {a or b} on one side only")
    if a == b:
        return Feature("lei", 1.0, 1.0, f"LEI {a} equal on both sides")
    return Feature("lei", -1.0, 0.60, f"LEI {a} vs {b} differ: different legal entities")


def total(features: tuple[Feature, ...]) -> float:
    """Score in [0, 1]: an equal LEI is decisive, otherwise the clipped sum."""
    if any(f.name == "lei" and f.value > 0 for f in features):
        return 1.0
    return round(min(1.0, max(0.0, sum(f.contribution for f in features))), 4)
