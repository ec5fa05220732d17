"""The DOE FEOC tests for every entity at once (see `feoc_tests` for the explained form)."""

from __future__ import annotations

import numpy as np

from bmtc.screening.batch import (
    BatchResult,
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
from bmtc.screening.frontier import propagate
from bmtc.screening.registry import F64, I8, NO, UNKNOWN, YES, Registry
from bmtc.screening.rules import Mode, RuleSet

_METRICS = ("board", "voting", "equity")


def government_control(reg: Registry, rules: RuleSet, mode: Mode,
                       metrics: tuple[str, ...]) -> tuple[F64, F64]:
    """Strongest attributed share of any covered nation's government, low and high."""
    n, groups = reg.size, len(reg.covered)
    stakes = stake_matrices(reg, metrics)
    gate = make_gate(mode, rules.control_threshold_pct, rules.control_threshold_inclusive)
    bounds = []
    for surely, table in ((True, stakes.lo), (False, stakes.hi)):
        nation = reg.government_of if surely else reg.maybe_government_of
        sources = np.zeros((n, groups))
        members = np.flatnonzero(nation >= 0)
        sources[members, nation[members]] = 1.0
        bounds.append(propagate(table, sources, nation >= 0, gate, reg.holds).max(axis=1))
    return bounds[0], bounds[1]


def screen_feoc(reg: Registry, rules: RuleSet, as_of: str, mode: Mode) -> BatchResult:
    n = reg.size
    in_effect = rules_in_effect(rules, as_of)
    control_rule = next((r for r in in_effect if r.test == "government_control"), None)
    control = np.zeros(n, dtype=np.int8)
    if control_rule is not None:
        metrics = control_rule.metrics or _METRICS
        lo, hi = government_control(reg, rules, mode, metrics)
        control = tri_from_bounds(lo, hi, control_rule)
    foreign = np.where(control == YES, YES,
                       _foreign_status(reg, rules, mode, control_rule.metrics
                                       if control_rule and control_rule.metrics else _METRICS)
                       ).astype(np.int8)
    government = np.where(reg.government_of >= 0, YES,
                          np.where(reg.maybe_government_of >= 0, UNKNOWN, NO)).astype(np.int8)
    tests: dict[str, I8] = {}
    base: list[I8] = []
    for rule in in_effect:
        if rule.test == "foreign_entity":
            tests[rule.id] = foreign
        elif rule.test == "listed":
            base.append(np.where(list_hits(reg.listed, rule), foreign, NO).astype(np.int8))
            tests[rule.id] = np.where(list_hits(reg.listed, rule), foreign, NO).astype(np.int8)
        elif rule.test == "is_government":
            tests[rule.id] = government
            base.append(government)
        elif rule.test == "jurisdiction":
            tests[rule.id] = reg.jurisdiction
            base.append(reg.jurisdiction)
        elif rule.test == "activity_jurisdiction":
            tests[rule.id] = np.where(reg.activity, YES, NO).astype(np.int8)
        elif rule.test == "government_control":
            tests[rule.id] = control
            base.append(control)
    contract = next((r for r in in_effect if r.test == "contract_control"), None)
    if contract is not None:
        tests[contract.id] = _contract_control(reg, combine(base, n))
    for rule in rules.rules_on(as_of):
        tests.setdefault(rule.id, np.zeros(n, dtype=np.int8))
    primary = [tests[r.id] for r in in_effect if not r.precondition]
    outcome = combine(primary, n)
    outcome = np.where((outcome == NO) & problems_reaching(reg), UNKNOWN, outcome)
    status = np.array(["clear", "insufficient_data", "feoc"])[outcome]
    return BatchResult(reg.ids, rules.id, mode, status, tests)


def _foreign_status(reg: Registry, rules: RuleSet, mode: Mode, metrics: tuple[str, ...]) -> I8:
    stakes = stake_matrices(reg, metrics)
    gate = make_gate(mode, rules.control_threshold_pct, rules.control_threshold_inclusive)
    bounds = []
    for sources, table in ((reg.foreign == YES, stakes.lo), (reg.foreign != NO, stakes.hi)):
        column = sources.astype(np.float64)[:, None]
        bounds.append(propagate(table, column, np.zeros(reg.size, bool), gate, reg.holds)[:, 0])
    surely = crosses_array(bounds[0], rules.control_threshold_pct,
                           rules.control_threshold_inclusive)
    maybe = crosses_array(bounds[1], rules.control_threshold_pct,
                          rules.control_threshold_inclusive)
    controlled = np.where(surely, YES, np.where(maybe, UNKNOWN, NO))
    return np.maximum(reg.foreign, controlled).astype(np.int8)


def _contract_control(reg: Registry, counterparty: I8) -> I8:
    holder_status = counterparty[reg.contract_holder]
    effective = reg.contract_effective
    relevant = reg.contract_now & (holder_status != NO)
    outcome = np.where((holder_status == YES) & (effective == YES), YES,
                       np.where(effective == NO, NO, UNKNOWN)).astype(np.int8)
    outcome = np.where(relevant, outcome, NO).astype(np.int8)
    return any_over_edges(reg.size, reg.contract_subject, outcome)
