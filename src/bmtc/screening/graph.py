"""The ownership graph as of one date: who holds what share of whom, with known bounds.

Every percentage becomes an interval of fractions [lo, hi]. An unknown share is [0, 1]; an
unsourced statement keeps its upper end (it may block a "clear") but its lower end is 0 (it
never proves a finding alone). Inconsistent input — holdings over 100%, owners that exist
nowhere — is kept as a located data problem that the verdict reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import INDIRECT_NOTE, ListMembership, Organization, Relationship
from bmtc.domain.percent import PercentRange
from bmtc.domain.vocab import CONTRACT_KINDS, Confidence, RelationshipKind

# Open ends of a range ("> 50") are nudged inwards by this much.
_OPEN = 1e-7
_HOLDING_KINDS = frozenset(
    {RelationshipKind.OWNERSHIP, RelationshipKind.JOINT_VENTURE, RelationshipKind.DIRECTORSHIP}
)


@dataclass(frozen=True)
class Share:
    lo: float
    hi: float

    def __str__(self) -> str:
        if self.lo == self.hi:
            return _pct(self.lo)
        return f"{_pct(self.lo)}-{_pct(self.hi)}"


UNKNOWN = Share(0.0, 1.0)
NONE = Share(0.0, 0.0)


def _pct(fraction: float) -> str:
    return f"{round(fraction * 100, 4):g}%"


def share_of(value: PercentRange | None) -> Share | None:
    if value is None:
        return None
    lo = value.low / 100 + (_OPEN if value.low_open else 0.0)
    hi = value.high / 100 - (_OPEN if value.high_open else 0.0)
    return Share(min(lo, hi), max(lo, hi))


@dataclass(frozen=True)
class Holding:
    """Equity, voting and board shares `holder` has in `subject` under one relationship."""

    holder: str
    subject: str
    equity: Share
    voting: Share
    board: Share
    relationship: Relationship
    sourced: bool
    assumed: tuple[str, ...] = ()

    def metric(self, name: str) -> Share:
        return {"equity": self.equity, "voting": self.voting, "board": self.board}[name]


@dataclass(frozen=True)
class DataProblem:
    party: str
    kind: str
    detail: str


@dataclass
class OwnershipGraph:
    as_of: str
    parties: dict[str, Organization]
    holders_of: dict[str, list[Holding]] = field(default_factory=lambda: defaultdict(list))
    holdings_by: dict[str, list[Holding]] = field(default_factory=lambda: defaultdict(list))
    debts_of: dict[str, list[tuple[str, Share, Relationship]]] = field(
        default_factory=lambda: defaultdict(list))
    officers_of: dict[str, list[Relationship]] = field(default_factory=lambda: defaultdict(list))
    contracts_of: dict[str, list[Relationship]] = field(default_factory=lambda: defaultdict(list))
    listings: dict[str, list[ListMembership]] = field(default_factory=lambda: defaultdict(list))
    all_listings: dict[str, list[ListMembership]] = field(
        default_factory=lambda: defaultdict(list))
    problems: dict[str, list[DataProblem]] = field(default_factory=lambda: defaultdict(list))

    def listed_on(self, org_id: str, on: str) -> list[ListMembership]:
        return [m for m in self.all_listings.get(org_id, []) if m.in_force(on)]

    def ancestors(self, org_id: str) -> set[str]:
        """Every party that holds `org_id`, directly or through others."""
        seen: set[str] = set()
        stack = [org_id]
        while stack:
            for holding in self.holders_of.get(stack.pop(), []):
                if holding.holder not in seen:
                    seen.add(holding.holder)
                    stack.append(holding.holder)
        seen.discard(org_id)
        return seen


def build_graph(dataset: Dataset, as_of: str) -> OwnershipGraph:
    parties = {o.id: o for o in (*dataset.operator_stubs, *dataset.organizations)}
    graph = OwnershipGraph(as_of=as_of, parties=parties)
    indirect = [r for r in dataset.relationships if (r.notes or "").startswith(INDIRECT_NOTE)]
    direct = [r for r in dataset.relationships if not (r.notes or "").startswith(INDIRECT_NOTE)]
    for rel in sorted(direct, key=lambda r: r.id):
        # Contracts are kept whatever their dates: some tests look at the prior year.
        if not rel.in_force(as_of) and rel.kind not in CONTRACT_KINDS:
            continue
        missing = [p for p in (rel.owner_id, rel.owned_id) if p not in parties]
        if missing:
            for party in missing:
                graph.problems[rel.owned_id].append(DataProblem(
                    party, "dangling",
                    f"{rel.owner_id} -> {rel.owned_id}: {party!r} is not a known party"))
            continue
        _add_relationship(graph, rel)
    for rel in sorted(indirect, key=lambda r: r.id):
        # A declared indirect interest summarises a chain; counting it beside the recorded
        # chain would count the same holding twice.
        if (rel.in_force(as_of) and rel.owner_id in parties and rel.owned_id in parties
                and rel.owner_id not in graph.ancestors(rel.owned_id)):
            _add_relationship(graph, rel)
    for entry in sorted(dataset.list_memberships, key=lambda m: m.id):
        graph.all_listings[entry.org_id].append(entry)
        if entry.in_force(as_of):
            graph.listings[entry.org_id].append(entry)
    _check_totals(graph)
    return graph


def _add_relationship(graph: OwnershipGraph, rel: Relationship) -> None:
    sourced = rel.source.confidence is not Confidence.UNSOURCED
    if rel.kind in CONTRACT_KINDS:
        graph.contracts_of[rel.owned_id].append(rel)
        if not rel.in_force(graph.as_of):
            return
    if rel.kind in _HOLDING_KINDS:
        holding = _holding(rel, sourced)
        graph.holders_of[rel.owned_id].append(holding)
        graph.holdings_by[rel.owner_id].append(holding)
    debt = share_of(rel.debt_share_pct)
    if rel.kind is RelationshipKind.DEBT or debt is not None:
        graph.debts_of[rel.owned_id].append((rel.owner_id, _low_if_unsourced(
            debt or UNKNOWN, sourced), rel))
    if rel.officer_rights:
        graph.officers_of[rel.owned_id].append(rel)


def _low_if_unsourced(share: Share, sourced: bool) -> Share:
    return share if sourced else Share(0.0, share.hi)


def _holding(rel: Relationship, sourced: bool) -> Holding:
    assumed: list[str] = []
    equity = share_of(rel.equity_pct)
    voting = share_of(rel.voting_pct)
    if rel.kind is RelationshipKind.DIRECTORSHIP:
        equity = equity or NONE
        voting = voting or NONE
    if voting is None and equity is not None:
        voting = equity
        assumed.append("voting-follows-equity")
    equity = equity or UNKNOWN
    voting = voting or UNKNOWN
    board = _board(rel)
    if board is None:
        board = voting
        assumed.append("board-follows-voting")
    return Holding(
        holder=rel.owner_id, subject=rel.owned_id,
        equity=_low_if_unsourced(equity, sourced), voting=_low_if_unsourced(voting, sourced),
        board=_low_if_unsourced(board, sourced), relationship=rel, sourced=sourced,
        assumed=tuple(assumed),
    )


def _board(rel: Relationship) -> Share | None:
    held, total = rel.board_seats_held, rel.board_seats_total
    if rel.kind is RelationshipKind.DIRECTORSHIP and held is None:
        held = 1
    if held is None:
        return None
    if total is None:
        # Seats held on a board of unknown size: some share, up to all of it.
        return Share(0.0, 1.0) if held else NONE
    return Share(held / total, held / total)


def _check_totals(graph: OwnershipGraph) -> None:
    for subject, holdings in graph.holders_of.items():
        for metric in ("equity", "voting"):
            low_total = sum(h.metric(metric).lo for h in holdings)
            if low_total > 1 + 1e-6:
                graph.problems[subject].append(DataProblem(
                    subject, "over_100",
                    f"recorded {metric} holdings in {subject} add up to at least "
                    f"{round(low_total * 100, 2):g}%"))
