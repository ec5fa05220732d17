"""What the per-entity tests share: the graph, rule set and mode, cached party facts, group
shares, and helpers that turn outcomes into test results and gaps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from bmtc.domain.vocab import Office
from bmtc.screening.attribution import (
    Gate,
    Path,
    control_chain_gate,
    multiplicative_gate,
    propagate,
)
from bmtc.screening.classify import PartyFacts, Tri, classify
from bmtc.screening.graph import OwnershipGraph
from bmtc.screening.rules import Mode, Rule, RuleSet
from bmtc.screening.verdict import Determination, Gap, Status, TestResult

COVERED_OFFICES = frozenset(Office)


@dataclass(frozen=True)
class Bounds:
    lo: float
    hi: float

    def __str__(self) -> str:
        a, b = round(self.lo * 100, 4), round(self.hi * 100, 4)
        return f"{a:g}%" if a == b else f"{a:g}-{b:g}%"


def tri_any(values: Iterable[Tri]) -> Tri:
    values = list(values)
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


@dataclass
class Context:
    graph: OwnershipGraph
    rules: RuleSet
    mode: Mode
    list_date: str
    facts_cache: dict[str, PartyFacts] = field(default_factory=dict)

    def facts(self, party: str) -> PartyFacts:
        if party not in self.facts_cache:
            self.facts_cache[party] = classify(self.graph.parties[party],
                                               self.rules.covered_nations)
        return self.facts_cache[party]

    @cached_property
    def gate(self) -> Gate:
        if self.mode == "multiplicative":
            return multiplicative_gate
        return control_chain_gate(self.rules.control_crosses)

    def listed(self, party: str, rule: Rule, on: str) -> list[str]:
        return [f"{m.list_id.value} since {m.listed_from or '(date not recorded)'}"
                for m in self.graph.listed_on(party, on) if m.list_id in rule.lists]

    def nodes_for(self, target: str) -> set[str]:
        """The target, its owners all the way up, and the other parties the tests look at
        (lenders, officer appointers, contract counterparties) with their owners."""
        start = {target}
        start |= {h for h, _, _ in self.graph.debts_of.get(target, [])}
        start |= {r.owner_id for r in self.graph.officers_of.get(target, [])}
        start |= {r.owner_id for r in self.graph.contracts_of.get(target, [])}
        nodes = set(start)
        for party in start:
            nodes |= self.graph.ancestors(party)
        return {n for n in nodes if n in self.graph.parties}

    def group_shares(
        self, nodes: set[str], sources_lo: set[str], sources_hi: set[str],
        metrics: tuple[str, ...], blocked_lo: set[str] | None = None,
        blocked_hi: set[str] | None = None,
    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
        lo = propagate(self.graph, nodes, sources_lo, blocked_lo or set(), metrics,
                       self.gate, high=False)
        hi = propagate(self.graph, nodes, sources_hi, blocked_hi or set(), metrics,
                       self.gate, high=True)
        return lo, hi


def best(shares: dict[str, dict[str, float]], party: str) -> tuple[float, str]:
    return max((values[party], metric) for metric, values in shares.items())


def result(rule: Rule, fired: Tri, tested_on: str, detail: str = "",
           value: str | None = None) -> TestResult:
    in_effect = rule.in_effect(tested_on)
    if not in_effect:
        detail = f"not in effect on {tested_on} (effective {rule.effective_from})"
        fired = False
    return TestResult(
        id=rule.id, title=rule.title, fired=fired, citation=rule.citation,
        confidence=rule.confidence.value, effective_from=rule.effective_from,
        in_effect=in_effect, tested_on=tested_on, detail=detail, value=value,
        scope=rule.scope,
    )


def decide(primary: Iterable[Tri], fired_status: Status) -> Status:
    outcome = tri_any(primary)
    if outcome is True:
        return fired_status
    return "insufficient_data" if outcome is None else "clear"


def add_paths(verdict: Determination, test_id: str, paths: list[Path]) -> None:
    verdict.paths.extend((test_id, p) for p in paths)


def shares_gap(verdict: Determination, party: str, what: str, bounds: Bounds,
               rule: Rule) -> None:
    verdict.gaps.append(Gap(
        "unknown_share", party,
        f"{what} is {bounds}: the recorded data cannot tell whether it reaches "
        f"{rule.threshold_pct:g}% ({rule.id})"))

