"""The capacity pipeline: every facility's capacity, on its flow's measure, year by year.

A facility counts from its start year (or, when the atlas gives none, from its status date plus
the lead time for its status), ramps linearly to nameplate when the atlas gives a later
capacity year, and is weighted by the realisation weight of its status. "Announced" capacity is
the nameplate sum; "plausible" is the weighted sum. Nothing here reads a store: the caller
passes facilities in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bmtc.analysis.conversions import ConversionsFile
from bmtc.analysis.flows import FLOWS, facility_flows
from bmtc.analysis.realisation import load_realisation
from bmtc.domain.model import Facility
from bmtc.domain.vocab import Status

DEFAULT_SPAN = 12
# An operating plant with no start year has been running as long as any horizon looks back.
ALWAYS = 1900


@dataclass(frozen=True)
class Realisation:
    """Weights and lead times a pipeline used; defaults come from `realisation.toml`."""

    weights: Mapping[Status, float]
    lead_times: Mapping[Status, int]
    source: str = "realisation.toml"

    @classmethod
    def default(cls) -> Realisation:
        data = load_realisation()
        return cls(data.weights(), data.lead_times(), f"realisation.toml {data.version}")

    def with_weights(self, changes: Mapping[Status, float], source: str) -> Realisation:
        return Realisation({**self.weights, **changes}, self.lead_times, source)


@dataclass
class Pipeline:
    """`frame`: one row per facility and year. `unconverted`: facilities whose capacity could
    not be put on a flow, with the reason (they are in no total)."""

    frame: pd.DataFrame
    unconverted: pd.DataFrame
    realisation: Realisation
    years: tuple[int, ...]
    notes: list[str] = field(default_factory=list)


def default_years(as_of_year: int, span: int = DEFAULT_SPAN) -> tuple[int, ...]:
    return tuple(range(as_of_year, as_of_year + span))


def effective_start(facility: Facility, lead_times: Mapping[Status, int]) -> tuple[int, bool]:
    """First year of output, and whether it was assumed (no start year in the atlas)."""
    if facility.start_year is not None:
        return facility.start_year, False
    if facility.status in (Status.OPERATING, Status.CLOSED):
        return ALWAYS, True
    as_of_year = int(str(facility.status_as_of)[:4])
    return as_of_year + lead_times.get(facility.status, 0), True


def ramp_fraction(years: np.ndarray, start: int, full_year: int | None) -> np.ndarray:
    """Share of nameplate reached in each year: 0 before start, linear to 1 at `full_year`."""
    if full_year is None or full_year <= start:
        return (years >= start).astype(float)
    steps = full_year - start + 1
    return np.clip((years - start + 1) / steps, 0.0, 1.0)


def _end_year(facility: Facility) -> int | None:
    # A closed plant ran until the status date.
    if facility.status is Status.CLOSED:
        return int(str(facility.status_as_of)[:4])
    return None


def pipeline(
    facilities: Iterable[Facility],
    years: Sequence[int],
    realisation: Realisation | None = None,
    conversions: ConversionsFile | None = None,
) -> Pipeline:
    facilities = list(facilities)
    realisation = realisation or Realisation.default()
    flows, unconverted = facility_flows(facilities, conversions)
    year_array = np.asarray(years, dtype=int)
    columns: dict[str, list[object]] = {k: [] for k in (
        "facility_id", "name", "operator_id", "stage", "flow", "unit", "basis", "country",
        "state_province", "status", "start_year", "start_assumed", "integrated", "families",
        "route", "captive")}
    nameplates: list[np.ndarray] = []
    weights: list[float] = []
    for facility in facilities:
        flow = flows.get(facility.id)
        if flow is None:
            continue
        start, assumed = effective_start(facility, realisation.lead_times)
        capacity_year = facility.capacity.year if facility.capacity else None
        share = ramp_fraction(year_array, start, capacity_year)
        end = _end_year(facility)
        if end is not None:
            share = np.where(year_array < end, share, 0.0)
        nameplates.append(flow.amount * share)
        weight = 1.0 if end is not None else realisation.weights[facility.status]
        weights.append(weight)
        for key, value in (
            ("facility_id", facility.id), ("name", facility.name),
            ("operator_id", facility.operator_id), ("stage", facility.stage.value),
            ("flow", flow.flow.value), ("unit", FLOWS[flow.flow].unit),
            ("basis", facility.capacity.basis if facility.capacity else None),
            ("country", facility.country), ("state_province", facility.state_province),
            ("status", facility.status.value), ("start_year", start),
            ("start_assumed", assumed), ("integrated", flow.integrated),
            ("families", "|".join(flow.families)), ("route", flow.route),
            ("captive", flow.captive),
        ):
            columns[key].append(value)
    count, span = len(nameplates), len(year_array)
    nameplate = np.vstack(nameplates) if nameplates else np.zeros((0, span))
    weight_array = np.asarray(weights, dtype=float)
    frame = pd.DataFrame({key: np.repeat(np.asarray(values, dtype=object), span)
                          for key, values in columns.items()})
    frame["year"] = np.tile(year_array, count)
    frame["nameplate"] = nameplate.reshape(-1)
    frame["weight"] = np.repeat(weight_array, span)
    frame["plausible"] = frame["nameplate"] * frame["weight"]
    frame = frame.astype({"year": int, "start_year": int, "start_assumed": bool,
                          "integrated": bool, "captive": bool})
    by_id = {f.id: f for f in facilities}
    missing = pd.DataFrame(
        [{"facility_id": u.facility_id, "stage": by_id[u.facility_id].stage.value,
          "status": by_id[u.facility_id].status.value, "reason": u.reason}
         for u in unconverted.values()],
        columns=["facility_id", "stage", "status", "reason"])
    return Pipeline(frame, missing, realisation, tuple(int(y) for y in year_array))


GROUPINGS = ("stage", "flow", "unit", "basis", "country", "state_province", "status",
             "operator_id", "facility_id", "year")


def summarise(frame: pd.DataFrame, by: Sequence[str] = ("stage", "flow", "unit", "year"),
              ) -> pd.DataFrame:
    """Nameplate ("announced") and plausible capacity summed by the given columns, with the
    number of facilities counted. Different flows are never summed together: `flow` and `unit`
    are always part of the grouping."""
    rest = [k for k in by if k != "year"]
    keys = list(dict.fromkeys([*rest, "flow", "unit", *(["year"] if "year" in by else [])]))
    for key in keys:
        if key not in frame.columns:
            raise ValueError(f"cannot group capacity by {key!r} (one of: {', '.join(GROUPINGS)})")
    counted = frame.assign(
        announced=frame["nameplate"].where(frame["status"] != "cancelled", 0.0),
        counted=(frame["nameplate"] > 0) & (frame["status"] != "cancelled"))
    grouped = counted.groupby(keys, dropna=False, sort=True)
    out = grouped.agg(announced=("announced", "sum"), plausible=("plausible", "sum"),
                      facilities=("counted", "sum"))
    return out.reset_index()
