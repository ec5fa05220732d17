"""Slip statistics from the atlas's status history: how projects actually moved between
statuses, and how long they took. These are the observed counterparts of the realisation
weights and delays, so an analyst can see whether the defaults are too kind."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from bmtc.domain.model import Facility, StatusEvent

_SETBACKS = frozenset({"paused", "cancelled"})


def _months(text: str) -> int:
    parts = str(text).split("-")
    return int(parts[0]) * 12 + (int(parts[1]) - 1 if len(parts) > 1 else 0)


@dataclass(frozen=True)
class SlipSummary:
    facilities_with_history: int
    transitions: pd.DataFrame  # from, to, count, median_months
    ever_under_construction: int
    set_back_after_construction: int
    ever_announced: int
    announced_reached_operation: int

    def rates(self) -> dict[str, float | None]:
        def ratio(part: int, whole: int) -> float | None:
            return part / whole if whole else None
        return {
            "setback_share_after_construction": ratio(self.set_back_after_construction,
                                                      self.ever_under_construction),
            "announced_to_operating_share": ratio(self.announced_reached_operation,
                                                  self.ever_announced),
        }


def slip_statistics(facilities: Iterable[Facility], events: Iterable[StatusEvent],
                    ) -> SlipSummary:
    """Transitions between consecutive dated statuses (history plus the current status)."""
    history: dict[str, list[tuple[int, str]]] = {}
    for event in events:
        history.setdefault(event.facility_id, []).append(
            (_months(str(event.as_of)), event.status.value))
    for facility in facilities:
        if facility.id in history:
            history[facility.id].append((_months(str(facility.status_as_of)),
                                         facility.status.value))
    rows = []
    built_then_set_back = ever_built = ever_announced = announced_ran = 0
    for sequence in history.values():
        sequence.sort()
        statuses = [s for _, s in sequence]
        for (m0, s0), (m1, s1) in itertools.pairwise(sequence):
            if s0 != s1:
                rows.append({"from": s0, "to": s1, "months": m1 - m0})
        if "under_construction" in statuses:
            ever_built += 1
            first = statuses.index("under_construction")
            built_then_set_back += bool(_SETBACKS & set(statuses[first + 1:]))
        if "announced" in statuses:
            ever_announced += 1
            first = statuses.index("announced")
            announced_ran += "operating" in statuses[first + 1:]
    frame = pd.DataFrame(rows, columns=["from", "to", "months"])
    transitions = (frame.groupby(["from", "to"], as_index=False)
                   .agg(count=("months", "size"), median_months=("months", "median"))
                   .sort_values("count", ascending=False, kind="stable")
                   .reset_index(drop=True))
    return SlipSummary(len(history), transitions, ever_built, built_then_set_back,
                       ever_announced, announced_ran)
