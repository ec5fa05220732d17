"""Funding and policy over time: the dated rows of the compliance rule files (thresholds,
phase-outs, credit dates, defense bars, tariffs, programs, list editions), each with its
citation, and the atlas funding awards with recipient, facility, country and source."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TypeVar

from bmtc.compliance.content_rules import load_content_30d
from bmtc.compliance.credit45x import Amount, Cap, Phaseout, load_credit
from bmtc.compliance.defense import load_defense
from bmtc.compliance.macr import load_macr
from bmtc.compliance.policy import load_lists, load_programs, programs_for
from bmtc.compliance.schedule import Dated
from bmtc.compliance.tariff import load_tariff_rules
from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import partial_date_start

T = TypeVar("T", bound=Dated)


@dataclass(frozen=True)
class PolicyEvent:
    """One dated rule row: the day it starts to apply (and stops, if it does)."""

    group: str
    day: date
    until: date | None
    rule_id: str
    label: str
    citation: str
    url: str | None
    confidence: str


@dataclass(frozen=True)
class Award:
    award_id: str
    recipient_id: str
    recipient: str
    facility: str | None
    country: str | None
    program: str
    program_ids: tuple[str, ...]
    agency: str
    instrument: str
    amount: float | None
    currency: str
    status: str
    announced: str | None
    day: date | None
    source_url: str
    publisher: str | None
    source_as_of: str | None
    notes: str | None


@dataclass(frozen=True)
class FundingView:
    events: tuple[PolicyEvent, ...]
    awards: tuple[Award, ...]
    programs: tuple[str, ...]
    countries: tuple[str, ...]

    def filtered(self, program: str | None, country: str | None) -> tuple[Award, ...]:
        return tuple(a for a in self.awards
                     if (not program or a.program == program)
                     and (not country or a.country == country))


def _event(group: str, row: Dated, label: str) -> PolicyEvent:
    return PolicyEvent(group, row.effective_from, row.effective_to, row.id, label,
                       row.citation, row.url, row.confidence.value)


def _events(group: str, rows: Iterable[T], label: Callable[[T], str]) -> list[PolicyEvent]:
    return [_event(group, row, label(row)) for row in rows]


def _credit_label(row: Dated) -> str:
    if isinstance(row, Phaseout):
        return f"45X {row.series}: {row.pct:g}% of the credit"
    if isinstance(row, Amount):
        amount = (f"${row.per_kwh:g}/kWh" if row.per_kwh is not None
                  else f"{row.pct_of_cost:g}% of production cost")
        return f"45X {row.series.replace('_', ' ')}: {amount}"
    if isinstance(row, Cap):
        return f"45X cap: at most {row.max_ratio:g} times"
    return f"45X bar: {row.series.replace('_', ' ')}"


def _note_label(prefix: str) -> Callable[[Dated], str]:
    def label(row: Dated) -> str:
        return f"{prefix} {row.series}" + (f": {row.note}" if row.note else "")
    return label


@cache
def policy_events() -> tuple[PolicyEvent, ...]:
    """Every dated row of the compliance files, oldest first. The files are bundled and
    read once; they change only with a new release."""
    credit = load_credit()
    content = load_content_30d()
    tariffs = load_tariff_rules()
    programs = load_programs()
    found = [
        *_events("MACR thresholds", load_macr().threshold,
                 lambda r: f"{r.series}: threshold {r.threshold_pct:g}%"),
        *_events("MACR grandfathering and safe harbors",
                 (*load_macr().grandfather, *load_macr().safe_harbor), _note_label("MACR")),
        *_events("45X credit", (*credit.amount, *credit.phaseout, *credit.cap, *credit.bar),
                 _credit_label),
        *_events("30D credit", content.rows(), _note_label("30D")),
        *_events("Defense procurement", load_defense().row,
                 lambda r: f"{r.kind}: {r.title}"),
        *_events("Section 301 tariffs", tariffs.section301.rule,
                 lambda r: f"{r.series}: {r.rate_pct:g}%"),
        *_events("AAM anti-dumping case", tariffs.aam.event,
                 lambda r: r.kind.replace("-", " ")),
        *_events("Funding programs", programs.program,
                 lambda r: f"{r.title} ({r.agency})"),
        *_events("Critical-mineral lists", load_lists().edition,
                 lambda r: r.title),
        *(PolicyEvent("Funding rounds", partial_date_start(r.announced), None, r.id, r.title,
                      r.citation, r.url, r.confidence.value) for r in programs.round),
    ]
    return tuple(sorted(found, key=lambda e: (e.day, e.group, e.rule_id)))


def funding_view(dataset: Dataset) -> FundingView:
    facilities = {f.id: f for f in dataset.facilities}
    orgs = {o.id: o for o in (*dataset.operator_stubs, *dataset.organizations)}
    awards = []
    for award in dataset.funding:
        site = facilities.get(award.facility_id) if award.facility_id else None
        org = orgs.get(award.recipient_id)
        # A facility fixes where the money goes; otherwise the recipient's home country.
        country = site.country if site else (
            org.country_hq or org.country_incorporation if org else None)
        awards.append(Award(
            award.id, award.recipient_id, org.name if org else award.recipient_id,
            site.name if site else None, country, award.program, programs_for(award.program),
            award.agency, award.instrument.value, award.amount, award.currency,
            award.award_status.value, award.announced,
            partial_date_start(award.announced) if award.announced else None,
            str(award.source.url), award.source.publisher, award.source.as_of, award.notes))
    awards.sort(key=lambda a: (a.day or date.max, a.recipient))
    return FundingView(policy_events(), tuple(awards),
                       tuple(sorted({a.program for a in awards})),
                       tuple(sorted({a.country for a in awards if a.country})))
