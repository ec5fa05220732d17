"""Re-screening a registry after one holding changes, without screening it all again.

A change to the holding `holder -> subject` can only move what is computed from the stakes
*into* the subject and what lies downstream of it: attributed shares are sums over holders, so
a party that the subject does not reach keeps every input it had. `Rescreener` screens the
registry once, keeps the intermediate arrays the status tests are derived from (final
propagation weights and bounds per party, the per-source shares of the single-owner test, the
layers of data-problem reach) and, on each change, recomputes them only for

- R, the subject and everything it reaches through holdings (the shares), and
- A, R plus one hop through debt, officer and contract edges, applied in the order the
  problem-reach layers use them (the tests that look one edge back, and problem reach).

The statuses it keeps are exactly those `screen_all` gives on the changed registry, which
the test suite checks on random registries (under the multiplicative reading, both stop within
the same tolerance of the fixed point, not at the same bits, and agree as long as the full run
converges within MAX_ROUNDS). Shares are recomputed for R from zero, not from
their old values: in a cycle an old share can sustain itself (A controls B controls A) after
the stake that created it is gone, and iteration from zero finds the least fixed point, as the
full run does. Rows outside R are already at that fixed point, so R alone converges to it.

"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from bmtc.screening.attribution import MAX_ROUNDS
from bmtc.screening.batch import (
    BatchResult,
    Gate,
    Matrix,
    combine,
    crosses_array,
    list_hits,
    make_gate,
    rules_in_effect,
    stake_matrices,
    tri_from_bounds,
)
from bmtc.screening.frontier import (
    _STILL,
    Adjacency,
    per_source_shares,
    settle,
    settle_all,
    strongest_of,
)
from bmtc.screening.registry import BOOL, F64, I8, I32, NO, UNKNOWN, YES, Registry
from bmtc.screening.rules import Mode, Rule, RuleSet, check_in_effect

I64 = npt.NDArray[np.int64]

_FEOC_METRICS = ("board", "voting", "equity")
_PFE_METRICS = ("voting", "equity")
FEOC_LABELS = ("clear", "insufficient_data", "feoc")
PFE_LABELS = ("clear", "insufficient_data", "foreign_influenced", "specified")
_EMPTY = np.zeros(0, dtype=np.int64)


# --- index helpers --------------------------------------------------------------------------


def _positions(sorted_ids: I64, ids: I64) -> tuple[I64, BOOL]:
    """Index of each of `ids` in `sorted_ids`, and whether it is there at all."""
    if sorted_ids.size == 0:
        return np.zeros(ids.size, dtype=np.int64), np.zeros(ids.size, dtype=bool)
    where = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1).astype(np.int64)
    return where, sorted_ids[where] == ids


@dataclass
class _Flow:
    """One propagation kept between changes: a source set over groups, one stake bound."""

    metrics: tuple[str, ...]
    high: bool
    is_source: BOOL  # n x groups
    passing: BOOL
    weight: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    bound: F64 = field(default_factory=lambda: np.zeros(0))

    def run_full(self, stakes: Mapping[str, Matrix], holds: Adjacency, gate: Gate) -> None:
        self.weight = np.zeros(self.is_source.shape)
        table = {m: stakes[m] for m in self.metrics}
        strongest = settle_all(table, holds, self.weight, self.is_source, self.passing, gate)
        self.bound = strongest.max(axis=1)

    def run_rows(self, local: _LocalEdges, gate: Gate) -> None:
        table = local.matrices(self.metrics, self.high)
        everything = np.arange(local.rows.size)
        strongest = settle(
            table,
            local.rows,
            local.inner,
            self.weight,
            self.is_source,
            self.passing,
            gate,
            everything,
        )
        self.bound[local.rows] = strongest.max(axis=1)


def _group_flows(
    metrics: tuple[str, ...], surely: BOOL, possibly: BOOL, blocks: bool
) -> tuple[_Flow, _Flow]:
    n = surely.size
    flows = []
    for high, members in ((False, surely), (True, possibly)):
        blocked = members.copy() if blocks else np.zeros(n, dtype=bool)
        flows.append(_Flow(metrics, high, members[:, None].copy(), ~blocked))
    return flows[0], flows[1]


# --- the holdings as they change ------------------------------------------------------------


@dataclass
class _Extra:
    holder: int
    subject: int
    values: dict[str, tuple[float, float]]
    alive: bool = True


class _Holdings:
    """The registry's holding edges plus the changes made since: removed edges are masked,
    added or changed ones appended, so no change copies the four-million-edge arrays."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.n = reg.size
        self.alive = np.ones(reg.holder.size, dtype=bool)
        self.by_subject = Adjacency.build(reg.subject, np.arange(reg.holder.size), self.n)
        # Reachability uses every edge ever present: a superset of the current edges only
        # adds rows that are recomputed to the values they already have.
        self.graph = sp.csr_matrix(
            (np.ones(reg.holder.size), (reg.holder, reg.subject)), shape=(self.n, self.n)
        )
        self.extras: list[_Extra] = []

    def set(
        self, holder: int, subject: int, values: Mapping[str, tuple[float, float]] | None
    ) -> None:
        ids, _ = self.by_subject.gather(np.array([subject], dtype=np.int64))
        self.alive[ids[self.reg.holder[ids] == holder]] = False
        for extra in self.extras:
            if extra.alive and extra.holder == holder and extra.subject == subject:
                extra.alive = False
        if values is not None:
            self.extras.append(_Extra(holder, subject, dict(values)))

    def live_extras(self) -> list[_Extra]:
        return [e for e in self.extras if e.alive]

    def downstream(self, start: int) -> I64:
        """Sorted parties reachable from `start` through holdings, `start` included."""
        reached = np.sort(
            breadth_first_order(self.graph, start, directed=True, return_predecessors=False)
        ).astype(np.int64)
        extras = self.live_extras()
        while extras:
            heads = np.array([e.holder for e in extras], dtype=np.int64)
            tails = np.array([e.subject for e in extras], dtype=np.int64)
            _, head_in = _positions(reached, heads)
            _, tail_in = _positions(reached, tails)
            fresh = np.unique(tails[head_in & ~tail_in])
            if fresh.size == 0:
                break
            parts = [reached] + [
                breadth_first_order(
                    self.graph, int(t), directed=True, return_predecessors=False
                ).astype(np.int64)
                for t in fresh
            ]
            reached = np.unique(np.concatenate(parts))
        return reached

    def into(self, rows: I64) -> _LocalEdges:
        """The current holding edges whose subject is in `rows` (sorted)."""
        ids, local = self.by_subject.gather(rows)
        keep = self.alive[ids]
        ids, local = ids[keep], local[keep]
        holders = self.reg.holder[ids].astype(np.int64)
        values = {m: (lo[ids], hi[ids]) for m, (lo, hi) in self.reg.stakes.items()}
        extras = self.live_extras()
        if extras:
            tails = np.array([e.subject for e in extras], dtype=np.int64)
            where, found = _positions(rows, tails)
            chosen = [e for e, hit in zip(extras, found, strict=True) if hit]
            if chosen:
                holders = np.concatenate(
                    (holders, np.array([e.holder for e in chosen], dtype=np.int64))
                )
                local = np.concatenate((local, where[found]))
                values = {
                    m: (
                        np.concatenate((lo, [e.values[m][0] for e in chosen])),
                        np.concatenate((hi, [e.values[m][1] for e in chosen])),
                    )
                    for m, (lo, hi) in values.items()
                }
        return _LocalEdges(self.n, rows, holders, local, values)

    def registry(self) -> Registry:
        reg = self.reg
        extras = self.live_extras()
        holder = np.concatenate(
            (reg.holder[self.alive], np.array([e.holder for e in extras], dtype=np.int32))
        )
        subject = np.concatenate(
            (reg.subject[self.alive], np.array([e.subject for e in extras], dtype=np.int32))
        )
        stakes = {
            m: (
                np.concatenate((lo[self.alive], [e.values[m][0] for e in extras])),
                np.concatenate((hi[self.alive], [e.values[m][1] for e in extras])),
            )
            for m, (lo, hi) in reg.stakes.items()
        }
        return dataclasses.replace(
            reg, holder=holder.astype(np.int32), subject=subject.astype(np.int32), stakes=stakes
        )


class _LocalEdges:
    """Holding edges into a sorted set of rows, with the rows as local positions."""

    def __init__(
        self, n: int, rows: I64, holders: I64, local: I64, values: dict[str, tuple[F64, F64]]
    ) -> None:
        self.n = n
        self.rows = rows
        self.holders = holders
        self.local = local
        self.values = values
        self.holder_pos, self.holder_inside = _positions(rows, holders)
        inside = self.holder_inside
        self.inner = Adjacency.build(self.holder_pos[inside], local[inside], rows.size)
        self._cache: dict[tuple[str, bool], Matrix] = {}

    def matrix(self, metric: str, high: bool) -> Matrix:
        key = (metric, high)
        if key not in self._cache:
            data = self.values[metric][1 if high else 0]
            self._cache[key] = sp.csr_matrix(
                (data, (self.local, self.holders)), shape=(self.rows.size, self.n)
            )
        return self._cache[key]

    def matrices(self, metrics: tuple[str, ...], high: bool) -> dict[str, Matrix]:
        return {m: self.matrix(m, high) for m in metrics}


# --- data problems --------------------------------------------------------------------------


class _ProblemReach:
    """The layers of `batch.problems_reaching`: the problem flag closed over holdings, then
    one hop through debt, then officer, then contract edges (each hop from the layer before)."""

    def __init__(self, reg: Registry) -> None:
        n = reg.size
        self.reg = reg
        self.hops = [
            (
                reg.debt_holder,
                Adjacency.build(reg.debt_subject, np.arange(reg.debt_subject.size), n),
                Adjacency.build(reg.debt_holder, reg.debt_subject, n),
            ),
            (
                reg.officer_holder,
                Adjacency.build(reg.officer_subject, np.arange(reg.officer_subject.size), n),
                Adjacency.build(reg.officer_holder, reg.officer_subject, n),
            ),
            (
                reg.contract_holder,
                Adjacency.build(reg.contract_subject, np.arange(reg.contract_subject.size), n),
                Adjacency.build(reg.contract_holder, reg.contract_subject, n),
            ),
        ]
        holds = Adjacency.build(reg.holder, reg.subject, n)
        flag = reg.problem.copy()
        frontier = np.flatnonzero(flag)
        while frontier.size:
            reached = holds.successors(frontier, n)
            frontier = reached[~flag[reached]]
            flag[frontier] = True
        self.layers = [flag]
        everyone = np.arange(n, dtype=np.int64)
        for holders, into, _ in self.hops:
            self.layers.append(self._hop(self.layers[-1], holders, into, everyone))

    @staticmethod
    def _hop(previous: BOOL, holders: I32, into: Adjacency, rows: I64) -> BOOL:
        ids, local = into.gather(rows)
        hit = np.zeros(rows.size, dtype=bool)
        np.logical_or.at(hit, local, previous[holders[ids]])
        result: BOOL = previous[rows] | hit
        return result

    def affected(self, rows: I64) -> I64:
        """`rows` and the parties one hop beyond, hop after hop, as the layers propagate."""
        reached = rows
        for _, _, out in self.hops:
            reached = np.union1d(reached, out.successors(reached, self.reg.size))
        return reached

    def update(self, local: _LocalEdges, affected: I64) -> None:
        rows = local.rows
        first = self.layers[0]
        flag = self.reg.problem[rows].copy()
        outside = ~local.holder_inside
        flag[local.local[outside][first[local.holders[outside]]]] = True
        frontier = np.flatnonzero(flag)
        while frontier.size:
            reached = local.inner.successors(frontier, rows.size)
            frontier = reached[~flag[reached]]
            flag[frontier] = True
        first[rows] = flag
        for index, (holders, into, _) in enumerate(self.hops):
            self.layers[index + 1][affected] = self._hop(
                self.layers[index], holders, into, affected
            )

    @property
    def reaching(self) -> BOOL:
        return self.layers[-1]


# --- per-source shares for the single-owner test --------------------------------------------


class _SourceShares:
    """For every party x, the strongest share each single source holds in x (sources x
    parties, stored by party), as `batch_pfe._single_owner` computes them before taking the
    maximum."""

    # Columns live in a pool that only grows: a replaced column is written at the end and its
    # old entries become garbage, so a change costs its own size; the pool is compacted when
    # garbage outweighs the live entries.

    def __init__(self, n: int) -> None:
        self.n = n
        self.start = np.zeros(n, dtype=np.int64)
        self.count = np.zeros(n, dtype=np.int64)
        self.sources = _EMPTY
        self.data = np.zeros(0)
        self.used = 0
        self.value = np.zeros(n)

    def column_entries(self, cols: I64) -> tuple[I64, I64, F64]:
        """(source, position in `cols`, share) for every stored entry of `cols`."""
        offsets, counts = self._offsets(cols)
        return self.sources[offsets], np.repeat(np.arange(cols.size), counts), self.data[offsets]

    def _offsets(self, cols: I64) -> tuple[I64, I64]:
        starts, counts = self.start[cols], self.count[cols]
        total = int(counts.sum())
        if total == 0:
            return _EMPTY, counts
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        return offsets, counts

    def replace(self, cols: I64, sources: I64, positions: I64, data: F64) -> None:
        """Replace the columns `cols` by entries given as positions in `cols`."""
        order = np.argsort(positions, kind="stable")
        sources, positions, data = sources[order], positions[order], data[order]
        counts = np.bincount(positions, minlength=cols.size).astype(np.int64)
        if self.used + positions.size > self.data.size:
            self._compact(max(2 * (int(self.count.sum()) + positions.size), 1024))
        at = self.used
        self.sources[at : at + positions.size] = sources
        self.data[at : at + positions.size] = data
        self.start[cols] = at + np.cumsum(counts) - counts
        self.count[cols] = counts
        self.used = at + positions.size
        best = np.zeros(cols.size)
        np.maximum.at(best, positions, data)
        self.value[cols] = best

    def _compact(self, capacity: int) -> None:
        everyone = np.arange(self.n, dtype=np.int64)
        offsets, counts = self._offsets(everyone)
        sources = np.empty(capacity, dtype=np.int64)
        data = np.empty(capacity)
        sources[: offsets.size] = self.sources[offsets]
        data[: offsets.size] = self.data[offsets]
        self.sources, self.data, self.used = sources, data, int(offsets.size)
        self.start = np.cumsum(counts) - counts

    def run_full(
        self, stakes: Mapping[str, Matrix], sources: BOOL, gate: Gate, metrics: tuple[str, ...]
    ) -> None:
        """The per-source shares of the single-owner test, kept for later changes."""
        rows, strongest = per_source_shares({m: stakes[m] for m in metrics}, sources, gate)
        if rows.size == 0:
            self.replace(_EMPTY, _EMPTY, _EMPTY, np.zeros(0))
            return
        best = strongest.tocoo()
        self.replace(
            np.arange(self.n, dtype=np.int64),
            rows[best.row].astype(np.int64),
            best.col.astype(np.int64),
            best.data.astype(np.float64),
        )

    def run_rows(
        self, local: _LocalEdges, sources: BOOL, high: bool, gate: Gate, metrics: tuple[str, ...]
    ) -> None:
        """Recompute the columns of `local.rows`, which hold everything they reach, with the
        per-source weights of the holders outside them as stored."""
        rows = local.rows
        size = rows.size
        outside = ~local.holder_inside
        out_holders, out_index = np.unique(local.holders[outside], return_inverse=True)
        # Weight of an outside holder h for source s: 1 for h itself if h is a source (its
        # holdings are its own), else the gated share s has in h; sources pass nothing on.
        src, col, share = self.column_entries(out_holders)
        share = gate(share)
        keep = (share != 0) & ~sources[out_holders[col]]
        own = np.flatnonzero(sources[out_holders])
        inside_sources = rows[sources[rows]]
        w_src = np.concatenate((src[keep], out_holders[own]))
        w_col = np.concatenate((col[keep], own))
        w_val = np.concatenate((share[keep], np.ones(own.size)))
        relevant = np.union1d(w_src, inside_sources)
        if relevant.size == 0:
            self.replace(rows, _EMPTY, _EMPTY, np.zeros(0))
            return
        k = relevant.size
        fixed_weight = sp.csr_matrix(
            (w_val, (np.searchsorted(relevant, w_src), w_col)), shape=(k, out_holders.size)
        )
        inside = local.holder_inside
        fixed, within = {}, {}
        for m in metrics:
            data = local.values[m][1 if high else 0]
            into = sp.csr_matrix(
                (data[outside], (out_index, local.local[outside])), shape=(out_holders.size, size)
            )
            fixed[m] = sp.csr_matrix(fixed_weight @ into)
            within[m] = sp.csr_matrix(
                (data[inside], (local.holder_pos[inside], local.local[inside])), shape=(size, size)
            )
        pick = sp.csr_matrix(
            (
                np.ones(inside_sources.size),
                (np.searchsorted(relevant, inside_sources), np.searchsorted(rows, inside_sources)),
            ),
            shape=(k, size),
        )
        passing = sp.diags((~sources[rows]).astype(np.float64))
        shares = {m: sp.csr_matrix((k, size)) for m in metrics}
        for _ in range(MAX_ROUNDS):
            strongest = strongest_of({m: shares[m] for m in metrics})
            strongest.data = gate(strongest.data)
            strongest.eliminate_zeros()
            weight = pick + strongest @ passing
            changed = 0.0
            for m in metrics:
                fresh = sp.csr_matrix(fixed[m] + weight @ within[m])
                changed = max(changed, _settle_sparse(fresh, shares[m]))
                shares[m] = fresh
            if changed <= _STILL:
                break
        best = strongest_of({m: shares[m] for m in metrics}).tocoo()
        self.replace(
            rows,
            relevant[best.row].astype(np.int64),
            best.col.astype(np.int64),
            best.data.astype(np.float64),
        )


def _settle_sparse(fresh: Matrix, old: Matrix) -> float:
    """Cap and prune a fresh round in place as `_single_owner` does; the largest change."""
    fresh.data = np.minimum(fresh.data, 1.0)
    fresh.data[fresh.data < 1e-15] = 0.0
    fresh.eliminate_zeros()
    diff = abs(fresh - old)
    return float(diff.max()) if diff.nnz else 0.0


# --- the rule sets --------------------------------------------------------------------------


def _strongest_per_row(size: int, local: I64, outcome: I8) -> I8:
    result = np.zeros(size, dtype=np.int8)
    np.maximum.at(result, local, outcome)
    return result


class _Screen(ABC):
    """Tests, outcome codes and the intermediate arrays of one rule set."""

    labels: tuple[str, ...]

    def __init__(self, reg: Registry, rules: RuleSet, as_of: str, mode: Mode) -> None:
        n = reg.size
        self.reg, self.rules, self.as_of, self.mode = reg, rules, as_of, mode
        self.in_effect = rules_in_effect(rules, as_of)
        self.gate = make_gate(mode, rules.control_threshold_pct, rules.control_threshold_inclusive)
        self.tests: dict[str, I8] = {
            r.id: np.zeros(n, dtype=np.int8) for r in rules.rules_on(as_of)
        }
        self.outcome = np.zeros(n, dtype=np.int8)
        self.problems = _ProblemReach(reg)
        self.contracts_into = Adjacency.build(
            reg.contract_subject, np.arange(reg.contract_subject.size), n
        )

    @abstractmethod
    def flows(self) -> list[_Flow]: ...

    def metrics(self) -> tuple[str, ...]:
        used = {m for flow in self.flows() for m in flow.metrics}
        return tuple(sorted(used))

    @abstractmethod
    def full(self) -> None:
        """Compute everything for every party."""

    @abstractmethod
    def update(self, local: _LocalEdges, affected: I64) -> None:
        """Recompute the shares of `local.rows` and the tests of `affected`."""

    def _contract_outcome(self, rows: I64, status: I8, in_force: BOOL) -> I8:
        ids, local = self.contracts_into.gather(rows)
        reg = self.reg
        holder_status = status[reg.contract_holder[ids]]
        effective = reg.contract_effective[ids]
        outcome = np.where(
            (holder_status == YES) & (effective == YES), YES, np.where(effective == NO, NO, UNKNOWN)
        ).astype(np.int8)
        relevant = in_force[ids] & (holder_status != NO)
        return _strongest_per_row(rows.size, local, np.where(relevant, outcome, NO).astype(np.int8))


class _Feoc(_Screen):
    labels = FEOC_LABELS

    def __init__(self, reg: Registry, rules: RuleSet, as_of: str, mode: Mode) -> None:
        super().__init__(reg, rules, as_of, mode)
        self.control_rule = next(
            (r for r in self.in_effect if r.test == "government_control"), None
        )
        metrics = (
            self.control_rule.metrics
            if self.control_rule and self.control_rule.metrics
            else _FEOC_METRICS
        )
        groups = len(reg.covered)
        self.government: list[_Flow] = []
        if self.control_rule is not None:
            for high, nation in ((False, reg.government_of), (True, reg.maybe_government_of)):
                members = np.flatnonzero(nation >= 0)
                is_source = np.zeros((reg.size, groups), dtype=bool)
                is_source[members, nation[members]] = True
                self.government.append(_Flow(metrics, high, is_source, nation < 0))
        self.foreign = list(
            _group_flows(metrics, reg.foreign == YES, reg.foreign != NO, blocks=False)
        )
        self.base = np.zeros(reg.size, dtype=np.int8)

    def flows(self) -> list[_Flow]:
        return [*self.government, *self.foreign]

    def full(self) -> None:
        reg = self.reg
        stakes = stake_matrices(reg, self.metrics())
        holds = Adjacency.build(reg.holder, reg.subject, reg.size)
        for flow in self.flows():
            flow.run_full(stakes.hi if flow.high else stakes.lo, holds, self.gate)
        del stakes
        self._derive(np.arange(reg.size, dtype=np.int64))

    def update(self, local: _LocalEdges, affected: I64) -> None:
        for flow in self.flows():
            flow.run_rows(local, self.gate)
        self.problems.update(local, affected)
        self._derive(affected)

    def _derive(self, rows: I64) -> None:
        reg, rules = self.reg, self.rules
        control = np.zeros(rows.size, dtype=np.int8)
        if self.control_rule is not None:
            lo, hi = self.government
            control = tri_from_bounds(lo.bound[rows], hi.bound[rows], self.control_rule)
        surely = crosses_array(
            self.foreign[0].bound[rows],
            rules.control_threshold_pct,
            rules.control_threshold_inclusive,
        )
        maybe = crosses_array(
            self.foreign[1].bound[rows],
            rules.control_threshold_pct,
            rules.control_threshold_inclusive,
        )
        controlled = np.where(surely, YES, np.where(maybe, UNKNOWN, NO))
        foreign = np.where(control == YES, YES, np.maximum(reg.foreign[rows], controlled)).astype(
            np.int8
        )
        government = np.where(
            reg.government_of[rows] >= 0,
            YES,
            np.where(reg.maybe_government_of[rows] >= 0, UNKNOWN, NO),
        ).astype(np.int8)
        base: list[I8] = []
        for rule in self.in_effect:
            value: I8 | None = None
            if rule.test == "foreign_entity":
                value = foreign
            elif rule.test == "listed":
                value = np.where(list_hits(reg.listed[rows], rule), foreign, NO).astype(np.int8)
                base.append(value)
            elif rule.test == "is_government":
                value = government
                base.append(value)
            elif rule.test == "jurisdiction":
                value = reg.jurisdiction[rows]
                base.append(value)
            elif rule.test == "activity_jurisdiction":
                value = np.where(reg.activity[rows], YES, NO).astype(np.int8)
            elif rule.test == "government_control":
                value = control
                base.append(value)
            if value is not None:
                self.tests[rule.id][rows] = value
        self.base[rows] = combine(base, rows.size)
        contract = next((r for r in self.in_effect if r.test == "contract_control"), None)
        if contract is not None:
            self.tests[contract.id][rows] = self._contract_outcome(
                rows, self.base, reg.contract_now
            )
        primary = combine(
            [self.tests[r.id][rows] for r in self.in_effect if not r.precondition], rows.size
        )
        self.outcome[rows] = np.where(
            (primary == NO) & self.problems.reaching[rows], UNKNOWN, primary
        )


class _Pfe(_Screen):
    labels = PFE_LABELS
    _SPECIFYING = frozenset({"listed", "foreign_controlled_base", "foreign_controlled"})

    def __init__(self, reg: Registry, rules: RuleSet, as_of: str, mode: Mode) -> None:
        super().__init__(reg, rules, as_of, mode)
        n = reg.size
        self.control_rule = next(r for r in self.in_effect if r.test == "foreign_controlled")
        base = reg.foreign_controlled_base
        self.controlled = _group_flows(
            self.control_rule.metrics or _PFE_METRICS, base == YES, base != NO, blocks=True
        )
        self.specified = np.zeros(n, dtype=np.int8)
        self.aggregate: dict[str, tuple[_Flow, _Flow]] = {}
        self.single: dict[str, tuple[_SourceShares, _SourceShares]] = {}
        no = np.zeros(n, dtype=bool)
        for rule in self.in_effect:
            if rule.role == "fie" and rule.test == "sfe_aggregate_owner":
                self.aggregate[rule.id] = _group_flows(
                    rule.metrics or _PFE_METRICS, no, no, blocks=True
                )
            elif rule.role == "fie" and rule.test == "sfe_single_owner":
                self.single[rule.id] = (_SourceShares(n), _SourceShares(n))
        self.debts_into = Adjacency.build(reg.debt_subject, np.arange(reg.debt_subject.size), n)
        self.officers_into = Adjacency.build(
            reg.officer_subject, np.arange(reg.officer_subject.size), n
        )

    def flows(self) -> list[_Flow]:
        return [*self.controlled, *(f for pair in self.aggregate.values() for f in pair)]

    def metrics(self) -> tuple[str, ...]:
        used = set(super().metrics())
        for rule in self.in_effect:
            if rule.id in self.single:
                used.update(rule.metrics or _PFE_METRICS)
        return tuple(sorted(used))

    def _set_sources(self, rows: I64) -> None:
        sure, possible = self.specified[rows] == YES, self.specified[rows] != NO
        for lo, hi in self.aggregate.values():
            for flow, members in ((lo, sure), (hi, possible)):
                flow.is_source[rows, 0] = members
                flow.passing[rows] = ~members

    def full(self) -> None:
        reg = self.reg
        everyone = np.arange(reg.size, dtype=np.int64)
        stakes = stake_matrices(reg, self.metrics())
        holds = Adjacency.build(reg.holder, reg.subject, reg.size)
        for flow in self.controlled:
            flow.run_full(stakes.hi if flow.high else stakes.lo, holds, self.gate)
        self._specify(everyone)
        self._set_sources(everyone)
        for pair in self.aggregate.values():
            for flow in pair:
                flow.run_full(stakes.hi if flow.high else stakes.lo, holds, self.gate)
        for rule in self.in_effect:
            if rule.id in self.single:
                metrics = rule.metrics or _PFE_METRICS
                lo, hi = self.single[rule.id]
                lo.run_full(stakes.lo, self.specified == YES, self.gate, metrics)
                hi.run_full(stakes.hi, self.specified != NO, self.gate, metrics)
        del stakes
        self._influence(everyone)

    def update(self, local: _LocalEdges, affected: I64) -> None:
        for flow in self.controlled:
            flow.run_rows(local, self.gate)
        self._specify(local.rows)
        self._set_sources(local.rows)
        for pair in self.aggregate.values():
            for flow in pair:
                flow.run_rows(local, self.gate)
        for rule in self.in_effect:
            if rule.id in self.single:
                metrics = rule.metrics or _PFE_METRICS
                lo, hi = self.single[rule.id]
                lo.run_rows(local, self.specified == YES, False, self.gate, metrics)
                hi.run_rows(local, self.specified != NO, True, self.gate, metrics)
        self.problems.update(local, affected)
        self._influence(affected)

    def _specify(self, rows: I64) -> None:
        reg = self.reg
        lo, hi = self.controlled
        primary: list[I8] = []
        for rule in self.in_effect:
            value: I8 | None = None
            if rule.test == "listed":
                value = np.where(list_hits(reg.listed_on_list_date[rows], rule), YES, NO).astype(
                    np.int8
                )
            elif rule.test == "foreign_controlled_base":
                value = reg.foreign_controlled_base[rows]
            elif rule.test == "foreign_controlled":
                value = tri_from_bounds(lo.bound[rows], hi.bound[rows], rule)
            if value is not None:
                self.tests[rule.id][rows] = value
                if rule.role != "fie":
                    primary.append(value)
        self.specified[rows] = combine(primary, rows.size)

    def _influence(self, rows: I64) -> None:
        influenced = [self._fie_test(rule, rows) for rule in self.in_effect if rule.role == "fie"]
        specified = self.specified[rows]
        fie = combine(influenced, rows.size)
        outcome = np.where(
            specified == YES,
            3,
            np.where(fie == YES, 2, np.where((specified == UNKNOWN) | (fie == UNKNOWN), 1, 0)),
        )
        self.outcome[rows] = np.where((outcome == 0) & self.problems.reaching[rows], 1, outcome)

    def _fie_test(self, rule: Rule, rows: I64) -> I8:
        reg, specified = self.reg, self.specified
        value: I8
        if rule.test == "sfe_aggregate_owner":
            lo, hi = self.aggregate[rule.id]
            value = tri_from_bounds(lo.bound[rows], hi.bound[rows], rule)
        elif rule.test == "sfe_single_owner":
            single_lo, single_hi = self.single[rule.id]
            value = tri_from_bounds(single_lo.value[rows], single_hi.value[rows], rule)
        elif rule.test == "sfe_debt":
            ids, local = self.debts_into.gather(rows)
            status = specified[reg.debt_holder[ids]]
            debt_lo = np.bincount(
                local, weights=np.where(status == YES, reg.debt_lo[ids], 0.0), minlength=rows.size
            ).astype(np.float64)
            debt_hi = np.bincount(
                local, weights=np.where(status != NO, reg.debt_hi[ids], 0.0), minlength=rows.size
            ).astype(np.float64)
            value = tri_from_bounds(np.minimum(debt_lo, 1.0), np.minimum(debt_hi, 1.0), rule)
        elif rule.test == "sfe_officer":
            ids, local = self.officers_into.gather(rows)
            value = _strongest_per_row(rows.size, local, specified[reg.officer_holder[ids]])
        elif rule.test == "sfe_effective_control":
            value = self._contract_outcome(rows, specified, reg.contract_prior_year)
        else:
            raise ValueError(f"{rule.id}: test {rule.test!r} has no batch form")
        self.tests[rule.id][rows] = value
        return value


# --- the public face ------------------------------------------------------------------------


@dataclass(frozen=True)
class Touched:
    """What one change recomputed: parties downstream of the subject (shares recomputed) and
    parties whose tests were derived again (those plus one hop through side edges)."""

    downstream: int
    rederived: int


class Rescreener:
    """A screened registry that re-screens itself after a holding changes.

    Construction screens the whole registry (as `screen_all` does, for one rule set, date and
    mode); `change_holding` then adds, updates or removes one holding and returns the parties
    whose status changed. `result()` gives the current statuses and tests as a BatchResult and
    `registry()` the registry with the changes applied."""

    def __init__(self, reg: Registry, rules: RuleSet, as_of: str, mode: Mode | None = None) -> None:
        check_in_effect(rules, as_of)
        self.mode: Mode = mode or rules.default_mode
        self.rules = rules
        self._holdings = _Holdings(reg)
        self._screen: _Screen = (
            _Feoc(reg, rules, as_of, self.mode)
            if rules.verdict_if_fired == "feoc"
            else _Pfe(reg, rules, as_of, self.mode)
        )
        self._screen.full()
        self.last = Touched(reg.size, reg.size)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._screen.labels

    @property
    def outcome(self) -> I8:
        """Status codes per party, indexes into `labels` (read-only view)."""
        view = self._screen.outcome.view()
        view.flags.writeable = False
        return view

    def status(self, party: int) -> str:
        return self.labels[int(self._screen.outcome[party])]

    def result(self) -> BatchResult:
        screen = self._screen
        return BatchResult(
            screen.reg.ids,
            self.rules.id,
            self.mode,
            np.array(self.labels)[screen.outcome],
            {k: v.copy() for k, v in screen.tests.items()},
        )

    def registry(self) -> Registry:
        return self._holdings.registry()

    def change_holding(
        self, holder: int, subject: int, metric_values: Mapping[str, tuple[float, float]] | None
    ) -> I64:
        """Set the holding `holder -> subject` to `metric_values` (low and high stake per
        metric, every metric of the registry) or, with None, remove it; any holdings the pair
        had before are replaced. Returns the sorted rows of the parties whose status changed."""
        reg = self._screen.reg
        for party in (holder, subject):
            if not 0 <= party < reg.size:
                raise IndexError(f"party {party} is not in the registry (0..{reg.size - 1})")
        if metric_values is not None:
            metric_values = _checked(metric_values, tuple(reg.stakes))
        self._holdings.set(holder, subject, metric_values)
        rows = self._holdings.downstream(subject)
        affected = self._screen.problems.affected(rows)
        before = self._screen.outcome[affected].copy()
        self._screen.update(self._holdings.into(rows), affected)
        self.last = Touched(int(rows.size), int(affected.size))
        moved: I64 = affected[self._screen.outcome[affected] != before]
        return moved

    def remove_holding(self, holder: int, subject: int) -> I64:
        return self.change_holding(holder, subject, None)


def _checked(
    values: Mapping[str, tuple[float, float]], metrics: tuple[str, ...]
) -> dict[str, tuple[float, float]]:
    if set(values) != set(metrics):
        raise ValueError(f"metric_values must give exactly the metrics {', '.join(metrics)}")
    checked = {}
    for metric, (lo, hi) in values.items():
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"{metric}: stakes must satisfy 0 <= low <= high <= 1")
        checked[metric] = (float(lo), float(hi))
    return checked


__all__ = [
    "FEOC_LABELS",
    "PFE_LABELS",
    "Adjacency",
    "Rescreener",
    "Touched",
]
