"""Python API for notebooks: `bmtc.open()` returns an Atlas whose queries return DataFrames."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from bmtc import analytics_service
from bmtc.analysis.atlas_stats import capacity_totals, counts, quality_report
from bmtc.analysis.bound import BoundReport
from bmtc.analysis.capacity import default_years, summarise
from bmtc.analysis.concentration import Concentration, Key, Measure
from bmtc.analysis.scenario import Scenario
from bmtc.analysis.sourcing import ImportLimit, Policy, Sourcing
from bmtc.domain.model import DatasetInfo
from bmtc.domain.vocab import Stage
from bmtc.io.tables import (
    facility_to_row,
    funding_to_row,
    relationship_to_row,
    status_event_to_row,
)
from bmtc.screening.rules import Mode
from bmtc.screening.verdict import Determination
from bmtc.screening_service import screen_everyone, screen_party
from bmtc.service import ImportOutcome, export_path, import_path, initialise
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store


class Atlas:
    """The facility atlas in one store. Close it (or use `with`) when done."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> Atlas:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    @property
    def info(self) -> DatasetInfo | None:
        return self.store.info()

    def init(self) -> ImportOutcome:
        """Load the bundled atlas (idempotent)."""
        return initialise(self.store)

    def import_file(self, path: str | Path, fmt: str | None = None, *,
                    skip_invalid: bool = False, as_of: str | None = None) -> ImportOutcome:
        return import_path(self.store, Path(path), fmt, skip_invalid=skip_invalid, as_of=as_of)

    def export(self, path: str | Path, fmt: str, **filters: Any) -> int:
        return export_path(self.store, Path(path), fmt, FacilityFilter(**filters))

    def facilities(self, **filters: Any) -> pd.DataFrame:
        """Facilities as a DataFrame; filters: stage, country, state, status, material,
        product, operator, owner_country, limit."""
        rows = self.store.facility_rows(FacilityFilter(**filters))
        frame = pd.DataFrame(rows)
        return frame.drop(columns=["source_id", "updated_at"], errors="ignore")

    def facility(self, facility_id: str) -> dict[str, Any] | None:
        """The facility card: facility, operator, owners, status history, changes, funding."""
        return self.store.facility_card(facility_id)

    def organizations(self, country: str | None = None,
                      member: bool | None = None) -> pd.DataFrame:
        return pd.DataFrame(self.store.organization_rows(country=country, member=member))

    def organization(self, org_id: str) -> dict[str, Any] | None:
        return self.store.organization_card(org_id)

    def relationships(self) -> pd.DataFrame:
        return pd.DataFrame([relationship_to_row(r) for r in self.store.load().relationships])

    def status_history(self) -> pd.DataFrame:
        """Every dated status of every facility, current ones included."""
        dataset = self.store.load()
        rows = [status_event_to_row(e) for e in dataset.status_events]
        rows += [{"facility_id": f.id, "status": f.status.value, "as_of": f.status_as_of,
                  "source_url": f.source.url} for f in dataset.facilities]
        frame = pd.DataFrame(rows)
        return frame.sort_values(["facility_id", "as_of"]).reset_index(drop=True)

    def funding(self) -> pd.DataFrame:
        return pd.DataFrame([funding_to_row(a) for a in self.store.load().funding])

    def stats(self) -> pd.DataFrame:
        """Facility counts by stage, country and status."""
        return pd.DataFrame(counts(self.store.load().facilities))

    def capacity(self) -> pd.DataFrame:
        """Capacity totals by stage, country, status, unit and basis."""
        return pd.DataFrame([asdict(c) for c in capacity_totals(self.store.load().facilities)])

    def quality(self, stale_months: int = 12) -> dict[str, Any]:
        dataset = self.store.load()
        as_of = dataset.info.as_of if dataset.info else None
        return quality_report(dataset.facilities, dataset.organizations, as_of, stale_months)

    def screen(self, org: str, ruleset: str = "feoc-doe-2024", *, as_of: str | None = None,
               mode: Mode | None = None, taxable_year: int | None = None) -> Determination:
        """An explained FEOC / PFE verdict for one organization (id or name)."""
        return screen_party(self.store.load(), org, ruleset, as_of=as_of, mode=mode,
                            taxable_year=taxable_year)

    def screen_all(self, ruleset: str = "feoc-doe-2024", *, as_of: str | None = None,
                   mode: Mode | None = None, taxable_year: int | None = None) -> pd.DataFrame:
        """Every organization's status and test outcomes under one rule set."""
        return screen_everyone(self.store.load(), ruleset, as_of=as_of, mode=mode,
                               taxable_year=taxable_year)

    # -- analytics --------------------------------------------------------------------------
    def _scenario(self, scenario: str | Scenario | None) -> Scenario:
        if isinstance(scenario, Scenario):
            return scenario
        return analytics_service.scenario_named(scenario)

    def capacity_pipeline(self, years: list[int] | None = None,
                          scenario: str | Scenario | None = None,
                          by: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Capacity by facility and year (or summed `by` columns such as ("stage", "flow")),
        nameplate and weighted by status; a scenario supplies weights and disruptions."""
        dataset = self.store.load()
        as_of = int(str(dataset.info.as_of)[:4]) if dataset.info else 2026
        chosen = self._scenario(scenario)
        prepared = analytics_service.prepare(dataset, chosen, years or default_years(as_of),
                                             disrupted=scenario is not None)
        frame = prepared.pipeline.frame
        return summarise(frame, (*by, "year")) if by else frame

    def gap(self, scenario: str | Scenario | None = None,
            years: list[int] | None = None) -> pd.DataFrame:
        """Requirement, capacity, gap and self-sufficiency per flow and year."""
        chosen = self._scenario(scenario)
        frame, _prepared = analytics_service.gap(self.store.load(), chosen,
                                                 years or [chosen.year])
        return frame

    def network(self, year: int, sourcing: Policy | None = None, *,
                ruleset: str = "feoc-doe-2024", imports: list[str] | None = None,
                import_limit: ImportLimit = "unbounded", relax: list[str] | None = None,
                scenario: str | Scenario | None = None) -> BoundReport:
        """The network bound in `year`: `.summary()`, `.year(y).stages`, `.flows`,
        `.facilities` are DataFrames. Without `sourcing`, the scenario's own policy (with its
        import cuts) applies."""
        chosen = self._scenario(scenario)
        policy = None
        if sourcing is not None:
            base = Sourcing.named(sourcing, ruleset=ruleset, partner_groups=imports,
                                  import_limit=import_limit)
            policy = Sourcing(base.policy, base.ruleset, base.partner_groups,
                              base.import_limit,
                              relaxed_stages=tuple(Stage(s) for s in relax or ()))
        report, _prepared = analytics_service.network(self.store.load(), chosen, [year],
                                                      policy)
        return report

    def concentration(self, year: int, by: Key = "controller_country",
                      measure: Measure = "plausible", top_n: int = 5,
                      ruleset: str = "feoc-doe-2024") -> tuple[Concentration, pd.DataFrame]:
        """Shares and HHI per stage and flow (`.shares`, `.summary`), and the capacity in North
        America controlled from a covered nation."""
        return analytics_service.concentration_report(self.store.load(), year, by, measure,
                                                      top_n, ruleset)

    def simulate(self, scenario: str | Scenario | None = None, draws: int | None = None,
                 seed: int | None = None) -> analytics_service.SimulationResult:
        """Monte Carlo percentiles: `.capacity` and `.bounds` DataFrames."""
        return analytics_service.simulate(self.store.load(), self._scenario(scenario), draws,
                                          seed)

    def facility_table(self) -> pd.DataFrame:
        """All facilities in the interchange layout (the columns of facilities.csv)."""
        dataset = self.store.load()
        names = {o.id: o.name for o in dataset.organizations}
        return pd.DataFrame([facility_to_row(f, names.get(f.operator_id, f.operator_id))
                             for f in dataset.facilities])


def open(url: str | None = None) -> Atlas:
    """Open the store at `url` (default: $BMTC_DATABASE_URL, else the embedded SQLite file)."""
    return Atlas(Store(url))
