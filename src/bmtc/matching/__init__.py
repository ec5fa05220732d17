"""Name matching and entity resolution for screening companies against lists and the atlas.

    from bmtc.matching import Matcher, MatchRecord

    catl = MatchRecord("catl", "Contemporary Amperex Technology Co., Limited", country="CN",
                       aliases=("宁德时代新能源科技股份有限公司",))
    matcher = Matcher([catl])
    for query in (MatchRecord("q1", "CATL"), MatchRecord("q2", "宁德时代新能源科技有限公司")):
        for candidate in matcher.candidates(query):
            print(candidate.explain())

Modules, in the order they build on each other: `vocab` (word lists and CJK industry terms),
`scripts` (any script to ASCII tokens, pinyin), `legal_forms`, `words` (synonyms, plurals),
`aliases` (aliases written into names), `normalize` (core tokens, legal form, places),
`similarity` (token weights, typos, romanisation outlines), `acronyms`, `alignment` (two names
token by token), `blocking` (index keys), `features` (explained evidence and the score), `matcher`
(records, blocking, decisions), `evaluation` (the labelled pairs shipped with the package).
"""

from bmtc.matching.evaluation import LabelledPair, Metrics, load_pairs, metrics, score_pairs
from bmtc.matching.features import Feature
from bmtc.matching.legal_forms import LEGAL_FORMS, LegalForm, compatibility
from bmtc.matching.matcher import (
    MATCH_THRESHOLD,
    POSSIBLE_THRESHOLD,
    Decision,
    MatchCandidate,
    Matcher,
    MatchRecord,
    decide,
    score_pair,
)
from bmtc.matching.normalize import NormalizedName, name_variants, normalize_name, split_aliases
from bmtc.matching.scripts import pinyin_key, to_pinyin
from bmtc.matching.similarity import TokenWeights

__all__ = [
    "LEGAL_FORMS",
    "MATCH_THRESHOLD",
    "POSSIBLE_THRESHOLD",
    "Decision",
    "Feature",
    "LabelledPair",
    "LegalForm",
    "MatchCandidate",
    "MatchRecord",
    "Matcher",
    "Metrics",
    "NormalizedName",
    "TokenWeights",
    "compatibility",
    "decide",
    "load_pairs",
    "metrics",
    "name_variants",
    "normalize_name",
    "pinyin_key",
    "score_pair",
    "score_pairs",
    "split_aliases",
    "to_pinyin",
]
