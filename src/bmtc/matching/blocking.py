"""Blocking keys: every way `alignment.align` can link two names gives both a key in common,
so that a matcher only needs to compare names that share one."""

from __future__ import annotations

from bmtc.matching.acronyms import acronym_runs, acronym_token
from bmtc.matching.alignment import MIN_SKELETON, Side
from bmtc.matching.normalize import NormalizedName, compact
from bmtc.matching.similarity import TokenWeights, skeleton


def blocking_keys(name: NormalizedName) -> set[str]:
    """Keys under which a name is indexed. Prefixes: t: a token or tokens written together,
    k: consonant outline (romanisation variants), d: a long token and each of its one-letter
    deletions (any single typo leaves two words sharing one), a: an acronym or the initials of
    a run of words."""
    side = Side(name, TokenWeights())
    texts = [name.tokens[i] for i in side.order] + [text for _, text in side.spans()]
    texts.append(compact(name))
    keys = {f"t:{t}" for t in texts if t}
    keys.update(f"k:{skeleton(t)}" for t in texts if len(skeleton(t)) >= MIN_SKELETON)
    core = [i for i in side.order if name.roles[i] == "core"]
    for i in side.order:
        token = name.tokens[i]
        if len(token) >= 6 and token.isalpha():
            keys.add(f"d:{token}")
            keys.update(f"d:{token[:k]}{token[k + 1 :]}" for k in range(len(token)))
        if name.roles[i] == "core" and acronym_token(name, token):
            keys.add(f"a:{token}")
    for start, end, forms in acronym_runs(name):
        whole = bool(core) and start == core[0] and end == core[-1]
        keys.update(f"a:{form}" for form in forms if len(form) >= 3 or whole)
    return keys
