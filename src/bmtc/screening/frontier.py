"""The attribution iteration of `attribution`, for every party at once on sparse matrices.

One round computes `share = min(1, A^T W)` per metric, with A the stakes (subject x holder)
and W the holders' weights; only parties with a holder whose weight moved in the round
before are recomputed, since any other party would get the same sum of the same weights.
Batch screening runs it over the whole registry; incremental re-screening over the parties
downstream of a change, with everyone else held at their weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bmtc.screening.attribution import MAX_ROUNDS

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
Matrix = sp.csr_matrix
Gate = Callable[[F64], F64]
_STILL = 1e-13
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Adjacency:
    """Compressed rows: the targets of node i are targets[indptr[i]:indptr[i + 1]]."""

    indptr: I64
    targets: I64

    @classmethod
    def build(
        cls, heads: npt.NDArray[np.integer], tails: npt.NDArray[np.integer], n: int
    ) -> Adjacency:
        # A stable sort keeps each node's targets in edge order, which fixes the order of the
        # sums taken over them (bincount, CSR products) to that of the full run.
        order = np.argsort(heads, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(heads, minlength=n), out=indptr[1:])
        return cls(indptr, tails[order].astype(np.int64))

    def gather(self, nodes: I64) -> tuple[I64, I64]:
        """(targets of every node in `nodes`, concatenated; position in `nodes` of each)."""
        starts = self.indptr[nodes]
        counts = self.indptr[nodes + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return _EMPTY, _EMPTY
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        return self.targets[offsets], np.repeat(np.arange(nodes.size), counts)

    def successors(self, nodes: I64, size: int) -> I64:
        """Sorted distinct targets of `nodes`; `size` bounds the target ids."""
        found, _ = self.gather(nodes)
        if found.size == 0:
            return _EMPTY
        if found.size * 32 >= size:
            mark = np.zeros(size, dtype=bool)
            mark[found] = True
            return np.flatnonzero(mark)
        ordered = np.sort(found)
        distinct: I64 = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
        return distinct


def settle(
    matrices: Mapping[str, Matrix],
    rows: I64 | None,
    inner: Adjacency,
    weight: F64,
    is_source: BOOL,
    passing: BOOL,
    gate: Gate,
    dirty: I64,
) -> F64:
    """Iterate the attribution equations for `rows` (all parties when None) from zero shares,
    holding every other party at its weight in `weight`; returns the strongest share per row
    and group, and leaves the rows' final weights in `weight`.

    `matrices` has one row per entry of `rows` (subject x holder, holder ids global), `inner`
    links a row to the rows it holds (local positions), and `dirty` lists the rows to compute in
    the first round: those with a holder of non-zero weight (any other row's sum is zero)."""
    metrics = tuple(matrices)
    count = weight.shape[0] if rows is None else rows.size
    groups = weight.shape[1]
    shares = {m: np.zeros((count, groups)) for m in metrics}
    source = is_source if rows is None else is_source[rows]
    open_ = (passing if rows is None else passing[rows])[:, None]
    start = np.where(source, 1.0, gate(np.zeros((count, groups))) * open_)
    if rows is None:
        weight[:] = start
    else:
        weight[rows] = start
    for _ in range(MAX_ROUNDS):
        if dirty.size == 0:
            break
        whole = dirty.size == count
        changed = 0.0
        for m in metrics:
            part = matrices[m] if whole else matrices[m][dirty]
            fresh = np.minimum(part @ weight, 1.0)
            old = shares[m] if whole else shares[m][dirty]
            changed = max(changed, float(np.abs(fresh - old).max(initial=0.0)))
            if whole:
                shares[m] = fresh
            else:
                shares[m][dirty] = fresh
        strongest = np.maximum.reduce([shares[m][dirty] for m in metrics])
        renewed = np.where(source[dirty], 1.0, gate(strongest) * open_[dirty])
        at = dirty if rows is None else rows[dirty]
        moved = dirty[(renewed != weight[at]).any(axis=1)]
        weight[at] = renewed
        if changed <= _STILL:
            break
        dirty = inner.successors(moved, count)
    return np.maximum.reduce([shares[m] for m in metrics])  # type: ignore[no-any-return]


def propagate(
    stakes: Mapping[str, Matrix],
    sources: F64,
    blocked: BOOL,
    gate: Gate,
    holds: Adjacency | None = None,
) -> F64:
    """The strongest share (max over metrics) per party and group, iterated from zero over
    every party; `holds` (holder -> subjects) is derived from the stake matrices when not
    given."""
    n = sources.shape[0]
    if holds is None:
        # Every metric's entries: a stake that is zero in one metric may not be in another.
        parts = [table.tocoo() for table in stakes.values()]
        holds = Adjacency.build(
            np.concatenate([p.col for p in parts]), np.concatenate([p.row for p in parts]), n
        )
    weight = np.zeros(sources.shape)
    return settle_all(stakes, holds, weight, sources > 0, ~blocked, gate)


def settle_all(
    stakes: Mapping[str, Matrix],
    holds: Adjacency,
    weight: F64,
    is_source: BOOL,
    passing: BOOL,
    gate: Gate,
) -> F64:
    start = np.where(is_source, 1.0, gate(np.zeros(is_source.shape)) * passing[:, None])
    dirty = holds.successors(np.flatnonzero(start.any(axis=1)), is_source.shape[0])
    return settle(stakes, None, holds, weight, is_source, passing, gate, dirty)




def per_source_shares(
    stakes: Mapping[str, Matrix], sources: BOOL, gate: Gate
) -> tuple[I64, Matrix]:
    """Each source measured alone: the source rows, and a sparse (sources x parties) matrix of
    the strongest share (max over metrics) each holds in each party. Other sources pass
    nothing on; shares under 1e-15 are dropped to keep the matrix sparse."""
    metrics = tuple(stakes)
    n = sources.shape[0]
    rows = np.flatnonzero(sources).astype(np.int64)
    if rows.size == 0:
        return rows, sp.csr_matrix((0, n))
    pick = sp.csr_matrix((np.ones(rows.size), (np.arange(rows.size), rows)),
                         shape=(rows.size, n))
    passing = sp.diags((~sources).astype(np.float64))
    holds = {m: stakes[m].T.tocsr() for m in metrics}
    shares = {m: sp.csr_matrix((rows.size, n)) for m in metrics}
    for _ in range(MAX_ROUNDS):
        strongest = strongest_of(shares)
        strongest.data = gate(strongest.data)
        strongest.eliminate_zeros()
        weight = pick + strongest @ passing
        changed = 0.0
        for m in metrics:
            fresh = sp.csr_matrix(weight @ holds[m])
            fresh.data = np.minimum(fresh.data, 1.0)
            fresh.data[fresh.data < 1e-15] = 0.0
            fresh.eliminate_zeros()
            diff = abs(fresh - shares[m])
            changed = max(changed, float(diff.max()) if diff.nnz else 0.0)
            shares[m] = fresh
        if changed <= _STILL:
            break
    return rows, strongest_of(shares)


def strongest_of(shares: Mapping[str, Matrix]) -> Matrix:
    metrics = tuple(shares)
    best = shares[metrics[0]]
    for m in metrics[1:]:
        best = best.maximum(shares[m])
    return sp.csr_matrix(best)
