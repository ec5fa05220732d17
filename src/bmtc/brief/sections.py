"""The brief's sections, in reading order. Each writer turns engine results into sentences,
tables and charts, citing as it goes: sources are numbered in the order they are first cited,
so the writers must run in the order the sections are printed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bmtc import analytics_service
from bmtc.analysis.capacity import summarise
from bmtc.analysis.flows import FLOWS, Flow
from bmtc.analysis.gap import find_preset
from bmtc.brief import Bullets, Figure, Paragraph, Row, Section, Sentence, Table, number, percent
from bmtc.brief.charts import Chart, bars, lines
from bmtc.domain.vocab import Stage, Status

if TYPE_CHECKING:
    from bmtc.brief.build import Facts

POLICY_NAMES = {"na": "North American facilities only",
                "non-feoc": "Excluding operators found to be FEOC",
                "allied": "With imports from allied partners"}


def label(flow: str) -> str:
    return FLOWS[Flow(flow)].label


def figure(chart: Chart, caption: str, refs: Sequence[int]) -> Figure:
    return Figure(chart.svg, caption, chart.alt, tuple(refs))


def _status_label(status: str) -> str:
    return status.replace("_", " ")


def demand_refs(f: Facts) -> tuple[int, ...]:
    urls = {p.source: p.url for name in f.scenario.demand.presets
            for p in find_preset(name).point}
    return tuple(f.cite_input("reference/demand_presets.toml", s, urls.get(s))
                 for s in f.demand.sources)


def realisation_ref(f: Facts) -> int:
    return f.cite_input("reference/realisation.toml", "Realisation weights by status")


def rules_ref(f: Facts) -> int:
    from bmtc.screening.rules import rule_set

    rules = rule_set(f.ruleset)
    return f.cite_input(f"rules/{f.ruleset}.toml", f"{rules.title}: {rules.citation}",
                        rules.source_url)


def conversion_refs(f: Facts, text: Any) -> tuple[int, ...]:
    sources = [s.strip() for s in str(text).split("|") if s.strip() and text == text]
    return tuple(f.cite_input("reference/conversions.toml", s) for s in sources)


def _cells(f: Facts) -> dict[str, Any]:
    found = f.gap[f.gap["flow"] == "cells"]
    return dict(found.iloc[0]) if len(found) else {}


def summary(f: Facts) -> Section:
    atlas = f.atlas_ref
    ds = f.dataset
    status = Counter(x.status.value for x in ds.facilities)
    country = Counter(x.country for x in ds.facilities)
    other = status["paused"] + status["cancelled"] + status["closed"]
    cells = _cells(f)
    upstream = f.gap[(f.gap["flow"] != "cells") & f.gap["self_sufficiency"].notna()]
    weakest = upstream.sort_values("self_sufficiency").head(3)
    short = int((upstream["self_sufficiency"] < 1).sum())
    bound = {p: r.year(f.target).cells_gwh for p, r in f.bounds.items()}
    covered = f.covered[f.covered["flow"] == "cells"]
    concentrated = f.control.summary[f.control.summary["total"] > 0]
    high = int((concentrated["hhi"] > 1800).sum())
    rules = rules_ref(f)
    items = [
        Sentence(f"The atlas records {len(ds.facilities)} facilities from mine to recycling "
                 f"({country['US']} in the United States, {country['CA']} in Canada, "
                 f"{country['MX']} in Mexico): {status['operating']} operating, "
                 f"{status['under_construction']} under construction, {status['announced']} "
                 f"announced and {other} paused, cancelled or closed.", (atlas,)),
        Sentence(f"Under the scenario \u201c{f.scenario.title}\u201d, demand in {f.target} is "
                 f"{number(f.demand.gwh)} GWh of cells; plausible cell capacity is "
                 f"{number(float(cells.get('plausible', 0.0)))} GWh, "
                 f"{percent(cells.get('self_sufficiency'))} of the requirement.",
                 (atlas, *demand_refs(f), realisation_ref(f))),
        Sentence(f"{short} of {len(upstream)} upstream flows fall short of their {f.target} "
                 "requirement; the weakest are " + ", ".join(
                     f"{label(str(r['flow']))} ({percent(float(r['self_sufficiency']))})"
                     for r in weakest.to_dict("records")) + ".",
                 (atlas, *conversion_refs(f, " | ".join(weakest["sources"].astype(str))))),
        Sentence(f"Counting only what North American plants can feed each other, the network "
                 f"supports at most {number(bound['na'])} GWh of cells in {f.target}; "
                 f"excluding operators found to be foreign entities of concern leaves "
                 f"{number(bound['non-feoc'])} GWh, and imports from allied partners raise it "
                 f"to {number(bound['allied'])} GWh.", (atlas, rules)),
        Sentence(f"{percent(float(covered['share'].sum()) if len(covered) else 0.0)} of "
                 f"plausible {f.target} cell capacity "
                 f"({number(float(covered['covered'].sum()))} GWh) is controlled from a "
                 "covered nation.", (atlas, rules)),
        Sentence(f"By controlling country, {high} of {len(concentrated)} flows with capacity "
                 "are highly concentrated (HHI above 1,800).",
                 (atlas, f.citations.cite(f.control.citation))),
    ]
    return Section("summary", "Executive summary", (
        Paragraph((Sentence(
            f"This brief sets the atlas of North American battery-supply-chain facilities "
            f"against the demand of one scenario in {f.target}. Every figure is computed from "
            "the pinned snapshot named on the title page and footnoted to its source."),)),
        Bullets(tuple(items), "Key figures"),
    ), new_page=False)


def atlas(f: Facts) -> Section:
    ds = f.dataset
    statuses = [s.value for s in Status]
    by_stage = Counter((x.stage.value, x.status.value) for x in ds.facilities)
    by_country = Counter((x.country, x.status.value) for x in ds.facilities)
    countries = sorted({x.country for x in ds.facilities},
                       key=lambda c: (c not in ("US", "CA", "MX"), ("US", "CA", "MX", c).index(c)
                                      if c in ("US", "CA", "MX") else 0, c))
    head = tuple(_status_label(s) for s in statuses)

    def rows(keys: Sequence[str], counts: Counter[tuple[str, str]]) -> tuple[Row, ...]:
        made = [Row((k, *(str(counts[(k, s)]) for s in statuses),
                     str(sum(counts[(k, s)] for s in statuses)))) for k in keys]
        totals = [sum(counts[(k, s)] for k in keys) for s in statuses]
        return (*made, Row(("total", *map(str, totals), str(sum(totals)))))

    stages = [s.value for s in Stage]
    chart = bars(stages, {_status_label(s): [by_stage[(g, s)] for g in stages]
                          for s in statuses}, salt="atlas", label="facilities")
    quantified = sum(1 for x in ds.facilities if x.capacity is not None)
    verified = sum(1 for x in ds.facilities if x.verified)
    return Section("atlas", "Atlas coverage", (
        Paragraph((Sentence(
            f"{len(ds.facilities)} facilities, {len(ds.organizations)} organizations and "
            f"{len(ds.relationships)} ownership, joint-venture, licence and offtake "
            f"relationships; {quantified} facilities state a capacity and {verified} rows were "
            "checked against their cited source.", (f.atlas_ref,)),)),
        figure(chart, "Facilities by stage and status.", (f.atlas_ref,)),
        Table("Facilities by stage and status", ("Stage", *head, "Total"),
              rows(stages, by_stage), (f.atlas_ref,), numeric=len(statuses) + 1),
        Table("Facilities by country and status", ("Country", *head, "Total"),
              rows(countries, by_country), (f.atlas_ref,), numeric=len(statuses) + 1),
    ))


def pipeline(f: Facts) -> Section:
    table = summarise(f.pipeline, ["stage", "flow", "year"])
    # Five year columns fit the page: the first year and the four up to the target.
    shown = [f.years[0], *[y for y in f.years[1:] if y <= f.target][-4:]]
    order = {s.value: i for i, s in enumerate(Stage)}
    rows = []
    groups = [(tuple(map(str, key)), group) for key, group in
              table.groupby(["stage", "flow", "unit"])]
    for (stage, flow, unit), group in sorted(groups, key=lambda item: (order[item[0][0]],
                                                                       item[0][1])):
        plausible = dict(zip(group["year"], group["plausible"], strict=True))
        nameplate = dict(zip(group["year"], group["announced"], strict=True))
        rows.append(Row((stage, label(flow), unit,
                         *(number(float(plausible.get(y, 0.0))) for y in shown),
                         number(float(nameplate.get(f.target, 0.0))))))
    cells = table[table["flow"] == "cells"].set_index("year")
    chart = lines(f.years, {
        "nameplate (announced)": [float(cells["announced"].get(y, 0.0)) for y in f.years],
        "plausible (weighted)": [float(cells["plausible"].get(y, 0.0)) for y in f.years],
    }, salt="pipeline", label="GWh of cells a year")
    refs = (f.atlas_ref, realisation_ref(f))
    weights = ", ".join(f"{_status_label(s.value)} {w:.0%}"
                        for s, w in f.prepared.pipeline.realisation.weights.items())
    return Section("pipeline", "Capacity pipeline by stage and year", (
        Paragraph((Sentence(
            "Nameplate capacity counts every project at its stated size from its start year; "
            f"plausible capacity weights each by its status ({weights}).", refs),
            Sentence("Projects with no start year start after a lead time for their status; "
                     "a capacity year later than the start ramps output linearly.", refs))),
        figure(chart, "Lithium-ion cell capacity in North America, nameplate and plausible.",
               refs),
        Table(f"Plausible capacity by flow and year, and nameplate in {f.target}",
              ("Stage", "Flow", "Unit", *map(str, shown), f"Nameplate {f.target}"),
              tuple(rows), refs, numeric=len(shown) + 1),
    ))


def gap(f: Facts) -> Section:
    frame = f.gap[f.gap["self_sufficiency"].notna()]
    refs = (f.atlas_ref, *demand_refs(f), realisation_ref(f))
    mix = ", ".join(f"{k} {v:.0%}" for k, v in f.scenario.mix.items())
    mix_ref = f.cite_input("reference/demand_presets.toml",
                           "Chemistry mix: " + " ".join(f.scenario.mix_source.split()))
    chart = bars([label(r) for r in frame["flow"]],
                 {"plausible capacity / requirement": [100 * float(v) for v in
                                                       frame["self_sufficiency"]]},
                 salt="gap", label="self-sufficiency, % (capped at 200)", limit=200.0,
                 value_format=".0f", reference=(100.0, "requirement met"))
    rows = tuple(Row((r["stage"], r["label"], r["unit"], number(r["requirement"]),
                      number(r["plausible"]), number(r["gap"]), percent(r["self_sufficiency"]),
                      str(r["confidence"]) if r["confidence"] == r["confidence"] else ""),
                     conversion_refs(f, r["sources"]))
                 for r in frame.to_dict("records"))
    missing = analytics_service.unquantified_by_stage(f.prepared)
    said = [Sentence(f"Demand of {number(f.demand.gwh)} GWh of cells in {f.target} "
                     f"({f.demand.basis}) is turned into tonnes at every stage with the "
                     f"scenario's chemistry mix ({mix}).", (*refs, mix_ref)),
            Sentence("The gap is plausible capacity minus the requirement; confidence is that "
                     "of the weakest conversion factor behind the row.")]
    if missing:
        said.append(Sentence("Facilities with no usable capacity figure count as zero: "
                             + ", ".join(f"{stage} {count}" for stage, count
                                         in sorted(missing.items())) + ".", (f.atlas_ref,)))
    return Section("gap", f"The gap in {f.target}", (
        Paragraph(tuple(said)),
        figure(chart, f"Self-sufficiency in {f.target}: plausible North American capacity as "
                      "a share of the requirement, by flow.", refs),
        Table(f"Requirement and plausible capacity in {f.target}",
              ("Stage", "Flow", "Unit", "Requirement", "Plausible", "Gap", "Self-sufficiency",
               "Confidence"), rows, refs, numeric=5),
    ))


def _explained(said: list[str]) -> list[str]:
    """The engine's lines with each list folded into the line that introduces it, and the
    pointers to the CLI's --json output dropped (the sources list does that job here)."""
    folded: list[str] = []
    for line in said:
        line = re.sub(r";? see --json for each", "", line)
        if line.startswith("- ") and folded:
            head = folded[-1]
            folded[-1] = f"{head} {line[2:]}" if head.endswith(":") else f"{head}; {line[2:]}"
        else:
            folded.append(line)
    return folded


def network(f: Facts) -> Section:
    refs = (f.atlas_ref, rules_ref(f),
            f.cite_input("reference/partner_groups.toml", "Partner groups for allied imports"),
            f.cite_input("reference/conversions.toml", "Conversion factors between stages"))
    unquantified = analytics_service.unquantified_by_stage(f.prepared)
    names = [POLICY_NAMES[p] for p in f.bounds]
    chart = bars(names, {"network bound": [r.year(f.target).cells_gwh for r in
                                           f.bounds.values()]},
                 salt="network", label=f"GWh of cells in {f.target}", value_format=",.1f",
                 reference=(f.demand.gwh, f"demand {number(f.demand.gwh)} GWh"), annotate=True)
    blocks: list[Any] = [
        Paragraph((Sentence(
            "The network bound is the most cells North America could make if every eligible "
            "plant ran at its plausible capacity and fed the next stage; a stage that binds "
            "caps everything downstream of it.", refs),)),
        figure(chart, f"Network bound in {f.target} under three sourcing policies, against "
                      "demand.", refs)]
    from bmtc.analysis.bound import explain

    said = {p: _explained(explain(r, f.target, unquantified)) for p, r in f.bounds.items()}
    # Caveats every policy repeats are printed once, after the three.
    shared = [line for line in said["na"][1:] if all(line in s for s in said.values())]
    for policy_id, found in said.items():
        blocks.append(Bullets(tuple(Sentence(s, (f.atlas_ref,)) for s in found
                                    if s not in shared), POLICY_NAMES[policy_id]))
    blocks.append(Bullets(tuple(Sentence(s, (f.atlas_ref,)) for s in shared),
                          "All three policies"))
    return Section("network", "The network bound", tuple(blocks))

