"""The prohibited-foreign-entity tests for every entity at once (see `pfe_tests`)."""

from __future__ import annotations

import numpy as np

from bmtc.screening.batch import (
    BatchResult,
    Gate,
    Matrix,
    any_over_edges,
    combine,
    crosses_array,
    list_hits,
    make_gate,
    problems_reaching,
    rules_in_effect,
    stake_matrices,
    tri_from_bounds,
)
from bmtc.screening.frontier import per_source_shares, propagate
from bmtc.screening.registry import BOOL, F64, I8, NO, UNKNOWN, YES, Registry
from bmtc.screening.rules import Mode, Rule, RuleSet

_OWNERSHIP = ("voting", "equity")


def _group_bounds(reg: Registry, sources_lo: BOOL, sources_hi: BOOL,
                  metrics: tuple[str, ...], gate: Gate) -> tuple[F64, F64]:
    stakes = stake_matrices(reg, metrics)
    bounds = []
    for sources, table in ((sources_lo, stakes.lo), (sources_hi, stakes.hi)):
        column = sources.astype(np.float64)[:, None]
        bounds.append(propagate(table, column, sources, gate, reg.holds)[:, 0])
    return bounds[0], bounds[1]


def _single_owner(reg: Registry, sources: BOOL, table: dict[str, Matrix], gate: Gate) -> F64:
    """Largest share any one source holds in each party."""
    _, strongest = per_source_shares(table, sources, gate)
    if strongest.shape[0] == 0:
        return np.zeros(reg.size)
    return np.asarray(strongest.max(axis=0).todense()).ravel()


def screen_pfe(reg: Registry, rules: RuleSet, as_of: str, mode: Mode,
               list_date: str) -> BatchResult:
    n = reg.size
    in_effect = rules_in_effect(rules, as_of)
    gate = make_gate(mode, rules.control_threshold_pct, rules.control_threshold_inclusive)
    tests: dict[str, I8] = {}
    base = reg.foreign_controlled_base
    control_rule = next(r for r in in_effect if r.test == "foreign_controlled")
    metrics = control_rule.metrics or _OWNERSHIP
    lo, hi = _group_bounds(reg, base == YES, base != NO, metrics, gate)
    primary: list[I8] = []
    for rule in in_effect:
        if rule.test == "listed":
            tests[rule.id] = np.where(list_hits(reg.listed_on_list_date, rule), YES, NO
                                      ).astype(np.int8)
        elif rule.test == "foreign_controlled_base":
            tests[rule.id] = base
        elif rule.test == "foreign_controlled":
            tests[rule.id] = tri_from_bounds(lo, hi, rule)
        if rule.role != "fie" and rule.id in tests:
            primary.append(tests[rule.id])
    specified = combine(primary, n)
    sure, possible = specified == YES, specified != NO
    influenced: list[I8] = []
    for rule in in_effect:
        if rule.role != "fie":
            continue
        tests[rule.id] = _fie_test(reg, rule, specified, sure, possible, gate)
        influenced.append(tests[rule.id])
    for rule in rules.rules_on(as_of):
        tests.setdefault(rule.id, np.zeros(n, dtype=np.int8))
    fie = combine(influenced, n)
    outcome = np.where(specified == YES, 3, np.where(
        fie == YES, 2, np.where((specified == UNKNOWN) | (fie == UNKNOWN), 1, 0)))
    outcome = np.where((outcome == 0) & problems_reaching(reg), 1, outcome)
    status = np.array(["clear", "insufficient_data", "foreign_influenced", "specified"])[outcome]
    return BatchResult(reg.ids, rules.id, mode, status, tests)


def _fie_test(reg: Registry, rule: Rule, specified: I8, sure: BOOL, possible: BOOL,
              gate: Gate) -> I8:
    n = reg.size
    metrics = rule.metrics or _OWNERSHIP
    if rule.test == "sfe_aggregate_owner":
        lo, hi = _group_bounds(reg, sure, possible, metrics, gate)
        return tri_from_bounds(lo, hi, rule)
    if rule.test == "sfe_single_owner":
        stakes = stake_matrices(reg, metrics)
        lo = _single_owner(reg, sure, stakes.lo, gate)
        hi = _single_owner(reg, possible, stakes.hi, gate)
        return tri_from_bounds(lo, hi, rule)
    if rule.test == "sfe_debt":
        status = specified[reg.debt_holder]
        debt_lo: F64 = np.bincount(
            reg.debt_subject, weights=np.where(status == YES, reg.debt_lo, 0.0), minlength=n
        ).astype(np.float64)
        debt_hi: F64 = np.bincount(
            reg.debt_subject, weights=np.where(status != NO, reg.debt_hi, 0.0), minlength=n
        ).astype(np.float64)
        return tri_from_bounds(np.minimum(debt_lo, 1.0), np.minimum(debt_hi, 1.0), rule)
    if rule.test == "sfe_officer":
        return any_over_edges(n, reg.officer_subject, specified[reg.officer_holder])
    if rule.test == "sfe_effective_control":
        status = specified[reg.contract_holder]
        effective = reg.contract_effective
        outcome = np.where((status == YES) & (effective == YES), YES,
                           np.where(effective == NO, NO, UNKNOWN)).astype(np.int8)
        relevant = reg.contract_prior_year & (status != NO)
        return any_over_edges(n, reg.contract_subject,
                              np.where(relevant, outcome, NO).astype(np.int8))
    raise ValueError(f"{rule.id}: test {rule.test!r} has no batch form")


__all__ = ["crosses_array", "screen_pfe"]
