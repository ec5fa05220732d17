"""A facility's card as plain records: facts, owners, status history and funding, each with
its source resolved to publisher and date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bmtc.domain.model import Facility, Source


@dataclass(frozen=True)
class SourceRef:
    url: str
    publisher: str | None
    as_of: str | None

@dataclass(frozen=True)
class FacilityCard:
    """Everything the card shows about one facility, each fact with its source."""

    facility: Facility
    operator_name: str | None
    operator_country: str | None
    capacity: str | None
    location: str
    owners: list[dict[str, Any]]
    history: list[dict[str, Any]]
    funding: list[dict[str, Any]]
    sources: list[SourceRef]

def source_index(sources: Iterable[Source]) -> dict[str, Source]:
    return {s.id: s for s in sources}

def facility_card(card: Mapping[str, Any], sources: Mapping[str, Source]) -> FacilityCard:
    """The store's facility card with every source resolved to its publisher and date."""
    facility: Facility = card["facility"]
    operator = card["operator"]
    refs: dict[str, SourceRef] = {}

    def ref(source_id: str | None, url: str | None) -> SourceRef | None:
        known = sources.get(source_id or "")
        if known is not None:
            found = SourceRef(known.url, known.publisher, known.as_of)
        elif url:
            found = SourceRef(url, None, None)
        else:
            return None
        refs.setdefault(f"{found.url}|{found.publisher}|{found.as_of}", found)
        return found

    ref(facility.source.id, facility.source.url)
    if operator is not None:
        ref(operator.source.id, operator.source.url)
    owners = [{"id": r["owner_id"], "name": r["other_name"], "country": r["other_country"],
               "kind": str(r["kind"]).replace("_", " "), "stake": _stake(r),
               "since": r["valid_from"], "until": r["valid_to"],
               "source": ref(r["source_id"], r.get("source_url"))} for r in card["owners"]]
    history = [{"status": str(h["status"]).replace("_", " "), "as_of": h["as_of"],
                "notes": h["notes"], "source": ref(h["source_id"], h.get("source_url"))}
               for h in card["status_history"]]
    funding = [{"program": a["program"], "agency": a["agency"],
                "instrument": str(a["instrument"]).replace("_", " "),
                "amount": _money(a["amount"], a["currency"]),
                "award_status": a["award_status"], "announced": a["announced"],
                "source": ref(a["source_id"], None)} for a in card["funding"]]
    return FacilityCard(
        facility=facility, operator_name=operator.name if operator else None,
        operator_country=operator.country_hq if operator else None,
        capacity=_capacity(facility), location=_location(facility), owners=owners,
        history=history, funding=funding,
        sources=sorted(refs.values(), key=lambda s: (s.publisher or s.url, s.as_of or "")))

def _stake(row: Mapping[str, Any]) -> str | None:
    # Stakes are kept as the source gave them: a number, a range ("25-50") or a bound (">50").
    parts = [f"{row[key]}% {label}"
             for key, label in (("equity_pct", "equity"), ("voting_pct", "voting"))
             if row.get(key) not in (None, "")]
    return ", ".join(parts) or None

def _money(amount: float | None, currency: str) -> str | None:
    return None if amount is None else f"{amount:,.0f} {currency}"

def _capacity(facility: Facility) -> str | None:
    capacity = facility.capacity
    if capacity is None:
        return None
    text = f"{capacity.value:,.6g} {capacity.unit} of {capacity.basis.replace('_', ' ')}"
    return text + (f" ({capacity.year})" if capacity.year else "")

def _location(facility: Facility) -> str:
    place = ", ".join(p for p in (facility.city, facility.state_province, facility.country)
                      if p)
    if facility.latitude is None or facility.longitude is None:
        return place + " (no coordinates recorded)"
    precision = f", {facility.coordinates_precision} precision" if (
        facility.coordinates_precision) else ""
    return f"{place} ({facility.latitude:.2f}, {facility.longitude:.2f}{precision})"
