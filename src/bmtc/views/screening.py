"""Screening for the dashboard: which party a query names (or which it might), the explained
verdict with the source and date of every evidence hop, and the ownership graph around the
screened party laid out in layers (the party at the bottom, each rank of owners above)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import Organization, Relationship
from bmtc.matching import POSSIBLE_THRESHOLD
from bmtc.screening_service import NotFound, ownership_tree, resolve, screen_party

RULESETS = ("feoc-doe-2024", "pfe-2025")
# Deep chains are rare; beyond this many ranks a drawing stops being readable, and the
# evidence paths still bring in any owner they pass through.
GRAPH_DEPTH = 6
SUGGESTIONS = 6


@dataclass(frozen=True)
class Candidate:
    org_id: str
    name: str
    score: float


@dataclass(frozen=True)
class NoSingleParty:
    """A query that names no party: `ambiguous` when some parties come close enough to be
    what was meant, `unknown` when none does (the candidates are then only suggestions)."""

    query: str
    kind: Literal["ambiguous", "unknown"]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Hop:
    holder_id: str
    holder: str
    subject_id: str
    subject: str
    stake: str
    source_url: str
    publisher: str | None
    source_date: str | None
    confidence: str | None


@dataclass(frozen=True)
class EvidencePath:
    """One chain of holdings from a covered party to the screened one, with every test that
    cites it (tests often share a path)."""

    tests: tuple[str, ...]
    product_pct: str
    hops: tuple[Hop, ...]

    def words(self) -> str:
        return "; ".join(f"{h.holder} holds {h.stake} of {h.subject}"
                         f" (source dated {h.source_date or 'undated'})" for h in self.hops)


@dataclass(frozen=True)
class GraphNode:
    org_id: str
    name: str
    kind: str
    country: str | None
    lists: tuple[str, ...]
    layer: int
    x: float
    on_path: bool
    screened: bool


@dataclass(frozen=True)
class GraphEdge:
    holder: str
    subject: str
    stake: str
    source_url: str | None
    source_date: str | None
    on_path: bool


@dataclass(frozen=True)
class ScreeningView:
    verdict: dict[str, Any]
    paths: tuple[EvidencePath, ...]
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    @property
    def alt(self) -> str:
        """The graph in words, for readers who cannot see the drawing."""
        name = self.verdict["name"]
        owners = len(self.nodes) - 1
        text = (f"Ownership graph of {name}: {owners} recorded direct or indirect "
                f"owner{'s' if owners != 1 else ''}.")
        if not self.paths:
            return text + " No evidence path: the verdict rests on the party's own tests."
        shown = "; then ".join(p.words() for p in self.paths[:3])
        more = len(self.paths) - 3
        return (text + f" Evidence path, highlighted: {shown}."
                + (f" {more} further path{'s' if more != 1 else ''} in the table." if more > 0
                   else ""))


def parties(dataset: Dataset) -> dict[str, Organization]:
    return {o.id: o for o in (*dataset.operator_stubs, *dataset.organizations)}


def find_party(dataset: Dataset, query: str) -> Organization | NoSingleParty:
    try:
        return resolve(dataset, query)
    except NotFound as exc:
        close = [Candidate(pid, name, round(score, 1)) for pid, name, score in exc.candidates]
    plausible = tuple(c for c in close if c.score >= POSSIBLE_THRESHOLD * 100)
    if plausible:
        return NoSingleParty(query, "ambiguous", plausible)
    return NoSingleParty(query, "unknown", _merge(close, name_search(dataset, query)))


def name_search(dataset: Dataset, query: str) -> list[Candidate]:
    """Parties whose name or alias contains a word of the query: a plain fallback for
    queries the matcher scores too low to offer (typos in short names, fragments)."""
    words = [w for w in query.casefold().split() if len(w) >= 3]
    found = []
    for org in parties(dataset).values():
        labels = " ".join((org.name, *org.aliases)).casefold()
        hits = sum(w in labels for w in words)
        if hits:
            found.append(Candidate(org.id, org.name, round(100.0 * hits / len(words), 1)))
    return sorted(found, key=lambda c: (-c.score, c.name))[:SUGGESTIONS]


def _merge(*groups: list[Candidate]) -> tuple[Candidate, ...]:
    seen: dict[str, Candidate] = {}
    for candidate in (c for group in groups for c in group):
        seen.setdefault(candidate.org_id, candidate)
    return tuple(seen.values())[:SUGGESTIONS]


def parse_as_of(text: str) -> date:
    """An ISO calendar date within the years the rule sets and the atlas can speak to."""
    day = date.fromisoformat(text.strip())
    if not 2000 <= day.year <= 2100:
        raise ValueError(f"{text}: pick a date between 2000 and 2100")
    return day


def screening_view(dataset: Dataset, party_id: str, ruleset: str, as_of: str) -> ScreeningView:
    determination = screen_party(dataset, party_id, ruleset, as_of=as_of)
    verdict = determination.to_json()
    paths = evidence_paths(dataset, verdict["paths"])
    tree = ownership_tree(dataset, party_id, as_of, depth=GRAPH_DEPTH)
    nodes, edges = ownership_graph(dataset, tree, paths)
    return ScreeningView(verdict, paths, nodes, edges)


def evidence_paths(dataset: Dataset, paths: list[dict[str, Any]]) -> tuple[EvidencePath, ...]:
    names = {pid: org.name for pid, org in parties(dataset).items()}
    relationships: dict[str, Relationship] = {r.id: r for r in dataset.relationships}
    grouped: dict[tuple[tuple[str, str, str], ...], tuple[list[str], str, tuple[Hop, ...]]] = {}
    for path in paths:
        key = tuple((h["holder"], h["subject"], h["stake"]) for h in path["hops"])
        if key not in grouped:
            hops = tuple(_hop(h, names, relationships.get(h["relationship_id"]))
                         for h in path["hops"])
            grouped[key] = ([], path["product_pct"], hops)
        grouped[key][0].append(path["test"])
    return tuple(EvidencePath(tuple(tests), pct, hops) for tests, pct, hops in grouped.values())


def _hop(hop: dict[str, Any], names: dict[str, str], relationship: Relationship | None) -> Hop:
    source = relationship.source if relationship is not None else None
    return Hop(hop["holder"], names.get(hop["holder"], hop["holder"]), hop["subject"],
               names.get(hop["subject"], hop["subject"]), hop["stake"], hop["source_url"],
               source.publisher if source else None,
               source.as_of if source else None,
               source.confidence.value if source else None)


def ownership_graph(dataset: Dataset, tree: dict[str, Any], paths: tuple[EvidencePath, ...],
                    ) -> tuple[tuple[GraphNode, ...], tuple[GraphEdge, ...]]:
    """Nodes with layered positions and edges (holder above subject) from the ownership tree,
    extended by any evidence hop the tree's depth cut off."""
    info: dict[str, dict[str, Any]] = {}
    layers: dict[str, int] = {}
    edges: dict[tuple[str, str], GraphEdge] = {}
    on_path = {(h.holder_id, h.subject_id) for p in paths for h in p.hops}
    _walk(tree, 0, info, layers, edges, on_path)
    known = parties(dataset)
    for hop in (h for p in paths for h in p.hops):
        for pid in (hop.subject_id, hop.holder_id):
            if pid not in layers:
                layers[pid] = layers.get(hop.subject_id, 0) + 1
                info[pid] = _party_info(known.get(pid), pid)
        edges.setdefault((hop.holder_id, hop.subject_id), GraphEdge(
            hop.holder_id, hop.subject_id, hop.stake, hop.source_url, hop.source_date, True))
    path_parties = {pid for pair in on_path for pid in pair}
    xs = _positions(layers, edges)
    nodes = tuple(GraphNode(pid, info[pid]["name"], info[pid]["kind"], info[pid]["country"],
                            tuple(info[pid]["lists"]), layers[pid], xs[pid],
                            pid in path_parties, pid == tree["org_id"])
                  for pid in sorted(layers, key=lambda p: (layers[p], xs[p])))
    return nodes, tuple(edges.values())


def _walk(node: dict[str, Any], layer: int, info: dict[str, dict[str, Any]],
          layers: dict[str, int], edges: dict[tuple[str, str], GraphEdge],
          on_path: set[tuple[str, str]]) -> None:
    pid = node["org_id"]
    if pid not in info or layer < layers[pid]:
        layers[pid] = layer
    if not node.get("repeated"):
        info[pid] = {"name": node["name"], "kind": node.get("kind", ""),
                     "country": node.get("country"), "lists": node.get("lists", [])}
    for owner in node["owners"]:
        stake = owner["stake"] or {}
        edges.setdefault((owner["org_id"], pid), GraphEdge(
            owner["org_id"], pid, _stake_text(stake), stake.get("source"),
            stake.get("as_of"), (owner["org_id"], pid) in on_path))
        _walk(owner, layer + 1, info, layers, edges, on_path)


def _party_info(org: Organization | None, pid: str) -> dict[str, Any]:
    if org is None:
        return {"name": pid, "kind": "", "country": None, "lists": []}
    return {"name": org.name, "kind": org.kind.value,
            "country": org.country_incorporation or org.country_hq, "lists": []}


def _stake_text(stake: dict[str, Any]) -> str:
    parts = [f"equity {stake['equity']}"] if stake.get("equity") else []
    if stake.get("voting") and stake.get("voting") != stake.get("equity"):
        parts.append(f"voting {stake['voting']}")
    return ", ".join(parts) or str(stake.get("kind", "holding"))


def _positions(layers: dict[str, int], edges: dict[tuple[str, str], GraphEdge],
               ) -> dict[str, float]:
    """Each layer spread evenly around zero, its parties ordered by the mean position of
    what they hold in the layer below, so that lines cross as little as cheaply possible."""
    xs: dict[str, float] = {}
    holdings: dict[str, list[str]] = {}
    for holder, subject in edges:
        holdings.setdefault(holder, []).append(subject)
    for layer in sorted(set(layers.values())):
        members = [p for p in layers if layers[p] == layer]

        def anchor(pid: str) -> float:
            below = [xs[s] for s in holdings.get(pid, []) if s in xs]
            return sum(below) / len(below) if below else 0.0

        members.sort(key=lambda p: (anchor(p), p))
        for index, pid in enumerate(members):
            xs[pid] = index - (len(members) - 1) / 2
    return xs
