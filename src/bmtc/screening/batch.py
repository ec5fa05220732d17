"""Screening every entity at once with sparse matrices.

The attribution equations are those of `attribution` (see there), iterated for all parties
together by `frontier.propagate`, with groups of sources as columns. Results agree with the
per-entity explainer, which the test suite checks on random graphs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bmtc.screening.registry import BOOL, F64, I8, LIST_BITS, NO, UNKNOWN, YES, Registry
from bmtc.screening.rules import Mode, Rule, RuleSet

_STILL = 1e-13
Matrix = sp.csr_matrix


@dataclass
class Stakes:
    """Transposed stake matrices (subject x holder) per metric and bound."""

    lo: dict[str, Matrix]
    hi: dict[str, Matrix]


def stake_matrices(reg: Registry, metrics: tuple[str, ...]) -> Stakes:
    n = reg.size

    def matrix(values: F64) -> Matrix:
        return sp.csr_matrix((values, (reg.subject, reg.holder)), shape=(n, n))

    return Stakes(
        lo={m: matrix(reg.stakes[m][0]) for m in metrics},
        hi={m: matrix(reg.stakes[m][1]) for m in metrics},
    )


Gate = Callable[[F64], F64]


def make_gate(mode: Mode, threshold_pct: float, inclusive: bool) -> Gate:
    if mode == "multiplicative":
        return lambda x: x
    limit = threshold_pct / 100

    def gate(x: F64) -> F64:
        hit = x >= limit - 1e-9 if inclusive else x > limit + 1e-9
        return hit.astype(np.float64)

    return gate


def tri_from_bounds(lo: F64, hi: F64, rule: Rule) -> I8:
    assert rule.threshold_pct is not None
    surely = crosses_array(lo, rule.threshold_pct, rule.inclusive)
    maybe = crosses_array(hi, rule.threshold_pct, rule.inclusive)
    return np.where(surely, YES, np.where(maybe, UNKNOWN, NO)).astype(np.int8)


def crosses_array(values: F64, threshold_pct: float, inclusive: bool) -> BOOL:
    limit = threshold_pct / 100
    if inclusive:
        return values >= limit - 1e-9
    return values > limit + 1e-9


def any_over_edges(n: int, subjects: npt.NDArray[np.int32], outcomes: I8) -> I8:
    """Per subject, the strongest tri-state outcome over its edges (no edges: NO)."""
    result = np.zeros(n, dtype=np.int8)
    np.maximum.at(result, subjects, outcomes)
    return result


def problems_reaching(reg: Registry) -> BOOL:
    """Parties with a data problem on themselves, an owner up the chain, or a lender,
    appointer or counterparty (or one of theirs)."""
    n = reg.size
    reach = sp.csr_matrix((np.ones(len(reg.holder)), (reg.subject, reg.holder)), shape=(n, n))
    flag = reg.problem.astype(np.float64)
    for _ in range(n + 1):
        fresh = np.minimum(flag + reach @ flag, 1.0)
        if np.array_equal(fresh, flag):
            break
        flag = fresh
    result = flag > 0
    for holders, subjects in ((reg.debt_holder, reg.debt_subject),
                              (reg.officer_holder, reg.officer_subject),
                              (reg.contract_holder, reg.contract_subject)):
        hit = np.zeros(n, dtype=bool)
        np.logical_or.at(hit, subjects, result[holders])
        result = result | hit
    return result


@dataclass
class BatchResult:
    ids: list[str]
    ruleset: str
    mode: Mode
    status: npt.NDArray[np.str_]
    tests: dict[str, I8] = field(default_factory=dict)

    def fired(self, test_id: str) -> list[bool | None]:
        return [None if v == UNKNOWN else v == YES for v in self.tests[test_id]]


def rules_in_effect(rules: RuleSet, on: str) -> list[Rule]:
    return [r for r in rules.rules_on(on) if r.in_effect(on)]


def list_hits(listed: npt.NDArray[np.uint16], rule: Rule) -> BOOL:
    mask = 0
    for lst in rule.lists:
        mask |= LIST_BITS[lst]
    return (listed & mask) != 0  # type: ignore[no-any-return]


def combine(outcomes: list[I8], n: int) -> I8:
    if not outcomes:
        return np.zeros(n, dtype=np.int8)
    return np.maximum.reduce(outcomes).astype(np.int8)  # type: ignore[no-any-return]

