"""The brief's later sections: who controls the capacity, how concentrated it is, the policy
it sits under, and how the numbers were made."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from bmtc import analytics_service
from bmtc.analysis.realisation import load_realisation
from bmtc.brief import Bullets, Paragraph, Row, Section, Sentence, Table, number, percent
from bmtc.brief.charts import bars
from bmtc.brief.sections import figure, label, realisation_ref, rules_ref
from bmtc.compliance.credit45x import load_credit
from bmtc.compliance.macr import load_macr
from bmtc.compliance.schedule import Dated
from bmtc.domain.vocab import Confidence
from bmtc.screening.rules import rule_set

if TYPE_CHECKING:
    from bmtc.brief.build import Facts

# How many controlling countries the control chart names; the rest are drawn as "other".
NAMED_COUNTRIES = 6


def _with_capacity(frame: Any) -> Any:
    return frame[frame["total"] > 0]


def _names(keys: Sequence[tuple[str, str]]) -> list[str]:
    # One flow can show at two stages (lithium chemicals made at a mine and at a refinery).
    flows = Counter(flow for _, flow in keys)
    return [label(flow) + (f" ({stage})" if flows[flow] > 1 else "") for stage, flow in keys]


def foreign_control(f: Facts) -> Section:
    summary = _with_capacity(f.control.summary)
    shares = f.control.shares
    weight: dict[str, float] = defaultdict(float)
    records = shares.to_dict("records")
    for row in records:
        weight[str(row["key"])] += float(row["share"])
    named = sorted(weight, key=lambda k: (-weight[k], k))[:NAMED_COUNTRIES]
    flows = [(str(a), str(b)) for a, b in zip(summary["stage"], summary["flow"], strict=True)]
    series: dict[str, list[float]] = {k: [0.0] * len(flows) for k in [*named, "other"]}
    for row in records:
        at = (str(row["stage"]), str(row["flow"]))
        if at in flows:
            key = str(row["key"]) if row["key"] in named else "other"
            series[key][flows.index(at)] += 100 * float(row["share"])
    refs = (f.atlas_ref, realisation_ref(f))
    chart = bars(_names(flows), series, salt="control", value_format=".0f",
                 label=f"share of plausible {f.target} capacity, % by controlling country")
    rules = rule_set(f.ruleset)
    names = {x.id: x for x in f.dataset.facilities}
    covered_rows = []
    for r in f.covered[f.covered["covered"] > 0].to_dict("records"):
        sites = [names[i] for i in r["facilities"] if i in names]
        covered_rows.append(Row(
            (r["stage"], label(r["flow"]), r["unit"], number(r["total"]), number(r["covered"]),
             percent(r["share"]), "; ".join(s.name for s in sites)),
            tuple(f.citations.cite(s.source.publisher or s.source.url, s.source.url,
                                   s.source.as_of) for s in sites)))
    nations = ", ".join(rules.covered_nations)
    rules_cite = rules_ref(f)
    blocks: list[Any] = [
        Paragraph((Sentence(
            "Control follows recorded ownership, joint-venture and licence chains up to the "
            "ultimate controllers; a facility's capacity is split among the countries of "
            "those controllers in proportion to their control.", refs),)),
        figure(chart, f"Who controls North American plausible capacity in {f.target}, by "
                      "country of the ultimate controller.", refs),
        Paragraph((Sentence(
            f"Covered nations under {rules.id} are {nations}. Located in North America but "
            "controlled from a covered nation:", (rules_cite,)),)),
    ]
    if covered_rows:
        blocks.append(Table(
            f"Capacity in {f.target} controlled from covered nations ({nations})",
            ("Stage", "Flow", "Unit", "Total", "Covered", "Share", "Facilities"),
            tuple(covered_rows), (f.atlas_ref, rules_cite), numeric=0))
    else:
        blocks.append(Paragraph((Sentence("none in any flow.", (f.atlas_ref,)),)))
    return Section("control", "Foreign control", tuple(blocks))


def hhi(f: Facts) -> Section:
    control = _with_capacity(f.control.summary).set_index(["stage", "flow"])
    location = f.by_location.summary.set_index(["stage", "flow"])["hhi"]
    operator = f.by_operator.summary.set_index(["stage", "flow"])["hhi"]
    keys = [(str(stage), str(flow)) for stage, flow in control.index]
    rows = tuple(Row((stage, label(flow), f"{location.get((stage, flow), float('nan')):,.0f}",
                      f"{operator.get((stage, flow), float('nan')):,.0f}",
                      f"{control.loc[(stage, flow), 'hhi']:,.0f}",
                      ", ".join(f"{k} {v:.0%}" for k, v in
                                list(control.loc[(stage, flow), "top"])[:3])))
                 for stage, flow in keys)
    hhi_ref = f.citations.cite(f.control.citation)
    refs = (f.atlas_ref, hhi_ref)
    chart = bars(_names(keys), {
        "by operator": [float(operator.get(k, 0.0)) for k in keys],
        "by controlling country": [float(control.loc[k, "hhi"]) for k in keys]},
        salt="hhi", stacked=False, label="Herfindahl-Hirschman index (0-10,000)",
        reference=(1800.0, "highly concentrated"))
    return Section("hhi", "Concentration (HHI)", (
        Paragraph((Sentence(
            "The Herfindahl-Hirschman index sums the squared percentage shares of plausible "
            f"{f.target} capacity: 10,000 is a single holder; above 1,800 a market is highly "
            "concentrated.", refs),)),
        figure(chart, f"Concentration of plausible {f.target} capacity by flow.", refs),
        Table(f"HHI of plausible capacity in {f.target}",
              ("Stage", "Flow", "By location", "By operator", "By controller",
               "Top controlling countries"), rows, refs, numeric=0),
    ), new_page=False)


def _schedule(f: Facts, rows: Sequence[Dated], years: Sequence[int], name: str,
              value: Callable[[Any], str]) -> tuple[Row, ...]:
    """One row per series, one column per year: the value in force on 1 January, with the
    weakest confidence among the rows used and their citations."""
    found = []
    for series in sorted({r.series for r in rows}):
        cells, used = [], []
        for year in years:
            day = date(year, 1, 1)
            row = next((r for r in rows if r.series == series and r.effective_from <= day
                        and (r.effective_to is None or day <= r.effective_to)), None)
            cells.append("" if row is None else value(row))
            used += [row] if row is not None and row not in used else []
        weakest = max((r.confidence for r in used), key=list(Confidence).index)
        found.append(Row((series, *cells, weakest.value), tuple(
            f.cite_input(f"compliance/{name}", r.citation, r.url) for r in used)))
    return tuple(found)


def policy(f: Facts) -> Section:
    macr, credit = load_macr(), load_credit()
    macr_years = range(min(t.effective_from.year for t in macr.threshold),
                       max(t.effective_from.year for t in macr.threshold) + 1)
    phase_years = range(2029, 2035)
    macr_rows = _schedule(f, macr.threshold, macr_years, "macr.toml",
                          lambda t: f"{t.threshold_pct:.0f}%")
    phase_rows = _schedule(f, credit.phaseout, phase_years, "credit-45x.toml",
                           lambda p: f"{p.pct:.0f}%")
    rules = rule_set(f.ruleset)
    nations = ", ".join(rules.covered_nations)
    return Section("policy", "Policy context", (
        Paragraph((
            Sentence(f"Screening applies {rules.title}, in force from {rules.effective_from}; "
                     f"an operator is excluded when a covered nation ({nations}) controls it "
                     "under the rule set's tests.", (rules_ref(f),)),
            Sentence("Since the law of 4 July 2025, the 45X, 45Y and 48E credits are also "
                     "denied when material assistance from prohibited foreign entities pushes "
                     "the material-assistance cost ratio below the year's threshold.",
                     (f.cite_input("compliance/macr.toml", macr.threshold[0].citation),)))),
        Table("Material-assistance cost ratio thresholds by year (a ratio below the "
              "threshold denies the credit)",
              ("Series", *map(str, macr_years), "Confidence"), macr_rows, numeric=0),
        Table("45X advanced manufacturing credit: share of the credit left, by year of sale",
              ("Series", *map(str, phase_years), "Confidence"), phase_rows, numeric=0),
    ))


def methods(f: Facts) -> Section:
    realisation = load_realisation()
    leads = {t.status: t.years for t in realisation.lead_time}
    weights = tuple(Row((w.status.value.replace("_", " "), f"{w.weight:.2f}",
                         "" if w.low is None else f"{w.low:.2f}-{w.high:.2f}",
                         str(leads.get(w.status, "")), w.confidence),
                        (f.cite_input("reference/realisation.toml", w.source, w.url),))
                    for w in realisation.weight)
    missing = analytics_service.unquantified_by_stage(f.prepared)
    inputs = tuple(Row((name, version, when)) for name, (version, when) in f.versions.items())
    return Section("methods", "Methods and caveats", (
        Bullets((
            Sentence(f.as_of_note, (f.atlas_ref,)),
            Sentence(f"{sum(missing.values())} live facilities have no usable capacity figure "
                     "and count as zero in every total; capacity is therefore understated "
                     "where they would produce.", (f.atlas_ref,)),
            Sentence("Realisation weights are assumptions, not measured completion rates: "
                     "the plausible figures move with them (ranges below).",
                     (realisation_ref(f),)),
            Sentence("Foreign control and HHI use the default weights; the gap, pipeline and "
                     f"network bound use the scenario's ({f.scenario.name}).",
                     (realisation_ref(f),)),
            Sentence("The snapshot hash is SHA-256 over every atlas record as loaded (sorted, "
                     "key-sorted JSON), the reference, rule and compliance files below, and "
                     "the scenario settings: the same snapshot and options give the same "
                     "document."),
        ), "How to read the numbers"),
        Table("Realisation weights and lead times by status",
              ("Status", "Weight", "Range", "Lead time (years)", "Confidence"), weights,
              numeric=0),
        Table("Reference data in the snapshot", ("File", "Version", "As of"), inputs,
              numeric=0),
    ), new_page=False)
