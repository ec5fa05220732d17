"""The prohibited-foreign-entity tests (IRC 7701(a)(51)) for one entity: specified foreign
entity first, then, for an entity that is not one, the foreign-influenced tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bmtc.domain.vocab import Office
from bmtc.screening.attribution import paths_to
from bmtc.screening.classify import Tri
from bmtc.screening.context import (
    Bounds,
    Context,
    add_paths,
    best,
    result,
    shares_gap,
    tri_any,
)
from bmtc.screening.rules import Rule
from bmtc.screening.verdict import Determination, Gap, Status, TestResult

_OWNERSHIP = ("voting", "equity")


@dataclass
class SpecifiedStatus:
    """SFE status (tri-state) of every party in the node set, with what decided it."""

    status: dict[str, Tri]
    fce_lo: dict[str, dict[str, float]]
    fce_hi: dict[str, dict[str, float]]
    base_lo: set[str]
    base_hi: set[str]

    def sure(self) -> set[str]:
        return {p for p, s in self.status.items() if s is True}

    def possible(self) -> set[str]:
        return {p for p, s in self.status.items() if s is not False}


def specified_status(ctx: Context, nodes: set[str], rules: list[Rule]) -> SpecifiedStatus:
    base_lo = {p for p in nodes if ctx.facts(p).foreign_controlled_base is True}
    base_hi = {p for p in nodes if ctx.facts(p).foreign_controlled_base is not False}
    control = next(r for r in rules if r.test == "foreign_controlled")
    metrics = control.metrics or _OWNERSHIP
    lo, hi = ctx.group_shares(nodes, base_lo, base_hi, metrics)
    list_rules = [r for r in rules if r.test == "listed"]
    status: dict[str, Tri] = {}
    for party in nodes:
        listed = any(ctx.listed(party, r, ctx.list_date) for r in list_rules
                     if r.in_effect(ctx.graph.as_of))
        controlled: Tri = True if control.crosses(best(lo, party)[0]) else (
            None if control.crosses(best(hi, party)[0]) else False)
        status[party] = tri_any([listed, ctx.facts(party).foreign_controlled_base, controlled])
    return SpecifiedStatus(status, lo, hi, base_lo, base_hi)


def run_pfe(ctx: Context, target: str, nodes: set[str], verdict: Determination) -> None:
    on = ctx.graph.as_of
    rules = ctx.rules.rules_on(on)
    sfe = specified_status(ctx, nodes, rules)
    verdict.testing_dates = {"specified_lists": ctx.list_date, "other_tests": on}
    primary: list[Tri] = []
    influenced: list[Tri] = []
    for rule in rules:
        test = _run_rule(ctx, rule, target, sfe, verdict)
        verdict.tests.append(test)
        if test.in_effect:
            (influenced if rule.role == "fie" else primary).append(test.fired)
    verdict.status = _decide(tri_any(primary), tri_any(influenced), verdict)
    for holding in ctx.graph.holders_of.get(target, []):
        verdict.assumptions.extend(a for a in holding.assumed if a not in verdict.assumptions)


def _decide(specified: Tri, influenced: Tri, verdict: Determination) -> Status:
    if specified is True:
        return "specified"
    if influenced is True:
        if specified is None:
            verdict.gaps.append(Gap("specified_status", verdict.org_id,
                                    "foreign-influenced in any case; whether it is also a "
                                    "specified foreign entity is not established"))
        return "foreign_influenced"
    if specified is None or influenced is None:
        return "insufficient_data"
    return "clear"


def _run_rule(ctx: Context, rule: Rule, target: str, sfe: SpecifiedStatus,
              verdict: Determination) -> TestResult:
    on = ctx.graph.as_of
    facts = ctx.facts(target)
    party = ctx.graph.parties[target]
    if rule.test == "listed":
        entries = ctx.listed(target, rule, ctx.list_date)
        detail = "; ".join(entries) or f"not on the list on {ctx.list_date}"
        return result(rule, bool(entries), ctx.list_date if rule.in_effect(on) else on, detail)
    if rule.test == "foreign_controlled_base":
        outcome = facts.foreign_controlled_base
        if outcome is None:
            verdict.gaps.append(Gap("missing_country", target,
                                    "country of organization / citizenship, or U.S. person "
                                    "status, not recorded"))
        homes = ", ".join(sorted(party.home_countries)) or "not recorded"
        return result(rule, outcome, on, f"{party.kind.value}; home countries: {homes}")
    if rule.test == "foreign_controlled":
        return _share_result(ctx, rule, target, sfe.fce_lo, sfe.fce_hi, sfe.base_hi,
                             set(), "foreign-controlled parties' holding", verdict)
    # The target stays among the sources: its own status is decided by the SFE tests, and
    # the batch engine measures every entity against one common source set.
    sources_lo = sfe.sure()
    sources_hi = sfe.possible()
    if rule.test == "sfe_aggregate_owner":
        lo, hi = ctx.group_shares(set(sfe.status), sources_lo, sources_hi,
                                  rule.metrics or _OWNERSHIP)
        return _share_result(ctx, rule, target, lo, hi, sources_hi, set(),
                             "specified foreign entities' combined holding", verdict)
    if rule.test == "sfe_single_owner":
        return _single_owner(ctx, rule, target, sfe, sources_lo, sources_hi, verdict)
    if rule.test == "sfe_debt":
        return _debt(ctx, rule, target, sfe, verdict)
    if rule.test == "sfe_officer":
        return _officers(ctx, rule, target, sfe, verdict)
    if rule.test == "sfe_effective_control":
        return _contracts(ctx, rule, target, sfe, verdict)
    raise ValueError(f"{rule.id}: test {rule.test!r} does not belong in a PFE rule set")


def _share_result(
    ctx: Context, rule: Rule, target: str, lo: dict[str, dict[str, float]],
    hi: dict[str, dict[str, float]], sources_hi: set[str], blocked: set[str], what: str,
    verdict: Determination,
) -> TestResult:
    low, _ = best(lo, target)
    high, metric = best(hi, target)
    bounds = Bounds(low, high)
    fired: Tri = True if rule.crosses(low) else (None if rule.crosses(high) else False)
    if fired is None:
        shares_gap(verdict, target, what, bounds, rule)
    if high > 0:
        add_paths(verdict, rule.id, paths_to(ctx.graph, target, sources_hi, metric, blocked))
    return result(rule, fired, ctx.graph.as_of, f"{what}: {metric} {bounds} (mode {ctx.mode})",
                  str(bounds))


def _single_owner(ctx: Context, rule: Rule, target: str, sfe: SpecifiedStatus,
                  sources_lo: set[str], sources_hi: set[str],
                  verdict: Determination) -> TestResult:
    ancestors = ctx.graph.ancestors(target)
    nodes = set(sfe.status)
    metrics = rule.metrics or _OWNERSHIP
    low, high, source, metric = 0.0, 0.0, "", "equity"
    for candidate in sorted(sources_hi & (ancestors | {target})):
        alone_lo = {candidate} if candidate in sources_lo else set()
        lo, hi = ctx.group_shares(nodes, alone_lo, {candidate}, metrics,
                                  blocked_lo=sources_lo, blocked_hi=sources_hi)
        low = max(low, best(lo, target)[0])
        candidate_high, candidate_metric = best(hi, target)
        if candidate_high > high:
            high, source, metric = candidate_high, candidate, candidate_metric
    bounds = Bounds(low, high)
    fired: Tri = True if rule.crosses(low) else (None if rule.crosses(high) else False)
    if not source:
        return result(rule, False, ctx.graph.as_of, "no specified foreign entity among owners")
    if fired is None:
        shares_gap(verdict, target, f"{source}'s holding", bounds, rule)
    add_paths(verdict, rule.id, paths_to(ctx.graph, target, {source}, metric,
                                         sources_hi - {source}))
    return result(rule, fired, ctx.graph.as_of,
                  f"largest single holder {source}: {metric} {bounds} (mode {ctx.mode})",
                  str(bounds))


def _debt(ctx: Context, rule: Rule, target: str, sfe: SpecifiedStatus,
          verdict: Determination) -> TestResult:
    low = high = 0.0
    parts = []
    for holder, share, _ in ctx.graph.debts_of.get(target, []):
        status = sfe.status.get(holder, None)
        if status is False:
            continue
        high += share.hi
        low += share.lo if status else 0.0
        parts.append(f"{holder} {share}")
    bounds = Bounds(min(low, 1.0), min(high, 1.0))
    fired: Tri = True if rule.crosses(bounds.lo) else (
        None if rule.crosses(bounds.hi) else False)
    if fired is None:
        shares_gap(verdict, target, "debt held by specified foreign entities", bounds, rule)
    detail = "; ".join(parts) or "no debt held by specified foreign entities recorded"
    return result(rule, fired, ctx.graph.as_of, detail, str(bounds))


def _officers(ctx: Context, rule: Rule, target: str, sfe: SpecifiedStatus,
              verdict: Determination) -> TestResult:
    outcomes: list[Tri] = []
    parts = []
    for rel in ctx.graph.officers_of.get(target, []):
        status = sfe.status.get(rel.owner_id)
        covered = [o.value for o in rel.officer_rights if o in set(Office)]
        if status is False or not covered:
            continue
        outcomes.append(status)
        parts.append(f"{rel.owner_id} may appoint {', '.join(covered)}")
        if status is None:
            verdict.gaps.append(Gap("specified_status", rel.owner_id,
                                    "can appoint a covered officer; its own status is open"))
    return result(rule, tri_any(outcomes), ctx.graph.as_of,
                  "; ".join(parts) or "no officer-appointment right held by a specified "
                  "foreign entity")


def _contracts(ctx: Context, rule: Rule, target: str, sfe: SpecifiedStatus,
               verdict: Determination) -> TestResult:
    prior_start, prior_end = prior_year(date.fromisoformat(ctx.graph.as_of))
    outcomes: list[Tri] = []
    parts = []
    for rel in ctx.graph.contracts_of.get(target, []):
        overlaps = (rel.valid_from or "0000") <= prior_end and (
            rel.valid_to is None or rel.valid_to >= prior_start[: len(rel.valid_to)])
        status = sfe.status.get(rel.owner_id)
        if not overlaps or status is False:
            continue
        effective = rel.effective_control
        outcome: Tri = True if (status and effective) else (
            False if effective is False else None)
        outcomes.append(outcome)
        parts.append(f"{rel.kind.value} with {rel.owner_id} in force in the prior year "
                     f"({prior_start} to {prior_end})")
        if outcome is None:
            verdict.gaps.append(Gap("contract_terms", rel.owner_id,
                                    "agreement with a possible specified foreign entity; "
                                    "effective control not assessed"))
    return result(rule, tri_any(outcomes), ctx.graph.as_of,
                  "; ".join(parts) or "no such agreement in the prior taxable year")


def prior_year(testing_day: date) -> tuple[str, str]:
    """The twelve months before the taxable year that ends on `testing_day`."""
    end = _years_back(testing_day, 1)
    start = _years_back(testing_day, 2) + timedelta(days=1)
    return start.isoformat(), end.isoformat()


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
