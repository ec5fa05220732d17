"""The network bound: the most lithium-ion cell GWh a year that eligible facilities can make,
as a linear program solved with HiGHS.

Each eligible facility is a column bounded by its capacity in the year; a CAM or cell line
that can serve both cathode families gets one column per family sharing one capacity row.
Each flow has a balance row (what is made plus what may be imported covers what the next
stage draws), with coefficients from the recipe. The objective is the sum of cell output.

The row duals are shadow prices: GWh of cells gained per extra unit of a flow. A facility's
reduced cost is the GWh gained per extra unit of its capacity; summed over a stage for a 1%
expansion it ranks the stages by how much they hold the bound back.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import highspy
import numpy as np
import pandas as pd
from scipy import sparse

from bmtc.analysis.conversions import FAMILIES, Family
from bmtc.analysis.flows import FLOWS, Flow
from bmtc.analysis.recipe import FEED_OF, Recipe

BALANCED: list[Flow] = [f for f in Flow if f not in (Flow.CELLS, Flow.SODIUM_CELLS, Flow.PACKS,
                                           Flow.RECYCLING_FEED)]
# GWh: a gain or a bound smaller than this is round-off. Marginal values are compared after
# multiplying by capacity, so flows measured in m2 (tiny value per unit) are judged fairly.
TOLERANCE = 1e-7


@cache
def _quiet_start() -> None:
    """HiGHS prints a banner to the process's stdout when the first solver is made; it would
    corrupt JSON and CSV output, so the first construction writes to the null device."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_solver() -> highspy.Highs:
    _quiet_start()
    solver = highspy.Highs()  # type: ignore[no-untyped-call]
    solver.setOptionValue("output_flag", False)
    return solver


@dataclass(frozen=True)
class Node:
    """One eligible facility: its flow, the families it may serve, and capacity by year."""

    facility_id: str
    name: str
    stage: str
    flow: Flow
    families: tuple[Family, ...]
    integrated: bool
    route: str
    capacity: np.ndarray


@dataclass(frozen=True)
class _Column:
    node: int  # index into nodes, or -1 for an import column
    flow: Flow
    family: Family | None


class NetworkModel:
    """The LP for a fixed set of nodes and import limits; capacities change per solve, so
    HiGHS starts each solve from the previous basis."""

    def __init__(self, nodes: Sequence[Node], recipe: Recipe,
                 import_limits: Mapping[Flow, float]):
        self.nodes = list(nodes)
        self.recipe = recipe
        self.import_limits = dict(import_limits)
        self.rows: dict[Flow, int] = {flow: i for i, flow in enumerate(BALANCED)}
        self.columns: list[_Column] = []
        self._single: list[tuple[int, int]] = []  # (column, node)
        self._shared: list[tuple[int, int]] = []  # (row, node)
        self._share_columns: list[list[int]] = []
        self._build()

    # -- building ---------------------------------------------------------------------------
    def _inputs(self, column: _Column) -> dict[Flow, float]:
        recipe, flow = self.recipe, column.flow
        node = self.nodes[column.node] if column.node >= 0 else None
        if node is None:
            return {}
        if flow is Flow.CELLS:
            assert column.family is not None
            return {f: d.value for f, d in recipe.cell[column.family].items()}
        if flow in (Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE):
            family: Family = column.family or ("layered" if flow is Flow.CAM_LAYERED
                                               else "phosphate")
            return {f: d.value for f, d in recipe.cam[family].items()}
        if node.integrated:
            return {}
        if flow in FEED_OF:
            return {FEED_OF[flow][0]: recipe.feed[flow].value}
        if flow is Flow.PCAM:
            return {f: d.value for f, d in recipe.pcam.items()}
        if flow is Flow.AAM and node.route == "natural":
            return {Flow.GRAPHITE_FEED: recipe.aam_feed.value}
        if flow is Flow.LIPF6:
            return {Flow.LITHIUM_CHEMICAL: recipe.lipf6_lithium.value}
        if flow is Flow.ELECTROLYTE:
            return {Flow.LIPF6: recipe.electrolyte_lipf6.value}
        return {}

    def _output_flow(self, column: _Column) -> Flow:
        if column.flow in (Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE) and column.family:
            return Flow.CAM_LAYERED if column.family == "layered" else Flow.CAM_PHOSPHATE
        return column.flow

    def _build(self) -> None:
        extra_rows = 0
        for index, node in enumerate(self.nodes):
            split = node.flow in (Flow.CELLS, Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE) and len(
                node.families) > 1
            if node.flow is Flow.CELLS or split:
                families = node.families or FAMILIES
                first = len(self.columns)
                self.columns += [_Column(index, node.flow, f) for f in families]
                if len(families) > 1:
                    self._shared.append((len(BALANCED) + extra_rows, index))
                    extra_rows += 1
                    self._share_columns.append(list(range(first, len(self.columns))))
                else:
                    self._single.append((first, index))
            elif node.flow in self.rows:
                self._single.append((len(self.columns), index))
                self.columns.append(_Column(index, node.flow, None))
        # An empty column keeps the LP well formed when nothing is eligible (bound 0).
        self.columns.append(_Column(-2, Flow.CELLS, None))
        self._imports: list[tuple[int, Flow]] = []
        for flow, limit in self.import_limits.items():
            if limit > 0 and flow in self.rows:
                self._imports.append((len(self.columns), flow))
                self.columns.append(_Column(-1, flow, None))
        share_columns = self._share_columns
        n_rows, n_cols = len(BALANCED) + extra_rows, len(self.columns)
        entries: list[tuple[int, int, float]] = []
        for j, column in enumerate(self.columns):
            out = self._output_flow(column)
            if out in self.rows:
                entries.append((self.rows[out], j, 1.0))
            for flow, amount in self._inputs(column).items():
                entries.append((self.rows[flow], j, -amount))
        for (row, _node), shared in zip(self._shared, share_columns, strict=True):
            entries += [(row, j, 1.0) for j in shared]
        triples = np.array(entries, dtype=float).reshape(-1, 3)
        matrix = sparse.csc_matrix(
            (triples[:, 2], (triples[:, 0].astype(int), triples[:, 1].astype(int))),
            shape=(n_rows, n_cols))
        cost = np.array([-1.0 if c.flow is Flow.CELLS and c.node >= 0 else 0.0
                         for c in self.columns])
        upper = np.array([0.0 if c.node == -2 else math.inf for c in self.columns])
        for j, flow in self._imports:
            upper[j] = self.import_limits[flow]
        row_lower = np.concatenate([np.zeros(len(BALANCED)), np.full(extra_rows, -math.inf)])
        row_upper = np.full(n_rows, math.inf)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, n_rows
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(n_cols), upper
        lp.row_lower_, lp.row_upper_ = row_lower, row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.highs = new_solver()
        self.highs.passModel(lp)
        self.matrix = matrix

    # -- solving ----------------------------------------------------------------------------
    def solve(self, capacity: Sequence[float] | np.ndarray) -> tuple[float, highspy.HighsSolution]:
        """Maximise cells with each node's capacity as given (one figure per node)."""
        capacity = np.asarray(capacity, dtype=float)
        if self._single:
            cols = np.array([c for c, _ in self._single], dtype=np.int32)
            caps = capacity[[n for _, n in self._single]]
            self.highs.changeColsBounds(len(cols), cols, np.zeros(len(cols)), caps)
        if self._shared:
            rows = np.array([r for r, _ in self._shared], dtype=np.int32)
            caps = capacity[[n for _, n in self._shared]]
            self.highs.changeRowsBounds(  # type: ignore[attr-defined]
                len(rows), rows, np.full(len(rows), -math.inf), caps)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            text = self.highs.modelStatusToString(status)
            raise RuntimeError(f"the network LP did not solve: {text}")
        # Reported to the kWh: below that lies the solver's feasibility tolerance, not cells.
        cells = round(max(0.0, -self.highs.getInfo().objective_function_value), 9)
        return cells, self.highs.getSolution()


@dataclass
class YearBound:
    year: int
    cells_gwh: float
    by_family: dict[str, float]
    flows: pd.DataFrame
    facilities: pd.DataFrame
    stages: pd.DataFrame


def solve_year(model: NetworkModel, year_index: int, year: int) -> YearBound:
    capacity = np.array([n.capacity[year_index] for n in model.nodes])
    cells, solution = model.solve(capacity)
    values = np.asarray(solution.col_value)
    col_dual = np.asarray(solution.col_dual)
    row_dual = np.asarray(solution.row_dual)
    by_family: dict[str, float] = dict.fromkeys(FAMILIES, 0.0)
    for j, column in enumerate(model.columns):
        if column.flow is Flow.CELLS and column.node >= 0 and column.family:
            by_family[column.family] += float(values[j])
    by_family = {f: round(v, 9) for f, v in by_family.items()}
    # Marginal GWh per unit of each node's capacity.
    marginal = np.zeros(len(model.nodes))
    for j, node in model._single:
        marginal[node] = max(0.0, -float(col_dual[j]))
    for row, node in model._shared:
        marginal[node] = max(0.0, -float(row_dual[row]))
    output = np.zeros(len(model.nodes))
    for j, column in enumerate(model.columns):
        if column.node >= 0:
            output[column.node] += values[j]
    facilities = pd.DataFrame({
        "facility_id": [n.facility_id for n in model.nodes],
        "name": [n.name for n in model.nodes],
        "stage": [n.stage for n in model.nodes],
        "flow": [n.flow.value for n in model.nodes],
        "unit": [FLOWS[n.flow].unit for n in model.nodes],
        "capacity": capacity,
        "output": output,
        "gwh_per_unit": marginal,
    })
    facilities["utilisation"] = np.where(capacity > 0, output / np.maximum(capacity, 1e-12),
                                         np.nan)
    facilities["binding"] = ((marginal * np.maximum(capacity, 1.0) > TOLERANCE)
                             & (capacity > 0) & (output >= capacity - 1e-6 * (1 + capacity)))
    made: dict[Flow, float] = {}
    for j, column in enumerate(model.columns):
        if column.node >= 0:
            out = model._output_flow(column)
            made[out] = made.get(out, 0.0) + float(values[j])
    imports = {flow: float(values[j]) for j, flow in model._imports}
    activity = model.matrix @ values
    flows = pd.DataFrame([{
        "flow": flow.value, "stage": FLOWS[flow].stage.value, "unit": FLOWS[flow].unit,
        "made": made.get(flow, 0.0),
        "imported": imports.get(flow, 0.0),
        "surplus": float(activity[row]),
        "gwh_per_unit": max(0.0, float(row_dual[row])),
    } for flow, row in model.rows.items()])
    facilities["gain_1pct"] = facilities["gwh_per_unit"] * facilities["capacity"] * 0.01
    stages = (facilities[facilities["binding"]]
              .groupby(["stage", "flow", "unit"], as_index=False)
              .agg(gain_1pct=("gain_1pct", "sum"), facilities=("facility_id", "count"),
                   capacity=("capacity", "sum"))
              .sort_values("gain_1pct", ascending=False, kind="stable")
              .reset_index(drop=True))
    return YearBound(year, float(cells), by_family, flows, facilities, stages)
