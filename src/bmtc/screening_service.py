"""Screening use cases shared by the CLI and the Python API: find the party a name means,
screen one party or all of them, show an ownership tree."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import ListMembership, Organization
from bmtc.domain.names import slugify
from bmtc.io.importer import parse_tables
from bmtc.io.ownership_files import detect_ownership_format, read_ownership_file
from bmtc.io.problems import ImportFailed
from bmtc.io.readers import detect_format, read_file
from bmtc.matching import Matcher, MatchRecord
from bmtc.screening.bulk import screen_all
from bmtc.screening.explain import screen
from bmtc.screening.graph import OwnershipGraph, build_graph
from bmtc.screening.pfe_tests import prior_year
from bmtc.screening.registry import registry_from_graph
from bmtc.screening.rules import Mode, RuleSet, pfe_testing_dates, rule_set
from bmtc.screening.verdict import Determination
from bmtc.service import bundled_atlas


class NotFound(LookupError):
    """No party, or no single party, answers to a name."""

    def __init__(self, query: str, candidates: list[tuple[str, str, float]]):
        self.query = query
        self.candidates = candidates
        listed = "; ".join(f"{name} ({pid}, {score:.0f})" for pid, name, score in candidates)
        super().__init__(f"no single party matches {query!r}"
                         + (f"; closest: {listed}" if listed else ""))


def graph_dataset(graph_file: Path, reference: Dataset | None = None) -> Dataset:
    """An ownership file (BODS, GLEIF, FollowTheMoney) read on its own, not stored.

    The government lists the file's parties are on come from `reference` (by default the
    bundled atlas): a party takes the list entries of the reference party with the same LEI,
    or failing that the same name or alias.
    """
    if graph_file.is_file() and detect_ownership_format(graph_file) is not None:
        dataset = read_ownership_file(graph_file)
    else:
        # The plain CSV template: a folder or file of bmtc tables, validated all or nothing.
        parsed = parse_tables(read_file(graph_file, detect_format(graph_file)),
                              lambda _table, _ids: set())
        if parsed.rejected:
            raise ImportFailed(parsed.problems)
        dataset = parsed.dataset
    dataset.list_memberships.extend(carried_listings(dataset, reference or bundled_dataset()))
    return dataset


def bundled_dataset() -> Dataset:
    with bundled_atlas() as folder:
        raw = read_file(folder, "folder")
    return parse_tables(raw, lambda _table, _ids: set()).dataset


def carried_listings(dataset: Dataset, reference: Dataset) -> list[ListMembership]:
    by_lei = {o.lei: o.id for o in reference.organizations if o.lei}
    by_name: dict[str, set[str]] = {}
    for org in reference.organizations:
        for label in (org.name, *org.aliases):
            by_name.setdefault(_name_key(label), set()).add(org.id)
    entries: dict[str, list[ListMembership]] = {}
    for entry in reference.list_memberships:
        entries.setdefault(entry.org_id, []).append(entry)
    present = {(m.org_id, m.list_id) for m in dataset.list_memberships}
    listed = [o for o in reference.organizations if o.id in entries]
    matcher = Matcher([MatchRecord(id=o.id, name=o.name, aliases=o.aliases, lei=o.lei,
                                   country=o.country_incorporation or o.country_hq)
                       for o in listed])
    carried = []
    for org in dataset.organizations:
        match = by_lei.get(org.lei or "")
        if match is None:
            named = set().union(*(by_name.get(_name_key(label), set())
                                  for label in (org.name, *org.aliases)))
            match = next(iter(named)) if len(named) == 1 else None
        if match is None:
            # Spellings differ between registers: accept a confident match only.
            found = matcher.candidates(MatchRecord(
                id=org.id, name=org.name, aliases=org.aliases, lei=org.lei,
                country=org.country_incorporation or org.country_hq), limit=2)
            confident = [c for c in found if c.decision == "match"]
            match = confident[0].candidate_id if len(confident) == 1 else None
        for entry in entries.get(match or "", []):
            if (org.id, entry.list_id) not in present:
                carried.append(entry.model_copy(update={"org_id": org.id}))
    return carried


def resolve(dataset: Dataset, query: str) -> Organization:
    """The party an id, a name or an alias refers to; otherwise the one party the name
    matcher calls a match (legal forms, scripts and spellings aside)."""
    parties = {o.id: o for o in (*dataset.operator_stubs, *dataset.organizations)}
    if query in parties:
        return parties[query]
    folded = query.casefold().strip()
    exact = [o for o in parties.values()
             if folded in {o.name.casefold(), *(a.casefold() for a in o.aliases)}]
    if len({o.id for o in exact}) == 1:
        return exact[0]
    if slugify(query) in parties:
        return parties[slugify(query)]
    matcher = Matcher([
        MatchRecord(id=o.id, name=o.name, aliases=o.aliases, lei=o.lei,
                    country=o.country_incorporation or o.country_hq)
        for o in parties.values()
    ])
    found = matcher.candidates(MatchRecord(id="query", name=query), limit=5, min_score=0.3)
    candidates = [(c.candidate_id, c.candidate_name, c.score * 100) for c in found]
    confident = [c for c in found if c.decision == "match"]
    if len(confident) == 1:
        return parties[confident[0].candidate_id]
    raise NotFound(query, candidates)


def _name_key(label: str) -> str:
    # Punctuation and spacing differ between registers ("Co., Limited" / "Co. Limited").
    return "".join(ch for ch in label.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Dates:
    as_of: str
    list_date: str


def testing_dates(rules: RuleSet, as_of: str | None, taxable_year: int | None) -> Dates:
    """The dates a rule set tests on: `as_of` (default today), or for a PFE taxable year the
    dates PFE-2 prescribes."""
    if taxable_year is not None:
        if rules.testing_date is None:
            raise ValueError(f"{rules.id} has no taxable-year testing rule; use --as-of")
        list_day, other_day = pfe_testing_dates(
            rules, date(taxable_year, 1, 1), date(taxable_year, 12, 31))
        return Dates(other_day, list_day)
    day = as_of or date.today().isoformat()
    return Dates(day, day)


def screen_party(
    dataset: Dataset, query: str, rules_id: str, *, as_of: str | None = None,
    mode: Mode | None = None, taxable_year: int | None = None,
) -> Determination:
    rules = rule_set(rules_id)
    dates = testing_dates(rules, as_of, taxable_year)
    party = resolve(dataset, query)
    graph = build_graph(dataset, dates.as_of)
    return screen(graph, party.id, rules, mode, list_date=dates.list_date)


def screen_everyone(
    dataset: Dataset, rules_id: str, *, as_of: str | None = None, mode: Mode | None = None,
    taxable_year: int | None = None,
) -> pd.DataFrame:
    """One row per party: status and every test's outcome (yes / no / unknown)."""
    rules = rule_set(rules_id)
    dates = testing_dates(rules, as_of, taxable_year)
    graph = build_graph(dataset, dates.as_of)
    registry = registry_from_graph(graph, rules.covered_nations, dates.list_date,
                                   prior_year(date.fromisoformat(dates.as_of)))
    result = screen_all(registry, rules, dates.as_of, mode, dates.list_date)
    names = {pid: graph.parties[pid].name for pid in result.ids}
    frame = pd.DataFrame({
        "org_id": result.ids,
        "name": [names[pid] for pid in result.ids],
        "status": [str(s) for s in result.status],
        "ruleset": rules.id,
        "ruleset_version": rules.version,
        "as_of": dates.as_of,
        "mode": result.mode,
    })
    labels = {0: "no", 1: "unknown", 2: "yes"}
    for test_id, values in result.tests.items():
        frame[test_id] = [labels[int(v)] for v in values]
    return frame


def ownership_tree(dataset: Dataset, query: str, as_of: str | None = None,
                   depth: int = 8) -> dict[str, Any]:
    """The owners of a party, and theirs, with stakes; a party already shown is not
    expanded again (so cycles end)."""
    party = resolve(dataset, query)
    graph = build_graph(dataset, as_of or date.today().isoformat())
    return _tree(graph, party.id, depth, {party.id}, None)


def _tree(graph: OwnershipGraph, party: str, depth: int, seen: set[str],
          stake: dict[str, Any] | None) -> dict[str, Any]:
    org = graph.parties[party]
    node: dict[str, Any] = {
        "org_id": party, "name": org.name, "kind": org.kind.value,
        "country": org.country_incorporation or org.country_hq,
        "lists": [f"{m.list_id.value} ({m.listed_from or '?'})"
                  for m in graph.listings.get(party, [])],
        "stake": stake, "owners": [],
    }
    if depth == 0:
        return node
    for holding in sorted(graph.holders_of.get(party, []), key=lambda h: -h.equity.hi):
        rel = holding.relationship
        info = {
            "kind": rel.kind.value, "equity": str(holding.equity), "voting": str(holding.voting),
            "board": str(holding.board), "source": rel.source.url,
            "as_of": rel.source.as_of, "confidence": rel.source.confidence.value,
        }
        if holding.holder in seen:
            node["owners"].append({"org_id": holding.holder,
                                   "name": graph.parties[holding.holder].name,
                                   "stake": info, "owners": [], "repeated": True})
            continue
        node["owners"].append(_tree(graph, holding.holder, depth - 1,
                                    seen | {holding.holder}, info))
    return node


def read_match_queries(path: Path) -> list[MatchRecord]:
    """Names to match from CSV, Excel or JSON: a `name` column, optional `id`, `country`,
    `lei` and `aliases` (`;`-separated)."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        frame = pd.read_excel(path, dtype=str, engine="calamine")
    elif suffix == ".json":
        frame = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))).fillna("").astype(str)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "name" not in frame.columns:
        raise ValueError(f"{path.name}: needs a `name` column (found: "
                         f"{', '.join(map(str, frame.columns)) or 'none'})")
    first_row = 1 if suffix == ".json" else 2
    queries = []
    for number, row in enumerate(frame.fillna("").to_dict("records"), start=first_row):
        name = str(row.get("name", "")).strip()
        if not name:
            raise ValueError(f"{path.name}, row {number}, name: is blank")
        aliases = tuple(a.strip() for a in str(row.get("aliases", "")).split(";") if a.strip())
        queries.append(MatchRecord(
            id=str(row.get("id") or f"row-{number}"), name=name, aliases=aliases,
            lei=str(row.get("lei") or "") or None, country=str(row.get("country") or "") or None,
        ))
    return queries


def match_names(dataset: Dataset, queries: list[MatchRecord], limit: int = 3) -> pd.DataFrame:
    """Candidates among the stored organizations for each query, with scores and reasons."""
    reference = [
        MatchRecord(id=o.id, name=o.name, aliases=o.aliases, lei=o.lei,
                    country=o.country_incorporation or o.country_hq)
        for o in (*dataset.operator_stubs, *dataset.organizations)
    ]
    matcher = Matcher(reference)
    rows = []
    for query in queries:
        found = [c for c in matcher.candidates(query, limit=limit) if c.decision != "no_match"]
        if not found:
            rows.append({"query_id": query.id, "query_name": query.name, "candidate_id": None,
                         "candidate_name": None, "score": 0.0, "decision": "no_match",
                         "reasons": ""})
        for candidate in found:
            rows.append({"query_id": query.id, "query_name": query.name,
                         "candidate_id": candidate.candidate_id,
                         "candidate_name": candidate.candidate_name,
                         "score": round(candidate.score, 3), "decision": candidate.decision,
                         "reasons": "; ".join(candidate.reasons)})
    return pd.DataFrame(rows)
