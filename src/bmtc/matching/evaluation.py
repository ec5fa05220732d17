"""The labelled evaluation pairs shipped with the package, and precision/recall over them.

`data/matching/evaluation_pairs.csv` holds pairs of company names written from public
knowledge of the battery, minerals and automotive industries: legal-form, script, alias,
abbreviation, word-order and typo variants of one company (`same` = yes), and different
companies that share a brand or generic word, siblings in one group (a parent and its
subsidiary are different legal entities: `no`; screening links them through the ownership graph
instead), companies that share a place, and unrelated ones (`no`). LEIs in the file are
synthetic (prefix ZZZZ00, valid check digits) and belong to no real entity.

Token weights for the evaluation come from every distinct name in the file, standing in for a
reference set.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bmtc.matching.matcher import MATCH_THRESHOLD, MatchCandidate, MatchRecord, score_pair
from bmtc.matching.normalize import name_variants
from bmtc.matching.similarity import TokenWeights

COLUMNS = (
    "left_name",
    "left_country",
    "left_lei",
    "right_name",
    "right_country",
    "right_lei",
    "same",
    "category",
)


@dataclass(frozen=True, slots=True)
class LabelledPair:
    left: MatchRecord
    right: MatchRecord
    same: bool
    category: str


@dataclass(frozen=True, slots=True)
class Metrics:
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def default_path() -> Path:
    return Path(str(resources.files("bmtc") / "data" / "matching" / "evaluation_pairs.csv"))


def load_pairs(path: Path | None = None) -> list[LabelledPair]:
    with (path or default_path()).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"expected columns {COLUMNS}, got {reader.fieldnames}")
        pairs = []
        for n, row in enumerate(reader, start=2):
            if row["same"] not in ("yes", "no"):
                raise ValueError(f"row {n}: same must be yes or no, not {row['same']!r}")
            left = MatchRecord(
                f"L{n}",
                row["left_name"],
                lei=row["left_lei"] or None,
                country=row["left_country"] or None,
            )
            right = MatchRecord(
                f"R{n}",
                row["right_name"],
                lei=row["right_lei"] or None,
                country=row["right_country"] or None,
            )
            pairs.append(LabelledPair(left, right, row["same"] == "yes", row["category"]))
    return pairs


def weights_for(pairs: Iterable[LabelledPair]) -> TokenWeights:
    names = {name for p in pairs for name in (p.left.name, p.right.name)}
    return TokenWeights.from_names(name_variants(name) for name in sorted(names))


def score_pairs(pairs: Sequence[LabelledPair]) -> list[tuple[LabelledPair, MatchCandidate]]:
    weights = weights_for(pairs)
    return [(p, score_pair(p.left, p.right, weights)) for p in pairs]


def metrics(
    scored: Iterable[tuple[LabelledPair, MatchCandidate]], threshold: float = MATCH_THRESHOLD
) -> Metrics:
    tp = fp = fn = tn = 0
    for pair, candidate in scored:
        predicted = candidate.score >= threshold
        tp += predicted and pair.same
        fp += predicted and not pair.same
        fn += not predicted and pair.same
        tn += not predicted and not pair.same
    return Metrics(threshold, tp, fp, fn, tn)
