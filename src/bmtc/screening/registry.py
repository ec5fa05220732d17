"""The ownership graph as arrays, for screening every entity at once.

Parties are rows 0..n-1; their base facts (from `classify`) are small integer arrays, and
each kind of edge is a set of parallel arrays. Tri-state facts use 0 = no, 1 = unknown,
2 = yes, so that "any of" is a maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from bmtc.domain.vocab import Office, ScreeningList
from bmtc.screening.classify import Tri, classify
from bmtc.screening.frontier import Adjacency
from bmtc.screening.graph import OwnershipGraph

NO, UNKNOWN, YES = 0, 1, 2
LIST_BITS = {lst: 1 << i for i, lst in enumerate(ScreeningList)}

I8 = npt.NDArray[np.int8]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
U16 = npt.NDArray[np.uint16]
BOOL = npt.NDArray[np.bool_]


def tri(value: Tri) -> int:
    return UNKNOWN if value is None else YES if value else NO


@dataclass
class Registry:
    ids: list[str]
    covered: tuple[str, ...]
    # Base facts; government_of is the covered nation's index, -1 for none.
    government_of: I8
    maybe_government_of: I8
    foreign: I8
    jurisdiction: I8
    activity: BOOL
    foreign_controlled_base: I8
    # Lists an entity is on, as bit masks (see LIST_BITS), on the main and the list date.
    listed: U16
    listed_on_list_date: U16
    problem: BOOL
    # Holdings: holder -> subject with low / high stakes per metric.
    holder: I32
    subject: I32
    stakes: dict[str, tuple[F64, F64]]
    # Debt: lender -> borrower with the share of debt held.
    debt_holder: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    debt_subject: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    debt_lo: F64 = field(default_factory=lambda: np.zeros(0))
    debt_hi: F64 = field(default_factory=lambda: np.zeros(0))
    # Covered-officer appointment rights.
    officer_holder: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    officer_subject: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    # Licences and control agreements; in force on the date, in the prior year.
    contract_holder: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    contract_subject: I32 = field(default_factory=lambda: np.zeros(0, np.int32))
    contract_effective: I8 = field(default_factory=lambda: np.zeros(0, np.int8))
    contract_now: BOOL = field(default_factory=lambda: np.zeros(0, bool))
    contract_prior_year: BOOL = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def size(self) -> int:
        return len(self.ids)

    @cached_property
    def holds(self) -> Adjacency:
        """Holder -> subjects over every holding, built once per registry."""
        return Adjacency.build(self.holder, self.subject, self.size)


def registry_from_graph(graph: OwnershipGraph, covered: tuple[str, ...], list_date: str,
                        prior_year: tuple[str, str] | None = None) -> Registry:
    """Arrays for every party of `graph` (at atlas scale; a registry builds them directly)."""
    ids = sorted(graph.parties)
    index = {pid: i for i, pid in enumerate(ids)}
    nation = {c: i for i, c in enumerate(covered)}
    facts = [classify(graph.parties[pid], covered) for pid in ids]

    def listed(pid: str, on: str) -> int:
        mask = 0
        for entry in graph.listed_on(pid, on):
            mask |= LIST_BITS[entry.list_id]
        return mask

    holdings = [h for pid in ids for h in graph.holders_of.get(pid, [])]
    stakes: dict[str, tuple[F64, F64]] = {}
    for metric in ("equity", "voting", "board"):
        stakes[metric] = (
            np.array([h.metric(metric).lo for h in holdings], dtype=np.float64),
            np.array([h.metric(metric).hi for h in holdings], dtype=np.float64),
        )
    debts = [(holder, pid, share) for pid in ids
             for holder, share, _ in graph.debts_of.get(pid, []) if holder in index]
    officers = [(r.owner_id, pid) for pid in ids for r in graph.officers_of.get(pid, [])
                if any(o in set(Office) for o in r.officer_rights)]
    contracts = [r for pid in ids for r in graph.contracts_of.get(pid, [])]
    start, end = prior_year or ("0000", "0000")
    return Registry(
        ids=ids, covered=covered,
        government_of=np.array([nation.get(f.government_of or "", -1) for f in facts],
                               dtype=np.int8),
        maybe_government_of=np.array(
            [nation.get(f.maybe_government_of or "", -1) for f in facts], dtype=np.int8),
        foreign=np.array([tri(f.foreign) for f in facts], dtype=np.int8),
        jurisdiction=np.array([tri(f.jurisdiction) for f in facts], dtype=np.int8),
        activity=np.array([bool(f.activity_countries) for f in facts], dtype=bool),
        foreign_controlled_base=np.array([tri(f.foreign_controlled_base) for f in facts],
                                         dtype=np.int8),
        listed=np.array([listed(pid, graph.as_of) for pid in ids], dtype=np.uint16),
        listed_on_list_date=np.array([listed(pid, list_date) for pid in ids],
                                     dtype=np.uint16),
        problem=np.array([bool(graph.problems.get(pid)) for pid in ids], dtype=bool),
        holder=np.array([index[h.holder] for h in holdings], dtype=np.int32),
        subject=np.array([index[h.subject] for h in holdings], dtype=np.int32),
        stakes=stakes,
        debt_holder=np.array([index[h] for h, _, _ in debts], dtype=np.int32),
        debt_subject=np.array([index[s] for _, s, _ in debts], dtype=np.int32),
        debt_lo=np.array([d.lo for _, _, d in debts], dtype=np.float64),
        debt_hi=np.array([d.hi for _, _, d in debts], dtype=np.float64),
        officer_holder=np.array([index[h] for h, _ in officers], dtype=np.int32),
        officer_subject=np.array([index[s] for _, s in officers], dtype=np.int32),
        contract_holder=np.array([index[r.owner_id] for r in contracts], dtype=np.int32),
        contract_subject=np.array([index[r.owned_id] for r in contracts], dtype=np.int32),
        contract_effective=np.array([tri(r.effective_control) for r in contracts],
                                    dtype=np.int8),
        contract_now=np.array([r.in_force(graph.as_of) for r in contracts], dtype=bool),
        contract_prior_year=np.array(
            [(r.valid_from or "0000") <= end
             and (r.valid_to is None or r.valid_to >= start[: len(r.valid_to)])
             for r in contracts], dtype=bool),
    )
