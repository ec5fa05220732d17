"""Screening one entity with a full explanation: every test, the paths, the gaps.

`screen` applies a rule set to one party of an ownership graph as of the graph's date. It
never answers "clear" when a recorded-but-unknown share, an unassessed contract or a data
problem could change the answer; it says `insufficient_data` and lists the gaps.
"""

from __future__ import annotations

from bmtc.screening.context import Context
from bmtc.screening.feoc_tests import run_feoc
from bmtc.screening.graph import OwnershipGraph
from bmtc.screening.pfe_tests import run_pfe
from bmtc.screening.rules import Mode, RuleSet, check_in_effect
from bmtc.screening.verdict import Determination, Gap


def screen(
    graph: OwnershipGraph, org_id: str, rules: RuleSet, mode: Mode | None = None,
    list_date: str | None = None,
) -> Determination:
    """Apply `rules` to `org_id` as of `graph.as_of` (list tests that the rule set tests on
    another day use `list_date`)."""
    if org_id not in graph.parties:
        raise KeyError(org_id)
    check_in_effect(rules, graph.as_of)
    chosen: Mode = mode or rules.default_mode
    ctx = Context(graph, rules, chosen, list_date or graph.as_of)
    party = graph.parties[org_id]
    verdict = Determination(
        org_id=org_id, name=party.name, status="clear", ruleset=rules.id,
        ruleset_version=rules.version, as_of=graph.as_of, mode=chosen,
    )
    nodes = ctx.nodes_for(org_id)
    if rules.verdict_if_fired == "feoc":
        run_feoc(ctx, org_id, nodes, verdict)
    else:
        run_pfe(ctx, org_id, nodes, verdict)
    verdict.owners = [
        {"org_id": h.holder, "name": graph.parties[h.holder].name,
         "kind": h.relationship.kind.value, "equity": str(h.equity), "voting": str(h.voting),
         "source_url": h.relationship.source.url, "source_as_of": h.relationship.source.as_of}
        for h in sorted(graph.holders_of.get(org_id, []), key=lambda h: (-h.equity.hi, h.holder))
    ]
    _data_problems(ctx, nodes, verdict)
    _confidence_notes(ctx, verdict)
    return verdict


def _data_problems(ctx: Context, nodes: set[str], verdict: Determination) -> None:
    for party in sorted(nodes):
        for problem in ctx.graph.problems.get(party, []):
            verdict.gaps.append(Gap(problem.kind, problem.party, problem.detail))
    if verdict.status == "clear" and any(
        g.kind in {"dangling", "over_100"} for g in verdict.gaps
    ):
        verdict.status = "insufficient_data"


def _confidence_notes(ctx: Context, verdict: Determination) -> None:
    deciding = verdict.fired if verdict.status != "clear" else verdict.tests
    for test in deciding:
        if test.confidence != "primary" and test.in_effect:
            verdict.unconfirmed.append(f"{test.id} ({test.confidence})")
    if any(p for _, p in verdict.paths) or verdict.status != "clear":
        note = ctx.rules.mode_note(ctx.mode)
        verdict.unconfirmed.append(f"mode {note.id} ({note.confidence.value}): {note.text}")


