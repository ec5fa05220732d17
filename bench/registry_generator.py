"""Deterministic synthetic screening registries, built directly as arrays.

`generate_registry(n)` returns a `Registry` shaped like a national company register joined to
ownership data: people, funds and state bodies at the top, companies in ten layers below them
grouped under corporate parents in the layer above (so chains run ten deep), joint ventures
across groups, outside investors drawn with heavy-tailed popularity (a few hold tens of
thousands of companies, most hold one or two), a sprinkling of cross-holdings that close
cycles, and debt, officer and contract edges on the side.

Nothing is allocated per entity beyond numpy arrays: even the party ids are computed on
demand. The same (n, seed) always gives the same registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import SupportsIndex, overload

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from bmtc.screening.registry import LIST_BITS, NO, UNKNOWN, YES, Registry

COVERED = ("CN", "RU", "IR", "KP")
DEFAULT_ENTITIES = 3_000_000
DEFAULT_SEED = 20260301
LAYERS = 10

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class SyntheticIds(list[str]):
    """Read-only ids "E0000000", "E0000001", ... made on access.

    Three million str objects would cost some 200 MB for labels nobody reads in a benchmark;
    this stands in wherever `Registry.ids` is only counted or indexed."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self._count = count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: SupportsIndex) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._label(i) for i in range(*index.indices(self._count))]
        i = index.__index__()
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError("party index out of range")
        return self._label(i)

    def __iter__(self) -> Iterator[str]:
        return (self._label(i) for i in range(self._count))

    def __repr__(self) -> str:
        return f"SyntheticIds({self._count})"

    @staticmethod
    def _label(i: int) -> str:
        return f"E{i:07d}"


@dataclass(frozen=True)
class Shape:
    """Proportions of the synthetic population (fractions of n unless stated)."""

    people: float = 0.20
    funds: float = 0.04
    states: int = 3_000
    maybe_state_people: int = 2_000
    parent_share: float = 0.65  # companies below the first layer with a corporate parent
    joint_ventures: float = 0.08  # ... with a second corporate holder
    investors_per_company: float = 1.1
    cross_holdings: float = 0.002  # of holding edges, mirrored to close a cycle
    covered_companies: float = 0.03
    unknown_country: float = 0.04
    listed: int = 4_000  # parties on at least one list
    problems: int = 150  # per DEFAULT_ENTITIES
    debt_edges: float = 0.05
    officer_edges: float = 0.02
    contract_edges: float = 0.02


def _pareto_weights(rng: np.random.Generator, count: int, alpha: float = 1.1) -> F64:
    weights: F64 = rng.pareto(alpha, count) + 1.0
    return weights


def _draw_weighted(rng: np.random.Generator, pool: I64, weights: F64, count: int) -> I64:
    """`count` draws from `pool` with probability proportional to `weights`."""
    cumulative = np.cumsum(weights)
    picks = np.searchsorted(cumulative, rng.random(count) * cumulative[-1], side="right")
    drawn: I64 = pool[np.minimum(picks, pool.size - 1)]
    return drawn


def _split(rng: np.random.Generator, subjects: I64, n: int, boost: F64) -> F64:
    """Equity per edge: raw weights normalised per subject to a total below or at 100%."""
    raw = _pareto_weights(rng, subjects.size, 1.5) * boost
    totals = np.bincount(subjects, weights=raw, minlength=n)
    held = rng.choice(np.array([1.0, 1.0, 0.9, 0.75, 0.6]), size=n)
    share = raw / totals[subjects] * held[subjects]
    # Register figures carry at most four decimals of a percent.
    rounded: F64 = np.round(share, 6)
    return rounded


def generate_registry(
    n: int = DEFAULT_ENTITIES, seed: int = DEFAULT_SEED, shape: Shape | None = None
) -> Registry:
    if n < 100:
        raise ValueError("a synthetic registry needs at least 100 entities")
    spec = shape or Shape()
    rng = np.random.default_rng(seed)

    # Parties: rows [0, people) are people, then funds, then state bodies, then companies by
    # layer 1..LAYERS with later layers larger (the register's long tail of small companies).
    people = int(n * spec.people)
    funds = int(n * spec.funds)
    states = min(spec.states, max(1, n // 100))
    top = people + funds + states
    companies = n - top
    layer_weight = 1.25 ** np.arange(LAYERS)
    layer_size = np.floor(companies * layer_weight / layer_weight.sum()).astype(np.int64)
    layer_size[-1] += companies - layer_size.sum()
    layer_start = top + np.concatenate(([0], np.cumsum(layer_size)[:-1]))
    layer = np.zeros(n, dtype=np.int8)
    for depth in range(LAYERS):
        layer[layer_start[depth] : layer_start[depth] + layer_size[depth]] = depth + 1
    state_rows = np.arange(people + funds, top)

    # Countries: people and funds are mostly domestic; state bodies are of a covered nation;
    # companies are incorporated in covered nations at `covered_companies`.
    nation = np.full(n, -1, dtype=np.int8)  # covered nation index, -1 none
    draw = rng.random(n)
    nation_pick = rng.choice(4, size=n, p=[0.7, 0.15, 0.1, 0.05]).astype(np.int8)
    covered = draw < spec.covered_companies
    covered[:people] = draw[:people] < spec.covered_companies / 2
    covered[state_rows] = True
    nation[covered] = nation_pick[covered]
    unknown_country = (draw > 1 - spec.unknown_country) & ~covered
    abroad = (draw > 0.55) & ~covered & ~unknown_country  # foreign, not covered

    # Heavy-tailed holder popularity; state holding companies hold widely, companies of
    # covered nations less so than the domestic funds at the head of the tail.
    popularity = _pareto_weights(rng, n)
    popularity[state_rows] *= 3
    popularity[covered & (layer > 0)] *= 0.3

    # Holding edges. Companies form groups: from the second layer on, most have one corporate
    # parent in the layer above (group sizes are heavy-tailed), a few a second corporate
    # holder anywhere above (joint ventures), and every company has a few outside investors
    # (people, funds, state bodies) drawn with heavy-tailed popularity.
    company_ids = np.arange(top, n, dtype=np.int64)
    company_layer = layer[top:]
    group_weight = _pareto_weights(rng, n, 1.5)
    group_weight[covered] *= 0.5
    parented = (company_layer > 1) & (rng.random(companies) < spec.parent_share)
    venture = (company_layer > 1) & (rng.random(companies) < spec.joint_ventures)
    parent_holders = np.empty(int(parented.sum()), dtype=np.int64)
    venture_holders = np.empty(int(venture.sum()), dtype=np.int64)
    for depth in range(2, LAYERS + 1):
        here = company_layer[parented] == depth
        above = layer_start[depth - 2]
        pool = np.arange(above, above + layer_size[depth - 2], dtype=np.int64)
        parent_holders[here] = _draw_weighted(rng, pool, group_weight[pool], int(here.sum()))
        here = company_layer[venture] == depth
        pool = np.arange(top, layer_start[depth - 1], dtype=np.int64)
        venture_holders[here] = _draw_weighted(rng, pool, group_weight[pool], int(here.sum()))
    investors = np.minimum(rng.geometric(1 / (1 + spec.investors_per_company), companies) - 1, 40)
    pool = np.arange(0, top, dtype=np.int64)
    investor_holders = _draw_weighted(rng, pool, popularity[pool], int(investors.sum()))
    holders = np.concatenate((parent_holders, venture_holders, investor_holders))
    subjects = np.concatenate(
        (company_ids[parented], company_ids[venture], np.repeat(company_ids, investors))
    )
    # A parent's stake dominates the split of its subsidiary.
    boost = np.ones(subjects.size)
    boost[: parent_holders.size] = 8.0
    # Cross-holdings: a company held by another company holds a little of it back.
    corporate = np.arange(parent_holders.size + venture_holders.size)
    mirror = rng.choice(corporate, size=int(subjects.size * spec.cross_holdings), replace=False)
    holders, subjects = (
        np.concatenate((holders, subjects[mirror])),
        np.concatenate((subjects, holders[mirror])),
    )
    boost = np.concatenate((boost, np.ones(mirror.size)))
    equity = _split(rng, subjects, n, boost)
    equity[-mirror.size :] = np.round(rng.uniform(0.01, 0.3, mirror.size), 6)

    m = subjects.size
    kind = rng.random(m)
    # Most stakes are exact; some are ranges ("10-20%"), a few are unknown (0-100%).
    eq_lo, eq_hi = equity.copy(), equity.copy()
    ranged = (kind >= 0.935) & (kind < 0.985)
    eq_lo[ranged] = np.round(equity[ranged] * 0.8, 6)
    eq_hi[ranged] = np.minimum(1.0, np.round(equity[ranged] * 1.25, 6))
    unknown = kind >= 0.985
    eq_lo[unknown], eq_hi[unknown] = 0.0, 1.0
    # Voting follows equity except for dual-class holdings; board follows voting except for
    # passive holders without seats.
    dual = rng.random(m) < 0.05
    vo_lo = np.where(dual, np.minimum(1.0, eq_lo * 1.5), eq_lo)
    vo_hi = np.where(dual, np.minimum(1.0, eq_hi * 1.5), eq_hi)
    seatless = rng.random(m) < 0.10
    bo_lo = np.where(seatless, 0.0, vo_lo)
    bo_hi = np.where(seatless, 0.0, vo_hi)

    government_of = np.full(n, -1, dtype=np.int8)
    government_of[state_rows] = nation[state_rows]
    maybe_government_of = government_of.copy()
    covered_people = np.flatnonzero(covered[:people])
    maybe_people = rng.choice(
        covered_people, size=min(spec.maybe_state_people, covered_people.size), replace=False
    )
    maybe_government_of[maybe_people] = nation[maybe_people]

    foreign = np.where(covered | abroad, YES, NO).astype(np.int8)
    foreign[unknown_country] = UNKNOWN
    jurisdiction = np.where(covered, YES, NO).astype(np.int8)
    jurisdiction[unknown_country] = UNKNOWN
    foreign_controlled_base = jurisdiction.copy()

    bits = np.array(list(LIST_BITS.values()), dtype=np.uint16)
    listed = np.zeros(n, dtype=np.uint16)
    on_list = rng.choice(n, size=min(spec.listed, n // 10), replace=False)
    listed[on_list] = bits[rng.integers(0, bits.size, on_list.size)]
    extra = rng.random(on_list.size) < 0.2
    listed[on_list[extra]] |= bits[rng.integers(0, bits.size, int(extra.sum()))]
    listed_on_list_date = listed.copy()
    added_later = on_list[rng.random(on_list.size) < 0.05]
    listed_on_list_date[added_later] = 0

    # Data problems (holdings over 100%, unknown owners) sit in the small companies of the
    # last layers, where register data is thinnest.
    problem = np.zeros(n, dtype=bool)
    deep = np.arange(layer_start[LAYERS - 3], n)
    problem[
        rng.choice(
            deep, size=min(spec.problems * n // DEFAULT_ENTITIES + 1, deep.size), replace=False
        )
    ] = True

    def side_edges(fraction: float) -> tuple[I32, I32]:
        count = int(n * fraction)
        heads = _draw_weighted(rng, np.arange(n, dtype=np.int64), popularity, count)
        tails = rng.integers(top, n, count)
        return heads.astype(np.int32), tails.astype(np.int32)

    debt_holder, debt_subject = side_edges(spec.debt_edges)
    officer_holder, officer_subject = side_edges(spec.officer_edges)
    contract_holder, contract_subject = side_edges(spec.contract_edges)
    contracts = contract_holder.size
    debt_share = np.round(rng.uniform(0.01, 0.4, debt_holder.size), 4)
    debt_ranged = rng.random(debt_holder.size) < 0.1

    return Registry(
        ids=SyntheticIds(n),
        covered=COVERED,
        government_of=government_of,
        maybe_government_of=maybe_government_of,
        foreign=foreign,
        jurisdiction=jurisdiction,
        activity=rng.random(n) < 0.01,
        foreign_controlled_base=foreign_controlled_base,
        listed=listed,
        listed_on_list_date=listed_on_list_date,
        problem=problem,
        holder=holders.astype(np.int32),
        subject=subjects.astype(np.int32),
        stakes={"equity": (eq_lo, eq_hi), "voting": (vo_lo, vo_hi), "board": (bo_lo, bo_hi)},
        debt_holder=debt_holder,
        debt_subject=debt_subject,
        debt_lo=np.where(debt_ranged, 0.0, debt_share),
        debt_hi=np.where(debt_ranged, np.minimum(1.0, debt_share * 2), debt_share),
        officer_holder=officer_holder,
        officer_subject=officer_subject,
        contract_holder=contract_holder,
        contract_subject=contract_subject,
        contract_effective=rng.choice(
            np.array([NO, UNKNOWN, YES], dtype=np.int8), size=contracts, p=[0.6, 0.3, 0.1]
        ),
        contract_now=rng.random(contracts) < 0.8,
        contract_prior_year=rng.random(contracts) < 0.85,
    )


def describe(reg: Registry) -> dict[str, int]:
    """Counts worth printing next to a timing."""
    return {
        "entities": reg.size,
        "holding_edges": int(reg.holder.size),
        "debt_edges": int(reg.debt_holder.size),
        "officer_edges": int(reg.officer_holder.size),
        "contract_edges": int(reg.contract_holder.size),
        "state_nodes": int((reg.government_of >= 0).sum()),
        "maybe_state_nodes": int(((reg.maybe_government_of >= 0) & (reg.government_of < 0)).sum()),
        "covered_jurisdiction": int((reg.jurisdiction == YES).sum()),
        "listed": int((reg.listed != 0).sum()),
        "max_out_degree": int(np.bincount(reg.holder, minlength=reg.size).max()),
        "parties_on_cycles": parties_on_cycles(reg),
    }


def parties_on_cycles(reg: Registry) -> int:
    n = reg.size
    adjacency = sp.csr_matrix(
        (np.ones(reg.holder.size, dtype=np.int8), (reg.holder, reg.subject)), shape=(n, n)
    )
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    sizes = np.bincount(labels)
    return int((sizes[labels] > 1).sum())
