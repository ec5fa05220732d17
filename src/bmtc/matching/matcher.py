"""Matching records against a reference set, with blocking so that few pairs are scored.

Every reference record is indexed under the blocking keys of its name variants (see
`blocking.blocking_keys`) and its LEI. A query is scored only against records that share a key
with it; keys held by more than `block_cap` records (common words such as "lithium") are
skipped unless the query has nothing rarer, and at most `max_comparisons` records, those sharing
the most specific keys, are scored. `Matcher.comparisons` counts the pairs scored.

Decisions: `match` at a score of at least MATCH_THRESHOLD (0.85), `possible` from
POSSIBLE_THRESHOLD (0.60), otherwise `no_match`. A pair can only reach the `possible` threshold
through a link that gives both names a common key, so below the two limits blocking finds every
candidate an exhaustive comparison would report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bmtc.matching.blocking import blocking_keys
from bmtc.matching.features import Feature, country, lei, name_features, total
from bmtc.matching.normalize import NormalizedName, name_variants
from bmtc.matching.similarity import TokenWeights

Decision = Literal["match", "possible", "no_match"]
MATCH_THRESHOLD = 0.85
POSSIBLE_THRESHOLD = 0.60
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")


def decide(score: float) -> Decision:
    if score >= MATCH_THRESHOLD:
        return "match"
    return "possible" if score >= POSSIBLE_THRESHOLD else "no_match"


def normalize_lei(value: str | None) -> str | None:
    """Upper-case LEI without spaces, or None unless it has the ISO 17442 shape and check
    digits (a mistyped LEI must not decide a match)."""
    if value is None:
        return None
    text = re.sub(r"\s+", "", value).upper()
    if not _LEI.match(text):
        return None
    return text if int("".join(str(int(c, 36)) for c in text)) % 97 == 1 else None


def normalize_country(value: str | None) -> str | None:
    text = (value or "").strip().upper()
    return text if len(text) == 2 and text.isalpha() else None


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """A company to match: `country` is ISO 3166 alpha-2 or None."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    lei: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class MatchCandidate:
    query_id: str
    candidate_id: str
    candidate_name: str
    score: float
    decision: Decision
    features: tuple[Feature, ...]
    query_variant: str = ""
    candidate_variant: str = ""

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f.reason for f in self.features)

    def explain(self) -> str:
        lines = [f"{self.candidate_name} [{self.candidate_id}]: {self.score:.3f} {self.decision}"]
        lines += [f"  {f.contribution:+.3f} {f.name}: {f.reason}" for f in self.features]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Prepared:
    record: MatchRecord
    variants: tuple[NormalizedName, ...]
    lei: str | None
    country: str | None


def _prepare(record: MatchRecord) -> _Prepared:
    return _Prepared(
        record,
        name_variants(record.name, record.aliases),
        normalize_lei(record.lei),
        normalize_country(record.country),
    )


def _compare(query: _Prepared, candidate: _Prepared, weights: TokenWeights) -> MatchCandidate:
    best: tuple[float, tuple[Feature, ...], str, str] | None = None
    for qv in query.variants:
        for cv in candidate.variants:
            found = name_features(qv, cv, weights)
            subtotal = sum(f.contribution for f in found)
            if best is None or subtotal > best[0]:
                best = (subtotal, found, qv.original, cv.original)
    features: tuple[Feature, ...] = best[1] if best else ()
    record_level = (country(query.country, candidate.country), lei(query.lei, candidate.lei))
    features += tuple(f for f in record_level if f is not None)
    score = total(features)
    return MatchCandidate(
        query_id=query.record.id,
        candidate_id=candidate.record.id,
        candidate_name=candidate.record.name,
        score=score,
        decision=decide(score),
        features=features,
        query_variant=best[2] if best else "",
        candidate_variant=best[3] if best else "",
    )


def score_pair(
    left: MatchRecord, right: MatchRecord, weights: TokenWeights | None = None
) -> MatchCandidate:
    """Score one pair, outside any reference set (token weights from priors, or as given)."""
    return _compare(_prepare(left), _prepare(right), weights or TokenWeights())


class Matcher:
    """A reference set indexed for matching.

    `block_cap` defaults to max(100, 0.2% of the reference); `max_comparisons` bounds the records
    scored per query, keeping those that share the most specific keys.
    """

    def __init__(
        self,
        reference: Sequence[MatchRecord],
        *,
        block_cap: int | None = None,
        max_comparisons: int = 500,
    ) -> None:
        self._records = [_prepare(r) for r in reference]
        self.weights = TokenWeights.from_names(p.variants for p in self._records)
        self.block_cap = block_cap or max(100, len(self._records) // 500)
        self.max_comparisons = max_comparisons
        self.comparisons = 0
        self._index: dict[str, list[int]] = {}
        for position, prepared in enumerate(self._records):
            for key in self._keys(prepared):
                self._index.setdefault(key, []).append(position)

    def __len__(self) -> int:
        return len(self._records)

    @staticmethod
    def _keys(prepared: _Prepared) -> set[str]:
        keys = {k for v in prepared.variants for k in blocking_keys(v)}
        if prepared.lei:
            keys.add(f"l:{prepared.lei}")
        return keys

    def blocks(self, query: MatchRecord) -> list[int]:
        """Positions of the reference records that share a usable key with the query."""
        postings = [self._index[k] for k in self._keys(_prepare(query)) if k in self._index]
        usable = [p for p in postings if len(p) <= self.block_cap]
        if not usable and postings:
            usable = [min(postings, key=len)]
        hits: dict[int, float] = {}
        for posting in usable:
            # Rarer keys count more, so that the cut below keeps the most specific blocks.
            share = 1.0 / len(posting)
            for position in posting:
                hits[position] = hits.get(position, 0.0) + share
        if len(hits) <= self.max_comparisons:
            return sorted(hits)
        best = sorted(hits, key=lambda p: (-hits[p], p))[: self.max_comparisons]
        return sorted(best)

    def score(self, query: MatchRecord, candidate: MatchRecord) -> MatchCandidate:
        self.comparisons += 1
        return _compare(_prepare(query), _prepare(candidate), self.weights)

    def _ranked(
        self, query: MatchRecord, positions: Iterable[int], limit: int, min_score: float
    ) -> tuple[MatchCandidate, ...]:
        prepared = _prepare(query)
        found = []
        for position in positions:
            self.comparisons += 1
            candidate = _compare(prepared, self._records[position], self.weights)
            if candidate.score >= min_score:
                found.append(candidate)
        found.sort(key=lambda c: (-c.score, c.candidate_id))
        return tuple(found[:limit])

    def candidates(
        self, query: MatchRecord, limit: int = 5, min_score: float = POSSIBLE_THRESHOLD
    ) -> tuple[MatchCandidate, ...]:
        """Best candidates for a query among the records sharing a block, best first."""
        return self._ranked(query, self.blocks(query), limit, min_score)

    def exhaustive_candidates(
        self,
        query: MatchRecord,
        limit: int = 5,
        min_score: float = POSSIBLE_THRESHOLD,
    ) -> tuple[MatchCandidate, ...]:
        """The same as `candidates` without blocking: every record is scored."""
        return self._ranked(query, range(len(self._records)), limit, min_score)

    def match_all(
        self,
        queries: Iterable[MatchRecord],
        limit: int = 1,
        min_score: float = POSSIBLE_THRESHOLD,
    ) -> dict[str, tuple[MatchCandidate, ...]]:
        """Candidates for each query id (blocked; never all pairs)."""
        return {q.id: self.candidates(q, limit, min_score) for q in queries}
