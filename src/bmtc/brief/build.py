"""Assembles the brief from a loaded atlas: pins the snapshot, narrows the atlas to what was
known on the as-of date, runs the engines once and hands the results to the section writers.

Nothing here reads the clock: the edition date is the newest date in the data, and screening
runs on the as-of date, so one snapshot with one set of options gives one document.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import tomllib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from importlib.resources import files

import pandas as pd

from bmtc import analytics_service
from bmtc.analysis.bound import BoundReport
from bmtc.analysis.concentration import Concentration
from bmtc.analysis.gap import DemandYear
from bmtc.analysis.scenario import Scenario
from bmtc.analysis.sourcing import Policy, Sourcing
from bmtc.brief import (
    TITLE,
    Block,
    Brief,
    Bullets,
    Citations,
    Paragraph,
    Reference,
    Section,
    Sentence,
    Table,
    context,
    sections,
)
from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import parse_partial_date
from bmtc.domain.model import Facility, StatusEvent

RULESET = "feoc-doe-2024"
POLICIES: tuple[Policy, ...] = ("na", "non-feoc", "allied")
# Every file the engines behind the brief read; each is hashed into the snapshot.
INPUT_FILES = (("reference", None), ("rules", None),
               ("compliance", ("macr.toml", "credit-45x.toml")))
AS_OF_NOTE = (
    "Facts as of {day}: each facility takes its latest dated status on or before that date "
    "and facilities with no status dated by then are left out; ownership holdings and list "
    "entries count only if in force on {end} (by their valid-from and valid-to dates), "
    "funding awards only if announced by then or undated, and screening verdicts are taken "
    "on {end}. Capacity figures, start years, products and locations are the values in the "
    "current atlas edition, not as first reported; the reference data (demand, conversions, "
    "rules) is the edition hashed into the snapshot.")
CURRENT_NOTE = (
    "Facts as of {day}, the date of the atlas edition: every facility with its current status, "
    "holdings and list entries in force on {end} (the last day of that period), and screening "
    "verdicts taken on {end}.")


# The section writers, in reading order: sources are numbered as they are first cited.
SECTIONS: tuple[Callable[[Facts], Section], ...] = (
    sections.summary, sections.atlas, sections.pipeline, sections.gap, sections.network,
    context.foreign_control, context.hhi, context.policy, context.methods)


class BriefError(ValueError):
    """Options the brief cannot be built with, with the option named."""


@dataclass(frozen=True)
class Snapshot:
    sha256: str
    inputs: tuple[tuple[str, str, str], ...]  # file, version, as-of


def _input_files() -> list[tuple[str, bytes]]:
    found = []
    for folder, names in INPUT_FILES:
        root = files("bmtc") / "data" / folder
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml") and (names is None or entry.name in names):
                found.append((f"{folder}/{entry.name}", entry.read_bytes()))
    return found


def snapshot(dataset: Dataset, scenario: Scenario) -> Snapshot:
    """SHA-256 over every record of the dataset as loaded (each as key-sorted JSON, records
    sorted, so store row order does not matter), the reference and rule files the engines
    read, and the scenario settings (a scenario may come from a file outside the package)."""
    digest = hashlib.sha256()
    for item in fields(dataset):
        value = getattr(dataset, item.name)
        records = value if isinstance(value, list) else [value]
        lines = sorted(json.dumps(r.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                       for r in records if r is not None)
        digest.update(f"#{item.name}\n".encode())
        digest.update("".join(line + "\n" for line in lines).encode())
    inputs = []
    for name, content in _input_files():
        digest.update(f"#{name}\n".encode() + content)
        meta = tomllib.loads(content.decode("utf-8"))
        inputs.append((name, str(meta.get("version", "")),
                       str(meta.get("as_of", meta.get("effective_from", "")))))
    digest.update(b"#scenario\n" + scenario.model_dump_json().encode())
    return Snapshot(digest.hexdigest(), tuple(inputs))


def last_day(partial: str) -> str:
    """The last calendar day a partial date covers: "2026-02" -> "2026-02-28"."""
    parts = partial.split("-")
    if len(parts) == 3:
        return partial
    year = int(parts[0])
    month = int(parts[1]) if len(parts) == 2 else 12
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _known(dated: str | None, end: str) -> bool:
    # Partial dates compare on their common prefix: "2026" is known by 2026-02-28.
    if dated is None:
        return True
    size = min(len(dated), len(end))
    return dated[:size] <= end[:size]


def as_of_view(dataset: Dataset, day: str) -> Dataset:
    """The atlas narrowed to what it records as known on `day` (see AS_OF_NOTE)."""
    end = last_day(day)
    history: dict[str, list[StatusEvent]] = defaultdict(list)
    for event in dataset.status_events:
        history[event.facility_id].append(event)
    facilities: list[Facility] = []
    events: list[StatusEvent] = []
    for facility in dataset.facilities:
        known = [e for e in history[facility.id] if _known(e.as_of, end)]
        if _known(facility.status_as_of, end):
            facilities.append(facility)
        elif known:
            latest = max(known, key=lambda e: e.as_of)
            known.remove(latest)
            facilities.append(facility.model_copy(
                update={"status": latest.status, "status_as_of": latest.as_of}))
        events.extend(known)
    kept = {f.id for f in facilities}
    info = dataset.info.model_copy(update={"as_of": day}) if dataset.info else None
    return replace(
        dataset, info=info, facilities=facilities,
        status_events=[e for e in events if e.facility_id in kept],
        relationships=[r for r in dataset.relationships if r.in_force(end)],
        list_memberships=[m for m in dataset.list_memberships if m.in_force(end)],
        funding=[a for a in dataset.funding if _known(a.announced, end)
                 and (a.facility_id is None or a.facility_id in kept)])


@dataclass
class Facts:
    """What the sections print: engine results for one snapshot, scenario and as-of date."""

    dataset: Dataset
    scenario: Scenario
    target: int
    years: tuple[int, ...]
    day: str
    as_of_note: str
    screening_day: str
    demand: DemandYear
    gap: pd.DataFrame
    prepared: analytics_service.Prepared
    pipeline: pd.DataFrame
    bounds: dict[Policy, BoundReport]
    control: Concentration
    covered: pd.DataFrame
    by_location: Concentration
    by_operator: Concentration
    citations: Citations
    atlas_ref: int
    ruleset: str
    versions: dict[str, tuple[str, str]]

    def cite_input(self, name: str, title: str | None = None, url: str | None = None) -> int:
        """A reference-data file, or one source it records, with the file's version."""
        version, as_of = self.versions[name]
        label = f"bmtc {name} {version}"
        return self.citations.cite(f"{title} ({label})" if title else label, url, as_of)


def _bounds(dataset: Dataset, scenario: Scenario, target: int,
            screening_day: str) -> dict[Policy, BoundReport]:
    """The network bound under each sourcing policy, operators screened on `screening_day`
    rather than on the day the brief is built."""
    return {policy: analytics_service.network(dataset, scenario, [target],
                                              Sourcing.named(policy, ruleset=RULESET),
                                              screening_day=screening_day)[0]
            for policy in POLICIES}


def facts(loaded: Dataset, scenario: Scenario, as_of: str | None, pinned: Snapshot) -> Facts:
    if loaded.info is None or not loaded.facilities:
        raise BriefError("the store holds no atlas; run `bmtc init` first")
    day = loaded.info.as_of if as_of is None else as_of
    dataset = loaded if as_of is None else as_of_view(loaded, as_of)
    if not dataset.facilities:
        raise BriefError(f"--as-of {as_of}: the atlas records no facility status by then")
    start = int(day[:4])
    target = max(scenario.year, start)
    years = tuple(range(start, max(target, start + 4) + 1))
    screening_day = last_day(day)
    gap, prepared = analytics_service.gap(dataset, scenario, [target])
    citations = Citations()
    info = loaded.info
    atlas_ref = citations.cite(
        f"{info.name}, version {info.version}, snapshot {pinned.sha256[:12]}; each facility "
        "row cites its own public source", None, info.as_of)
    control, covered = analytics_service.concentration_report(
        dataset, target, "controller_country", ruleset=RULESET)
    return Facts(
        dataset=dataset, scenario=scenario, target=target, years=years, day=day,
        as_of_note=(AS_OF_NOTE if as_of else CURRENT_NOTE).format(day=day, end=screening_day),
        screening_day=screening_day,
        demand=analytics_service.demand_for(scenario, [target])[0], gap=gap,
        prepared=prepared,
        pipeline=analytics_service.prepare(dataset, scenario, years).pipeline.frame,
        bounds=_bounds(dataset, scenario, target, screening_day),
        control=control, covered=covered,
        by_location=analytics_service.concentration_report(dataset, target, "country")[0],
        by_operator=analytics_service.concentration_report(dataset, target, "operator_id")[0],
        citations=citations, atlas_ref=atlas_ref, ruleset=RULESET,
        versions={name: (version, when) for name, version, when in pinned.inputs})


def _renumber(written: tuple[Section, ...], references: list[Reference],
              ) -> tuple[tuple[Section, ...], tuple[Reference, ...]]:
    """Footnotes renumbered in reading order: writers cite while they compute, which is not
    always the order a reader meets the marks."""
    order: dict[int, int] = {}

    def mark(refs: tuple[int, ...]) -> tuple[int, ...]:
        for old in refs:
            order.setdefault(old, len(order) + 1)
        return tuple(sorted({order[old] for old in refs}))

    def sentence(s: Sentence) -> Sentence:
        return replace(s, refs=mark(s.refs))

    def block(b: Block) -> Block:
        if isinstance(b, Paragraph):
            return replace(b, sentences=tuple(map(sentence, b.sentences)))
        if isinstance(b, Bullets):
            return replace(b, items=tuple(map(sentence, b.items)))
        if isinstance(b, Table):
            refs = mark(b.refs)
            return replace(b, refs=refs, rows=tuple(replace(r, refs=mark(r.refs))
                                                    for r in b.rows))
        return replace(b, refs=mark(b.refs))

    renumbered = tuple(replace(s, blocks=tuple(map(block, s.blocks))) for s in written)
    cited = sorted((order[r.number], r) for r in references if r.number in order)
    return renumbered, tuple(replace(r, number=new) for new, r in cited)


def build_brief(loaded: Dataset, scenario_name: str | None = None,
                as_of: str | None = None) -> Brief:
    """The brief for the atlas as loaded from a store. Raises BriefError, or the scenario
    loader's ScenarioError for an unknown scenario."""
    if as_of is not None:
        try:
            as_of = parse_partial_date(as_of)
        except ValueError as exc:
            raise BriefError(f"--as-of: {exc}") from None
    scenario = analytics_service.scenario_named(scenario_name)
    pinned = snapshot(loaded, scenario)
    try:
        found = facts(loaded, scenario, as_of, pinned)
    except BriefError:
        raise
    except (ValueError, KeyError) as exc:
        # The engines name what is missing (a preset that ends before the target year, say).
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise BriefError(f"scenario {scenario.name!r}: {message}") from None
    written, references = _renumber(tuple(write(found) for write in SECTIONS),
                                    found.citations.references)
    assert loaded.info is not None  # facts() refused an atlas without one
    edition = max([loaded.info.as_of, *(when for _, _, when in pinned.inputs if when)])
    return Brief(
        title=TITLE, edition=edition, facts_as_of=found.day, as_of_requested=as_of is not None,
        as_of_note=found.as_of_note, scenario=scenario.name, scenario_title=scenario.title,
        target_year=found.target,
        data_version=f"atlas {loaded.info.version} ({loaded.info.as_of})",
        snapshot=pinned.sha256,
        inputs=tuple((name, version) for name, version, _ in pinned.inputs),
        sections=written, references=references)

