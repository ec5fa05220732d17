"""How much of an entity a group of parties holds, directly and through intermediaries.

The same definition is computed two ways: here, for one target over its ancestors, in plain
Python so that every step can be shown as a path; and in `batch`, for every entity at once
with sparse matrices. Both iterate the same equations from zero:

    share_m(x) = min(1, sum over holders h of x of  weight(h) * stake_m(h -> x))
    weight(h)  = 1 for a source; otherwise gate(max over metrics of share_m(h))

where gate is "1 if the share reaches the control threshold, else 0" under the control-chain
reading and the share itself under the multiplicative reading. Sources are not treated as
intermediaries: their holdings count as their own. Lower and upper bounds run separately,
with each stake's low or high end and with the parties that are surely or possibly sources.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from bmtc.screening.graph import Holding, OwnershipGraph

Gate = Callable[[float], float]
MAX_ROUNDS = 1000
_STILL = 1e-13
MAX_PATHS = 25
MAX_DEPTH = 16


def control_chain_gate(crosses: Callable[[float], bool]) -> Gate:
    return lambda share: 1.0 if crosses(share) else 0.0


def multiplicative_gate(share: float) -> float:
    return share


def propagate(
    graph: OwnershipGraph,
    nodes: Collection[str],
    sources: Collection[str],
    blocked: Collection[str],
    metrics: tuple[str, ...],
    gate: Gate,
    high: bool,
) -> dict[str, dict[str, float]]:
    """share[metric][party] for every party in `nodes` (which must hold all their ancestors).

    `blocked` parties pass nothing on (other sources, when each source is measured alone)."""
    source_set, blocked_set = set(sources), set(blocked) - set(sources)
    shares = {m: dict.fromkeys(nodes, 0.0) for m in metrics}
    incoming = {x: graph.holders_of.get(x, []) for x in nodes}
    for _ in range(MAX_ROUNDS):
        weight = {
            h: 1.0 if h in source_set else 0.0 if h in blocked_set
            else gate(max(shares[m][h] for m in metrics))
            for h in nodes
        }
        changed = 0.0
        fresh = {m: {} for m in metrics}  # type: dict[str, dict[str, float]]
        for x in nodes:
            for m in metrics:
                total = 0.0
                for holding in incoming[x]:
                    w = weight.get(holding.holder, 0.0)
                    if w:
                        stake = holding.metric(m)
                        total += w * (stake.hi if high else stake.lo)
                value = min(1.0, total)
                changed = max(changed, abs(value - shares[m][x]))
                fresh[m][x] = value
        shares = fresh
        if changed <= _STILL:
            break
    return shares


@dataclass(frozen=True)
class Hop:
    holder: str
    subject: str
    stake: str
    relationship_id: str
    source_url: str


@dataclass(frozen=True)
class Path:
    source: str
    target: str
    hops: tuple[Hop, ...]
    # The product of stakes along the path (low end, high end), for the leading metric.
    product_lo: float
    product_hi: float


def paths_to(
    graph: OwnershipGraph, target: str, sources: Collection[str], metric: str,
    blocked: Collection[str] = (),
) -> list[Path]:
    """Simple ownership paths from any source to `target`, strongest first, at most
    MAX_PATHS; paths do not pass through another source or a blocked party."""
    source_set, blocked_set = set(sources), set(blocked)
    found: list[Path] = []

    def walk(party: str, trail: list[Holding], seen: set[str]) -> None:
        if len(found) >= MAX_PATHS * 4 or len(trail) >= MAX_DEPTH:
            return
        for holding in graph.holders_of.get(party, []):
            holder = holding.holder
            if holder in seen:
                continue
            chain = [holding, *trail]
            if holder in source_set:
                found.append(_path(holder, target, chain, metric))
            elif holder not in blocked_set:
                walk(holder, chain, seen | {holder})

    walk(target, [], {target})
    found.sort(key=lambda p: (-p.product_hi, -p.product_lo, p.source))
    return found[:MAX_PATHS]


def _path(source: str, target: str, chain: list[Holding], metric: str) -> Path:
    lo = hi = 1.0
    hops = []
    for holding in chain:
        stake = holding.metric(metric)
        lo *= stake.lo
        hi *= stake.hi
        hops.append(Hop(holding.holder, holding.subject, str(stake), holding.relationship.id,
                        holding.relationship.source.url))
    return Path(source, target, tuple(hops), lo, hi)
