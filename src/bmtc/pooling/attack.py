"""The attacker of a published table, by linear programming (HiGHS).

An attacker knows every released cell exactly, that no cell is negative, and that the table
adds up along every dimension, margins and grand total included. A member knows more: its
own contribution to every cell, so no hidden cell can hold less than that, and a cell it
alone fills exactly. The least and
greatest value a hidden cell can take under these constraints is the range the attacker can
derive; differencing published totals, chained in any way, never does better than this LP.

`audit` checks every sensitive cell against an outside user and against each member (the
second-largest contributor subtracting its own figure to estimate the largest is one case).
`cover` serves complementary suppression: the published cells an alternative table must
change, at least cost, to put a cell beyond its protection for a given attacker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from bmtc.analysis.network import new_solver
from bmtc.pooling.disclosure import (
    DisclosureRules,
    Key,
    Publication,
    PublishedCell,
    Status,
    Table,
    primary_suppression,
    relations,
    required_protection,
)

# Relative to the largest figure the attacker sees: below this a range is solver round-off.
TOLERANCE = 1e-9
_UNBOUNDED = (highspy.HighsModelStatus.kUnbounded,
              highspy.HighsModelStatus.kUnboundedOrInfeasible)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float  # math.inf when the published figures put no upper limit on the cell


Prior = Mapping[Key, Interval]


def knowledge(table: Table, member: str | None) -> dict[Key, Interval]:
    """What a member knows before reading the publication: each cell it contributes to holds
    at least its own contribution, and exactly that where no one else contributes (the
    public facility atlas may tell it so). An outside user starts from nothing."""
    if member is None:
        return {}
    return {key: Interval(value, value if len(table.contributions[key]) == 1 else math.inf)
            for key, value in table.own(member).items()}


def _scale(published: Publication, prior: Prior) -> float:
    # Solving in units of the largest figure keeps the LP well conditioned for any unit.
    figures = [c.value for c in published.cells.values() if c.value is not None]
    return max([*figures, *(i.low for i in prior.values()), 0.0]) or 1.0


def _bounds(published: Publication, prior: Prior, scale: float) -> tuple[list[float],
                                                                           list[float]]:
    lower, upper = [], []
    for key, cell in published.cells.items():
        if cell.value is not None:
            lower.append(cell.value / scale)
            upper.append(cell.value / scale)
        else:
            bound = prior.get(key, Interval(0.0, math.inf))
            lower.append(bound.low / scale)
            upper.append(bound.high / scale)
    return lower, upper


def _solver(n_cols: int, entries: Sequence[tuple[int, int, float]], rhs: Sequence[float],
            lower: np.ndarray, upper: np.ndarray, cost: np.ndarray) -> highspy.Highs:
    rows = [e[0] for e in entries]
    cols = [e[1] for e in entries]
    matrix = sparse.csc_matrix(([e[2] for e in entries], (rows, cols)), shape=(len(rhs), n_cols))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, len(rhs)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_ = lp.row_upper_ = np.asarray(rhs, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    solver = new_solver()
    # Protection is judged to TOLERANCE, so the solver must be tighter than its default 1e-7.
    solver.setOptionValue("primal_feasibility_tolerance", 1e-10)
    solver.setOptionValue("dual_feasibility_tolerance", 1e-10)
    solver.passModel(lp)
    return solver


def _additivity(published: Publication, index: Mapping[Key, int]) -> list[tuple[int, int, float]]:
    entries: list[tuple[int, int, float]] = []
    for row, (total, parts) in enumerate(relations(published.dimensions)):
        entries.append((row, index[total], 1.0))
        entries += [(row, index[p], -1.0) for p in parts]
    return entries


class Attacker:
    """One attacker's LP against one publication; `prior` bounds hidden cells from what the
    attacker knew beforehand (`knowledge`; empty for an outside user)."""

    def __init__(self, published: Publication, prior: Prior | None = None):
        self.published = published
        self.prior = dict(prior or {})
        self.scale = _scale(published, self.prior)
        self.index = {key: j for j, key in enumerate(published.cells)}
        lower, upper = _bounds(published, self.prior, self.scale)
        n_rows = len(relations(published.dimensions))
        self.highs = _solver(len(lower), _additivity(published, self.index), [0.0] * n_rows,
                             np.array(lower), np.array(upper), np.zeros(len(lower)))

    def _extreme(self, key: Key, sense: highspy.ObjSense) -> float:
        column = self.index[key]
        self.highs.changeColCost(column, 1.0)
        self.highs.changeObjectiveSense(sense)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status not in (highspy.HighsModelStatus.kOptimal, *_UNBOUNDED):
            # A warm start from the previous objective can end as "unknown"; from scratch
            # the same LP solves.
            self.highs.clearSolver()
            self.highs.run()
            status = self.highs.getModelStatus()
        self.highs.changeColCost(column, 0.0)
        if status == highspy.HighsModelStatus.kOptimal:
            return float(self.highs.getSolution().col_value[column]) * self.scale
        # The true table satisfies every constraint, so "unbounded or infeasible" is unbounded.
        if status in _UNBOUNDED and sense == highspy.ObjSense.kMaximize:
            return math.inf
        raise RuntimeError(f"attack LP for {key}: {self.highs.modelStatusToString(status)}")

    def interval(self, key: Key) -> Interval:
        value = self.published.cells[key].value
        if value is not None:
            return Interval(value, value)
        return Interval(self._extreme(key, highspy.ObjSense.kMinimize),
                        self._extreme(key, highspy.ObjSense.kMaximize))


def feasible_intervals(published: Publication,
                       prior: Prior | None = None) -> dict[Key, Interval]:
    """The range of every suppressed cell as the attacker can derive it."""
    attacker = Attacker(published, prior)
    return {key: attacker.interval(key) for key in published.suppressed()}


def reaches(attacker: Attacker, key: Key, value: float, need: float, side: int) -> bool:
    """Whether the attacker's range for the cell extends `need` beyond its true value on one
    side (1: above, -1: below)."""
    # Round-off may excuse at most half the requirement: a contribution tiny beside the
    # table is then over-protected (`cover` asks for a margin), never left exposed.
    slack = min(TOLERANCE * attacker.scale, need / 2)
    if attacker.published.cells[key].value is not None:
        return need <= slack
    sense = highspy.ObjSense.kMaximize if side > 0 else highspy.ObjSense.kMinimize
    return side * (attacker._extreme(key, sense) - value) >= need - slack


def cover(published: Publication, prior: Prior, key: Key, value: float,
          need: float, side: int, weights: Mapping[Key, float]) -> set[Key]:
    """Published cells that, once suppressed, give the attacker a consistent table with the
    cell at least `need` beyond `value` on `side`: those an alternative table changes, at the
    least weighted total change. Only cells in `weights` may change; the rest stay fixed."""
    scale = _scale(published, prior)
    index = {k: j for j, k in enumerate(published.cells)}
    n_rows = len(relations(published.dimensions))
    entries = _additivity(published, index)
    movable = [k for k, c in published.cells.items() if c.value is not None and k in weights]
    # Cells that may change are bounded as if hidden: by the attacker's prior knowledge.
    hidden = Publication(published.dimensions, {
        k: PublishedCell(None) if k in movable else c for k, c in published.cells.items()})
    lower, upper = _bounds(hidden, prior, scale)
    rhs = [0.0] * n_rows
    cost = [0.0] * len(index)
    for k in movable:
        # y_k - raise_k + cut_k = published value: the change to k is split into two parts.
        j, row = len(lower), len(rhs)
        entries += [(row, index[k], 1.0), (row, j, -1.0), (row, j + 1, 1.0)]
        rhs.append(float(published.cells[k].value or 0.0) / scale)
        lower += [0.0, 0.0]
        upper += [math.inf, math.inf]
        cost += [weights[k], weights[k]]
    # A little past the requirement, so that the audit's round-off cannot undo the repair.
    target, j = (value + side * (need + 2 * TOLERANCE * scale)) / scale, index[key]
    if side > 0:
        lower[j] = max(lower[j], target)
    else:
        upper[j] = max(lower[j], target)
    solver = _solver(len(lower), entries, rhs, np.array(lower), np.array(upper),
                     np.array(cost))
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return set()
    solution = np.asarray(solver.getSolution().col_value)
    base = len(index)
    return {k for i, k in enumerate(movable)
            if solution[base + 2 * i] + solution[base + 2 * i + 1] > TOLERANCE}


@dataclass(frozen=True)
class Finding:
    """The audit of one sensitive cell. `interval` is the outside user's range; `insider` is
    the cell's second-largest contributor and `insider_interval` its range. `breached_by`
    lists every attacker (None: the outside user) whose range falls short of the required
    protection on either side."""

    key: Key
    status: Status
    required: float
    interval: Interval
    insider: str | None
    insider_interval: Interval | None
    breached_by: tuple[str | None, ...]

    @property
    def protected(self) -> bool:
        return not self.breached_by


def audit(table: Table, published: Publication, rules: DisclosureRules) -> dict[Key, Finding]:
    """Check each sensitive cell of `table` against `published`, which the audit attacks with
    only the published figures (plus, for a member, its own contributions); the table
    supplies the truth to judge the ranges against."""
    hidden = set(published.suppressed())
    outsider = Attacker(published)
    members: dict[str, Attacker] = {}

    def attacker(member: str | None) -> Attacker:
        if member is None or hidden.isdisjoint(table.own(member)):
            return outsider
        if member not in members:
            members[member] = Attacker(published, knowledge(table, member))
        return members[member]

    findings: dict[Key, Finding] = {}
    for key, status in primary_suppression(table, rules).items():
        if status is Status.SAFE:
            continue
        value = table.total(key)
        breached: list[str | None] = []
        for member in [None, *table.members()]:
            need = required_protection(table, key, rules, member)
            if need > 0 and not all(reaches(attacker(member), key, value, need, side)
                                    for side in (1, -1)):
                breached.append(member)
        ranked = table.ranked(key)
        insider = ranked[1][0] if len(ranked) > 1 else None
        findings[key] = Finding(
            key, status, required_protection(table, key, rules), outsider.interval(key),
            insider, attacker(insider).interval(key) if insider is not None else None,
            tuple(breached))
    return findings
