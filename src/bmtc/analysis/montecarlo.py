"""Monte Carlo over project realisation and delay.

Each draw decides, for every unfinished project, whether it is built (with the probability of
its status's realisation weight) and how many years it slips (a Poisson count with the mean
for its status). Capacity is then summed by flow and year for all draws at once; the network
bound is solved per draw for the years asked, each solve starting from the last basis. The
generator is seeded, so the same scenario and seed give the same percentiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bmtc.analysis.capacity import ALWAYS
from bmtc.analysis.network import NetworkModel
from bmtc.domain.vocab import Status

PERCENTILES = (10, 50, 90)


@dataclass(frozen=True)
class Projects:
    """The facilities a simulation draws over, as arrays (one entry per facility)."""

    ids: list[str]
    flows: list[str]
    status: list[str]
    amount: np.ndarray  # nameplate at full ramp
    start: np.ndarray
    full: np.ndarray  # year full nameplate is reached (== start when no ramp)
    end: np.ndarray  # first year of no output (closed plants), else a far year


def draw_capacity(projects: Projects, years: Sequence[int], weights: Mapping[str, float],
                  delays: Mapping[str, float], draws: int, rng: np.random.Generator,
                  ) -> np.ndarray:
    """Capacity per draw, facility and year: shape (draws, facilities, years)."""
    count = len(projects.ids)
    probability = np.array([1.0 if s == Status.CLOSED else weights.get(s, 0.0)
                            for s in projects.status])
    mean_delay = np.array([delays.get(s, 0.0) for s in projects.status])
    built = rng.random((draws, count)) < probability
    slip = rng.poisson(mean_delay, size=(draws, count))
    # A plant already running cannot slip.
    slip[:, projects.start <= ALWAYS] = 0
    year = np.asarray(years)[None, None, :]
    start = (projects.start[None, :] + slip)[:, :, None]
    steps = (projects.full - projects.start + 1)[None, :, None]
    share = np.clip((year - start + 1) / steps, 0.0, 1.0)
    share = np.where(year < projects.end[None, :, None], share, 0.0)
    capacity: np.ndarray = share * projects.amount[None, :, None] * built[:, :, None]
    return capacity


def flow_totals(capacity: np.ndarray, matrix: np.ndarray, names: Sequence[str],
                ) -> dict[str, np.ndarray]:
    """Sum (draws, facilities, years) into (draws, years) per flow, each facility counting
    towards flows with the weights of `matrix` (facilities x flows)."""
    summed = np.einsum("dfy,fk->dky", capacity, matrix)
    return {name: summed[:, k, :] for k, name in enumerate(names)}


def percentiles(samples: np.ndarray) -> dict[str, float]:
    values = np.percentile(samples, PERCENTILES)
    # Solver round-off (1e-15 GWh) is not a figure anyone should read.
    return {f"p{p}": round(float(v), 9) for p, v in zip(PERCENTILES, values, strict=True)}


def network_draws(model: NetworkModel, node_rows: np.ndarray, capacity: np.ndarray,
                  year_index: int, progress: Callable[[int], None] | None = None,
                  ) -> np.ndarray:
    """The bound in one year for every draw. `node_rows[i]` is the row of `capacity`
    (facilities axis) holding node i."""
    bounds = np.empty(capacity.shape[0])
    for draw in range(capacity.shape[0]):
        bounds[draw], _ = model.solve(capacity[draw, node_rows, year_index])
        if progress is not None:
            progress(1)
    return bounds
