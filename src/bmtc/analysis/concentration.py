"""Concentration of capacity: shares, Herfindahl-Hirschman index (HHI) and top-N.

Shares are taken within one stage and flow in one year of the capacity pipeline; different
flows are never summed together. Capacity can be keyed by the country or state it lies in, by
operator, or by the country that ultimately controls the operator (each facility's capacity
split by its operator's control fractions, see `bmtc.analysis.control`).

HHI bands: the 2023 Merger Guidelines call a market with HHI above 1,800 highly concentrated
(U.S. DOJ & FTC Merger Guidelines (2023), §2.1) and define no lower band; the 1,000-1,800
"moderately concentrated" and below-1,000 "unconcentrated" bands are those of the 1992
Horizontal Merger Guidelines, §1.51, whose 1,800 line the 2023 guidelines restored.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from bmtc.analysis.control import UNKNOWN, ControlShare
from bmtc.analysis.flows import Flow
from bmtc.analysis.reference import REGIONS, Share, SharesFile
from bmtc.domain.vocab import NORTH_AMERICA, Material, Stage

Key = Literal["country", "state_province", "operator_id", "controller_country"]
Measure = Literal["plausible", "nameplate"]
KEYS: tuple[Key, ...] = ("country", "state_province", "operator_id", "controller_country")
HHI_MAX = 10_000.0
HIGHLY_CONCENTRATED = 1_800.0
MODERATELY_CONCENTRATED = 1_000.0
HHI_CITATION = ("U.S. DOJ & FTC Merger Guidelines (2023), §2.1 (HHI > 1,800 highly "
                "concentrated); lower bands: DOJ & FTC Horizontal Merger Guidelines (1992), §1.51")
_GROUP = ["stage", "flow", "unit"]
_SHARE_TOLERANCE = 1e-9


def hhi(shares: Iterable[float]) -> float:
    """HHI on the 0-10,000 scale from market shares given as fractions (0.25 for 25%).

    The shares must be non-negative and sum to at most 1; when they sum to less (some of the
    market unassigned) the result is the HHI of the listed part, a lower bound."""
    values = list(shares)
    if any(s < 0 for s in values):
        raise ValueError("shares must be non-negative")
    if sum(values) > 1 + _SHARE_TOLERANCE:
        raise ValueError(f"shares sum to {sum(values):.6g}, more than 1 (pass fractions)")
    return HHI_MAX * sum(s * s for s in values)


def hhi_band(value: float) -> str:
    """The concentration band of an HHI (see the module notes for the sources)."""
    if value > HIGHLY_CONCENTRATED:
        return "highly concentrated"
    if value >= MODERATELY_CONCENTRATED:
        return "moderately concentrated"
    return "unconcentrated"


@dataclass(frozen=True)
class Concentration:
    """`shares`: one row per stage, flow and key (value, share, rank). `summary`: one row per
    stage and flow (total, contributors, hhi, band, top (key, share) pairs, top_share)."""

    shares: pd.DataFrame
    summary: pd.DataFrame
    by: Key
    year: int
    measure: Measure
    citation: str = HHI_CITATION


def _measured(frame: pd.DataFrame, year: int, measure: Measure) -> pd.DataFrame:
    if measure not in ("plausible", "nameplate"):
        raise ValueError(f"measure must be 'plausible' or 'nameplate', not {measure!r}")
    rows = frame[(frame["year"] == year) & (frame["status"] != "cancelled")]
    return rows.assign(value=rows[measure].astype(float))


def _fractions(control: Mapping[str, ControlShare], operator: str) -> Mapping[str, float]:
    share = control.get(operator)
    return share.countries if share is not None else {UNKNOWN: 1.0}


def _keyed(rows: pd.DataFrame, by: Key,
           control: Mapping[str, ControlShare] | None) -> pd.DataFrame:
    if by not in KEYS:
        raise ValueError(f"cannot key concentration by {by!r} (one of: {', '.join(KEYS)})")
    if by != "controller_country":
        return rows.assign(key=rows[by].fillna(UNKNOWN).astype(str))
    if control is None:
        raise ValueError("keying by controller_country needs `control`")
    fractions = rows["operator_id"].map(lambda op: list(_fractions(control, str(op)).items()))
    exploded = rows.assign(split=fractions).explode("split", ignore_index=True)
    return exploded.assign(
        key=[country for country, _ in exploded["split"]],
        value=exploded["value"] * [f for _, f in exploded["split"]],
    ).drop(columns="split")


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    stages = {s.value: i for i, s in enumerate(Stage)}
    flows = {f.value: i for i, f in enumerate(Flow)}
    return frame.assign(_s=frame["stage"].map(stages), _f=frame["flow"].map(flows))


def concentration(frame: pd.DataFrame, by: Key, year: int, measure: Measure = "plausible",
                  top_n: int = 5, control: Mapping[str, ControlShare] | None = None,
                  ) -> Concentration:
    """Shares of capacity by `by` within each stage and flow of the pipeline `frame` in `year`.

    Cancelled projects count for nothing; keys with no capacity that year are left out."""
    keyed = _keyed(_measured(frame, year, measure), by, control)
    sums = keyed.groupby([*_GROUP, "key"], dropna=False, sort=False)["value"].sum()
    shares = sums[sums > 0].reset_index()
    shares["share"] = shares["value"] / shares.groupby(_GROUP)["value"].transform("sum")
    shares = _order(shares).sort_values(["_s", "_f", "share", "key"],
                                        ascending=[True, True, False, True])
    shares = shares.drop(columns=["_s", "_f"]).reset_index(drop=True)
    shares["rank"] = shares.groupby(_GROUP).cumcount() + 1
    summary_rows: list[dict[str, object]] = []
    for (stage, flow, unit), group in shares.groupby(_GROUP, sort=False):
        value = hhi(group["share"])
        top = group.head(top_n)
        summary_rows.append({
            "stage": stage, "flow": flow, "unit": unit, "total": float(group["value"].sum()),
            "contributors": len(group), "hhi": value, "band": hhi_band(value),
            "top": tuple(zip(top["key"], top["share"].astype(float), strict=True)),
            "top_share": float(top["share"].sum()),
        })
    summary = pd.DataFrame(summary_rows, columns=[
        "stage", "flow", "unit", "total", "contributors", "hhi", "band", "top", "top_share"])
    return Concentration(shares, summary, by, year, measure)


def covered_control(frame: pd.DataFrame, control: Mapping[str, ControlShare],
                    covered_nations: Collection[str], year: int,
                    measure: Measure = "plausible") -> pd.DataFrame:
    """Capacity located in North America but controlled from a covered nation, per stage and
    flow: the total, the part whose control lies in `covered_nations` (each facility counted
    by its operator's control fraction there), that part's share, and the facilities that
    contribute to it, largest first. Covered nations come from the caller, e.g. a rule set's
    `covered_nations`."""
    rows = _measured(frame, year, measure)
    rows = rows[rows["country"].isin(NORTH_AMERICA)]
    nations = frozenset(covered_nations)
    fraction = rows["operator_id"].map(
        lambda op: sum(f for c, f in _fractions(control, str(op)).items() if c in nations))
    rows = rows.assign(covered=rows["value"] * fraction.astype(float))
    out: list[dict[str, object]] = []
    for (stage, flow, unit), group in rows.groupby(_GROUP, sort=False):
        total = float(group["value"].sum())
        if total <= 0:
            continue
        covered = float(group["covered"].sum())
        named = group[group["covered"] > 0].sort_values(["covered", "facility_id"],
                                                        ascending=[False, True])
        out.append({"stage": stage, "flow": flow, "unit": unit, "total": total,
                    "covered": covered, "share": covered / total,
                    "facilities": tuple(str(f) for f in named["facility_id"])})
    result = pd.DataFrame(out, columns=["stage", "flow", "unit", "total", "covered", "share",
                                        "facilities"])
    if result.empty:
        return result
    ordered = _order(result).sort_values(["_s", "_f"])
    return ordered.drop(columns=["_s", "_f"]).reset_index(drop=True)


@dataclass(frozen=True)
class GlobalConcentration:
    """HHI of the countries the reference data lists for a stage and material. `hhi_listed`
    is a lower bound when `coverage` < 1 (the rest of world output is unassigned); `hhi_upper`
    assumes the rest is one more country."""

    stage: Stage
    material: Material | None
    year: int
    shares: tuple[tuple[str, float], ...]
    coverage: float
    hhi_listed: float
    hhi_upper: float
    band_listed: str
    sources: tuple[str, ...]


def _pick(rows: list[Share]) -> list[Share]:
    # Several sources may give one country; keep the one from the source that covers the most
    # countries, so the listed shares come from as few tables as possible.
    by_source: dict[str, int] = {}
    for row in rows:
        by_source[row.source] = by_source.get(row.source, 0) + 1
    chosen: dict[str, Share] = {}
    for row in sorted(rows, key=lambda r: (-by_source[r.source], r.id)):
        chosen.setdefault(row.country, row)
    return sorted(chosen.values(), key=lambda r: (-r.fraction(), r.country))


def global_concentration(shares_file: SharesFile, stage: Stage, material: Material | None,
                         up_to: int = 2025, scope: str | None = None) -> GlobalConcentration:
    """World concentration at a stage from the reference global shares: the latest year up to
    `up_to` (projections left out), country rows only, whole-stage rows only (as
    `SharesFile.top`), optionally one `scope`."""
    rows = [s for s in shares_file.share if s.stage is stage and s.material is material
            and s.year <= up_to and s.country not in REGIONS and not s.subset
            and (scope is None or s.scope == scope)]
    if not rows:
        raise KeyError(f"no {stage} country shares for {material}")
    latest = max(s.year for s in rows)
    picked = _pick([s for s in rows if s.year == latest])
    fractions = [s.fraction() for s in picked]
    total = sum(fractions)
    if total > 1:
        fractions = [f / total for f in fractions]
    coverage = min(total, 1.0)
    listed = hhi(fractions)
    return GlobalConcentration(
        stage=stage, material=material, year=latest,
        shares=tuple((s.country, f) for s, f in zip(picked, fractions, strict=True)),
        coverage=coverage, hhi_listed=listed,
        hhi_upper=listed + HHI_MAX * (1 - coverage) ** 2, band_listed=hhi_band(listed),
        sources=tuple(dict.fromkeys(s.source for s in picked)),
    )
