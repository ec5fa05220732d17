"""The DOE FEOC tests (42 U.S.C. 18741(a)(5); 89 FR 37079) for one entity."""

from __future__ import annotations

from dataclasses import dataclass

from bmtc.screening.attribution import paths_to
from bmtc.screening.classify import Tri
from bmtc.screening.context import (
    Bounds,
    Context,
    add_paths,
    best,
    decide,
    result,
    shares_gap,
    tri_any,
)
from bmtc.screening.rules import Rule
from bmtc.screening.verdict import Determination, Gap, TestResult

_METRICS = ("board", "voting", "equity")


@dataclass
class GovernmentShares:
    """Per covered nation: the government's attributed shares (low, high) and its parties."""

    lo: dict[str, dict[str, dict[str, float]]]
    hi: dict[str, dict[str, dict[str, float]]]
    sources_hi: dict[str, set[str]]
    blocked_hi: set[str]

    def bounds(self, nation: str, party: str) -> tuple[Bounds, str]:
        lo, _ = best(self.lo[nation], party)
        hi, metric = best(self.hi[nation], party)
        return Bounds(lo, hi), metric


def government_shares(ctx: Context, nodes: set[str], metrics: tuple[str, ...]) -> GovernmentShares:
    nations = ctx.rules.covered_nations
    lo_sources = {n: {p for p in nodes if ctx.facts(p).government_of == n} for n in nations}
    hi_sources = {n: {p for p in nodes if ctx.facts(p).maybe_government_of == n}
                  for n in nations}
    # A government's holdings are never passed through another government's bodies.
    blocked_lo = set().union(*lo_sources.values())
    blocked_hi = set().union(*hi_sources.values())
    shares = GovernmentShares({}, {}, hi_sources, blocked_hi)
    for nation in nations:
        lo, hi = ctx.group_shares(nodes, lo_sources[nation], hi_sources[nation], metrics,
                                  blocked_lo, blocked_hi)
        shares.lo[nation], shares.hi[nation] = lo, hi
    return shares


def government_control(ctx: Context, rule: Rule, shares: GovernmentShares,
                       party: str) -> tuple[Tri, str | None, Bounds]:
    """Whether a covered nation's government reaches the threshold in `party`; the nation
    with the strongest showing and its bounds."""
    outcome: Tri = False
    strongest: tuple[str | None, Bounds] = (None, Bounds(0.0, 0.0))
    for nation in ctx.rules.covered_nations:
        bounds, _ = shares.bounds(nation, party)
        if rule.crosses(bounds.lo):
            return True, nation, bounds
        if rule.crosses(bounds.hi):
            outcome = None
            strongest = (nation, bounds)
        elif strongest[0] is None and bounds.hi > strongest[1].hi:
            strongest = (nation, bounds)
    return outcome, strongest[0], strongest[1]


def foreign_status(ctx: Context, nodes: set[str], metrics: tuple[str, ...]) -> dict[str, Tri]:
    """FEOC-D-6: foreign in itself, or owned or controlled (at the control threshold, through
    intermediaries as the mode reads it) by foreign parties."""
    surely = {p for p in nodes if ctx.facts(p).foreign is True}
    maybe = {p for p in nodes if ctx.facts(p).foreign is not False}
    lo, hi = ctx.group_shares(nodes, surely, maybe, metrics)
    status: dict[str, Tri] = {}
    for party in nodes:
        controlled: Tri = True if ctx.rules.control_crosses(best(lo, party)[0]) else (
            None if ctx.rules.control_crosses(best(hi, party)[0]) else False)
        status[party] = tri_any([ctx.facts(party).foreign, controlled])
    return status


def base_feoc(ctx: Context, rules: list[Rule], shares: GovernmentShares,
              foreign: dict[str, Tri], party: str) -> Tri:
    """FEOC status of a party from everything but contracts (used for counterparties)."""
    facts = ctx.facts(party)
    on = ctx.graph.as_of
    outcomes: list[Tri] = []
    control_rule = next((r for r in rules if r.test == "government_control"), None)
    governed: Tri = False
    if control_rule is not None and control_rule.in_effect(on):
        governed = government_control(ctx, control_rule, shares, party)[0]
    for rule in rules:
        if not rule.in_effect(on):
            continue
        if rule.test == "listed" and ctx.listed(party, rule, on):
            outcomes.append(True if governed else foreign[party])
        elif rule.test == "is_government":
            outcomes.append(_is_government(facts.government_of, facts.maybe_government_of))
        elif rule.test == "jurisdiction":
            outcomes.append(facts.jurisdiction)
        elif rule.test == "government_control":
            outcomes.append(governed)
    return tri_any(outcomes)


def _is_government(sure: str | None, maybe: str | None) -> Tri:
    if sure:
        return True
    return None if maybe else False


def run_feoc(ctx: Context, target: str, nodes: set[str], verdict: Determination) -> None:
    on = ctx.graph.as_of
    rules = ctx.rules.rules_on(on)
    control_rule = next((r for r in rules if r.test == "government_control"), None)
    metrics = control_rule.metrics if control_rule and control_rule.metrics else _METRICS
    shares = government_shares(ctx, nodes, metrics)
    control: tuple[Tri, str | None, Bounds] = (False, None, Bounds(0.0, 0.0))
    if control_rule is not None and control_rule.in_effect(on):
        control = government_control(ctx, control_rule, shares, target)
    foreign_of = foreign_status(ctx, nodes, metrics)
    foreign: Tri = True if control[0] else foreign_of[target]
    outcomes: list[Tri] = []
    for rule in rules:
        test = _run_rule(ctx, rule, target, foreign, control, shares, foreign_of, rules,
                         verdict)
        verdict.tests.append(test)
        if test.in_effect and not rule.precondition:
            outcomes.append(test.fired)
    verdict.status = decide(outcomes, "feoc")
    for holding in ctx.graph.holders_of.get(target, []):
        verdict.assumptions.extend(a for a in holding.assumed if a not in verdict.assumptions)


def _run_rule(
    ctx: Context, rule: Rule, target: str, foreign: Tri,
    control: tuple[Tri, str | None, Bounds], shares: GovernmentShares,
    foreign_of: dict[str, Tri], rules: list[Rule], verdict: Determination,
) -> TestResult:
    on = ctx.graph.as_of
    facts = ctx.facts(target)
    party = ctx.graph.parties[target]
    if rule.test == "foreign_entity":
        homes = ", ".join(sorted(party.home_countries)) or "not recorded"
        how = "" if facts.foreign or not foreign else "; owned or controlled by foreign parties"
        return result(rule, foreign, on, f"home countries: {homes}{how}")
    if rule.test == "listed":
        entries = ctx.listed(target, rule, on)
        if not entries:
            return result(rule, False, on, "not on the list on this date")
        fired: Tri = True if foreign else foreign
        if fired is None:
            verdict.gaps.append(Gap("foreign_status", target,
                                    "listed, but whether it is a foreign entity is not recorded"))
        return result(rule, fired, on, "; ".join(entries))
    if rule.test == "is_government":
        outcome = _is_government(facts.government_of, facts.maybe_government_of)
        if outcome is None:
            verdict.gaps.append(Gap("political_exposure", target,
                                    "a covered-nation national whose political role is unknown"))
        return result(rule, outcome, on, f"{party.kind.value} of "
                      f"{facts.maybe_government_of or party.country_incorporation or '-'}")
    if rule.test == "jurisdiction":
        if facts.jurisdiction is None:
            verdict.gaps.append(Gap("missing_country", target,
                                    "no country of incorporation or headquarters recorded"))
        places = (f"incorporated {party.country_incorporation or '?'}, headquarters "
                  f"{party.country_hq or '?'}, principal place "
                  f"{party.country_principal_place or '?'}")
        return result(rule, facts.jurisdiction, on, places)
    if rule.test == "activity_jurisdiction":
        fired = bool(facts.activity_countries)
        detail = ("as to its activities in " + ", ".join(facts.activity_countries)
                  if fired else "no recorded activities in a covered nation")
        return result(rule, fired, on, detail)
    if rule.test == "government_control":
        return _control_result(ctx, rule, target, control, shares, verdict)
    if rule.test == "contract_control":
        return _contract_result(ctx, rule, target, shares, foreign_of, rules, verdict)
    raise ValueError(f"{rule.id}: test {rule.test!r} does not belong in a FEOC rule set")


def _control_result(
    ctx: Context, rule: Rule, target: str, control: tuple[Tri, str | None, Bounds],
    shares: GovernmentShares, verdict: Determination,
) -> TestResult:
    fired, nation, bounds = control
    if nation is None:
        return result(rule, fired, ctx.graph.as_of, "no covered-nation government holding")
    _, metric = shares.bounds(nation, target)
    detail = f"government of {nation}: {metric} {bounds} (mode {ctx.mode})"
    if fired is None:
        shares_gap(verdict, target, f"the {nation} government's attributed {metric}", bounds,
                   rule)
    if bounds.hi > 0:
        add_paths(verdict, rule.id, paths_to(ctx.graph, target, shares.sources_hi[nation],
                                             metric, shares.blocked_hi))
    return result(rule, fired, ctx.graph.as_of, detail, str(bounds))


def _contract_result(
    ctx: Context, rule: Rule, target: str, shares: GovernmentShares,
    foreign_of: dict[str, Tri], rules: list[Rule], verdict: Determination,
) -> TestResult:
    on = ctx.graph.as_of
    outcomes: list[Tri] = []
    notes = []
    for rel in ctx.graph.contracts_of.get(target, []):
        if not rel.in_force(on):
            continue
        counterparty = base_feoc(ctx, rules, shares, foreign_of, rel.owner_id)
        if counterparty is False:
            continue
        effective = rel.effective_control
        outcome: Tri = True if (counterparty and effective) else (
            False if effective is False else None)
        outcomes.append(outcome)
        what = "; ".join(rel.control_rights) or rel.agreement or "terms not recorded"
        notes.append(f"{rel.kind.value} from {rel.owner_id} ({what}): effective control "
                     f"{ {True: 'yes', False: 'no', None: 'not assessed'}[effective] }")
        if outcome is None:
            verdict.gaps.append(Gap(
                "contract_terms", rel.owner_id,
                f"{rel.kind.value} from {rel.owner_id}: whether it confers effective control "
                "(or whether the counterparty is a FEOC) is not established"))
    return result(rule, tri_any(outcomes), on, "; ".join(notes) or "no licence or control "
                  "agreement with a FEOC recorded")
