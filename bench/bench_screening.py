"""Benchmark of screening at registry scale: the batch engine, a per-entity baseline, and
re-screening after one holding changes.

Run from the project root:

    .venv/bin/python bench/bench_screening.py            # 3,000,000 entities

It generates a deterministic synthetic registry (`registry_generator.py`), then

- screens it with `screen_all` under feoc-doe-2024 and pfe-2025 in their default
  (control-chain) mode and feoc-doe-2024 in multiplicative mode (the longest part;
  `--skip-multiplicative` leaves it out), with the seconds and the peak memory of each: the two
  default-mode runs together have a 60 s target, the process a 6 GB one;
- builds the multiplicative FEOC screening a second time as a `Rescreener` and compares the
  statuses;
- builds a `Rescreener` per rule set on the big registry and times `change_holding` for random
  holdings (updated, added, removed) and for the companies with the most parties below them
  (target 1 s each), then checks the result against a full `screen_all` of the changed
  registry (`--no-verify` skips that);
- on a 50,000-entity registry from the same generator, times a straightforward per-entity
  networkx traversal (each entity's ancestors, then the governments' attributed share iterated
  over them in plain Python) against the batch engine computing the same share, and against a
  whole `screen_all`: target at least 50x.

Figures are compared with bench/screening_baseline.json (`--save-baseline` writes it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import scipy
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

import bmtc.screening.batch_feoc as batch_feoc
from benchlib import Figure, load_baseline, print_figures
from bmtc.screening.attribution import MAX_ROUNDS
from bmtc.screening.batch import make_gate, stake_matrices
from bmtc.screening.bulk import screen_all
from bmtc.screening.frontier import propagate
from bmtc.screening.incremental import FEOC_LABELS, PFE_LABELS, Rescreener
from bmtc.screening.registry import Registry
from bmtc.screening.rules import Mode, RuleSet, rule_set
from registry_generator import DEFAULT_ENTITIES, DEFAULT_SEED, describe, generate_registry

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_PATH = BENCH_DIR / "screening_baseline.json"

AS_OF = "2025-12-31"
SAMPLE_ENTITIES = 50_000
TARGET_SCREEN_S = 60.0
TARGET_PEAK_GB = 6.0
TARGET_SPEEDUP = 50.0
TARGET_CHANGE_S = 1.0


# --- measuring ----------------------------------------------------------------------------



def peak_gb() -> float:
    # ru_maxrss is in kilobytes on Linux: the process's peak resident set so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


@contextmanager
def clock() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


# --- the batch engine at scale --------------------------------------------------------------


Statuses = dict[str, npt.NDArray[np.int8]]


def codes(status: npt.NDArray[np.str_], labels: tuple[str, ...]) -> npt.NDArray[np.int8]:
    """Status labels as indexes into `labels`: a byte per entity instead of 68."""
    found = np.zeros(status.size, dtype=np.int8)
    for index, label in enumerate(labels):
        found[status == label] = index
    return found


def bench_batch(reg: Registry, multiplicative: bool) -> tuple[list[Figure], Statuses]:
    figures = []
    statuses: Statuses = {}
    feoc, pfe = rule_set("feoc-doe-2024"), rule_set("pfe-2025")
    runs: list[tuple[str, RuleSet, Mode, tuple[str, ...]]] = [
        ("feoc_control_chain", feoc, "control-chain", FEOC_LABELS),
        ("pfe_control_chain", pfe, "control-chain", PFE_LABELS),
    ]
    if multiplicative:
        runs.append(("feoc_multiplicative", feoc, "multiplicative", FEOC_LABELS))
    for name, rules, mode, labels in runs:
        with clock() as took:
            result = screen_all(reg, rules, AS_OF, mode)
        figures.append(Figure(f"screen_{name}", took[0], "s", detail=_counts(result.status)))
        statuses[name] = codes(result.status, labels)
        del result
        print(f"  {rules.id} {mode}: {took[0]:.2f} s, peak {peak_gb():.2f} GB")
        if name == "pfe_control_chain":
            figures.append(
                Figure(
                    "screen_default_modes_total",
                    figures[0].value + figures[1].value,
                    "s",
                    TARGET_SCREEN_S,
                    detail={"runs": ["feoc-doe-2024 control-chain", "pfe-2025 control-chain"]},
                )
            )
    figures.append(Figure("peak_memory_screening", peak_gb(), "GB", TARGET_PEAK_GB))
    if multiplicative:
        # The same screening as a Rescreener's first run.
        with clock() as took:
            rescreener = Rescreener(reg, feoc, AS_OF, "multiplicative")
        same = bool(np.array_equal(rescreener.outcome, statuses["feoc_multiplicative"]))
        print(
            f"  feoc-doe-2024 multiplicative as a Rescreener build: "
            f"{took[0]:.2f} s, same statuses: {same}"
        )
        figures.append(
            Figure(
                "rescreener_build_feoc_multiplicative",
                took[0],
                "s",
                detail={"same_statuses_as_screen_all": same},
            )
        )
        del rescreener
    return figures, statuses


def _counts(status: npt.NDArray[np.str_]) -> dict[str, int]:
    labels, counts = np.unique(status, return_counts=True)
    return {str(k): int(v) for k, v in zip(labels, counts, strict=True)}


# --- the per-entity baseline ----------------------------------------------------------------


def networkx_graph(reg: Registry, metrics: tuple[str, ...]) -> nx.DiGraph:
    """One edge per holder and subject, low stakes summed as the sparse matrices sum them."""
    stakes: dict[tuple[int, int], list[float]] = {}
    lows = [reg.stakes[m][0] for m in metrics]
    for i, (h, s) in enumerate(zip(reg.holder.tolist(), reg.subject.tolist(), strict=True)):
        values = stakes.setdefault((h, s), [0.0] * len(metrics))
        for k, low in enumerate(lows):
            values[k] += float(low[i])
    graph = nx.DiGraph()
    graph.add_nodes_from(range(reg.size))
    graph.add_edges_from((h, s, {"stake": v}) for (h, s), v in stakes.items())
    return graph


def per_entity_government_share(
    graph: nx.DiGraph, government_of: dict[int, int], target: int, gate: Callable[[float], float]
) -> float:
    """The strongest share any covered government attributes to `target`: its ancestors from
    networkx, then the attribution equations iterated over them in plain Python."""
    nodes = nx.ancestors(graph, target) | {target}
    present = {government_of[v] for v in nodes if v in government_of}
    best = 0.0
    for nation in present:
        shares = {v: (0.0, 0.0, 0.0) for v in nodes}
        for _ in range(MAX_ROUNDS):
            weight = {}
            for v in nodes:
                if v in government_of:
                    weight[v] = 1.0 if government_of[v] == nation else 0.0
                else:
                    weight[v] = gate(max(shares[v]))
            fresh = {}
            changed = 0.0
            for v in nodes:
                totals = [0.0, 0.0, 0.0]
                for holder, data in graph.pred[v].items():
                    w = weight[holder]
                    if w:
                        for k, stake in enumerate(data["stake"]):
                            totals[k] += w * stake
                value = (min(1.0, totals[0]), min(1.0, totals[1]), min(1.0, totals[2]))
                changed = max(changed, *(abs(a - b) for a, b in zip(value, shares[v], strict=True)))
                fresh[v] = value
            shares = fresh
            if changed <= 1e-13:
                break
        best = max(best, *shares[target])
    return best


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Shortest of a few runs: sub-second timings are noisy, long ones are not repeated."""
    times = []
    for _ in range(runs):
        with clock() as took:
            work()
        times.append(took[0])
    return min(times)


def bench_baseline(entities: int, seed: int) -> list[Figure]:
    reg = generate_registry(entities, seed)
    rules = rule_set("feoc-doe-2024")
    metrics = ("board", "voting", "equity")
    mode: Mode = "control-chain"

    def gate(share: float) -> float:
        return 1.0 if rules.control_crosses(share) else 0.0

    government_of = {
        int(i): int(reg.government_of[i]) for i in np.flatnonzero(reg.government_of >= 0)
    }
    with clock() as built:
        graph = networkx_graph(reg, metrics)
    with clock() as walked:
        found = np.array(
            [per_entity_government_share(graph, government_of, x, gate) for x in range(reg.size)]
        )
    # The same quantity from the batch engine: one propagation, the low bound.
    stakes = stake_matrices(reg, metrics).lo
    sources = np.zeros((reg.size, len(reg.covered)))
    members = np.flatnonzero(reg.government_of >= 0)
    sources[members, reg.government_of[members]] = 1.0
    blocked = reg.government_of >= 0
    batch_gate = make_gate(mode, rules.control_threshold_pct, rules.control_threshold_inclusive)
    low = propagate(stakes, sources, blocked, batch_gate)
    agree = int((np.abs(found - low.max(axis=1)) <= 1e-9).sum())
    one = best_of(3, lambda: propagate(stakes, sources, blocked, batch_gate))
    control = best_of(3, lambda: batch_feoc.government_control(reg, rules, mode, metrics))
    screened = best_of(3, lambda: screen_all(reg, rules, AS_OF, mode))
    print(
        f"  networkx per-entity walk: {walked[0]:.2f} s (graph built in {built[0]:.2f} s); "
        f"shares agree with the batch engine for {agree:,} of {reg.size:,} entities"
    )
    print(
        f"  batch: one propagation {one * 1000:.1f} ms, "
        f"government_control {control * 1000:.1f} ms, screen_all {screened * 1000:.1f} ms"
    )
    detail = {
        "entities": reg.size,
        "holding_edges": int(reg.holder.size),
        "networkx_walk_s": round(walked[0], 3),
        "networkx_graph_build_s": round(built[0], 3),
        "batch_propagate_low_s": round(one, 4),
        "batch_government_control_s": round(control, 4),
        "batch_screen_all_s": round(screened, 4),
        "shares_agree": agree,
    }
    return [
        Figure("networkx_walk_sample", walked[0], "s", detail=detail),
        Figure("batch_propagate_low_sample", one, "s"),
        Figure("batch_screen_all_sample", screened, "s"),
        Figure("speedup_same_quantity", walked[0] / one, "x", TARGET_SPEEDUP, True),
        Figure("speedup_vs_screen_all", walked[0] / screened, "x", TARGET_SPEEDUP, True),
    ]


# --- re-screening after one change ----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: str
    holder: int
    subject: int
    values: dict[str, tuple[float, float]] | None


def change_cases(reg: Registry, rng: np.random.Generator, count: int) -> list[Case]:
    """Random holdings updated, added and removed, then new state holdings in the companies
    with the most parties below them."""
    metrics = tuple(reg.stakes)
    cases = []
    for i in range(count):
        edge = int(rng.integers(reg.holder.size))
        holder, subject = int(reg.holder[edge]), int(reg.subject[edge])
        stake = float(rng.choice([0.1, 0.3, 0.55, 1.0]))
        kind = ("update", "add", "remove")[i % 3]
        if kind == "add":
            holder = int(rng.integers(reg.size))
        values = None if kind == "remove" else {m: (stake, stake) for m in metrics}
        cases.append(Case(kind, holder, subject, values))
    n = reg.size
    graph = sp.csr_matrix((np.ones(reg.holder.size), (reg.holder, reg.subject)), shape=(n, n))
    out_degree = np.bincount(reg.holder, minlength=n)
    held = np.flatnonzero(np.bincount(reg.subject, minlength=n) > 0)
    candidates = held[np.argsort(out_degree[held])[-100:]]
    below = [breadth_first_order(graph, int(c), return_predecessors=False).size for c in candidates]
    states = np.flatnonzero(reg.government_of >= 0)
    for index in np.argsort(below)[-2:][::-1]:
        state = int(states[rng.integers(states.size)])
        cases.append(Case("hub", state, int(candidates[index]), {m: (0.6, 0.6) for m in metrics}))
    return cases


def bench_changes(
    reg: Registry, cases: list[Case], verify: bool, statuses: Statuses
) -> list[Figure]:
    figures = []
    for rules_id in ("feoc-doe-2024", "pfe-2025"):
        rules = rule_set(rules_id)
        with clock() as built:
            rescreener = Rescreener(reg, rules, AS_OF)
        short = rules_id.split("-")[0]
        same = bool(np.array_equal(rescreener.outcome, statuses[f"{short}_control_chain"]))
        print(
            f"  {rules_id}: Rescreener built in {built[0]:.2f} s (same statuses as screen_all: "
            f"{same}), peak {peak_gb():.2f} GB"
        )
        rows: list[dict[str, Any]] = []
        for case in cases:
            with clock() as took:
                moved = rescreener.change_holding(case.holder, case.subject, case.values)
            rows.append(
                {
                    "kind": case.kind,
                    "holder": case.holder,
                    "subject": case.subject,
                    "seconds": round(took[0], 5),
                    "downstream": rescreener.last.downstream,
                    "rederived": rescreener.last.rederived,
                    "status_changed": int(moved.size),
                }
            )
            print(
                f"    {case.kind:<6} {case.holder:>8} -> {case.subject:<8} "
                f"{took[0] * 1000:8.1f} ms  downstream {rescreener.last.downstream:>7,}  "
                f"re-derived {rescreener.last.rederived:>7,}  status changed {moved.size:>6,}"
            )
        verified: bool | None = None
        if verify:
            full = screen_all(rescreener.registry(), rules, AS_OF)
            verified = bool(
                np.array_equal(codes(full.status, rescreener.labels), rescreener.outcome)
            )
            print(f"    a full screen_all of the changed registry agrees: {verified}")
            del full
        random_rows = [r for r in rows if r["kind"] != "hub"]
        hub_rows = [r for r in rows if r["kind"] == "hub"]
        figures.append(
            Figure(
                f"rescreener_build_{short}",
                built[0],
                "s",
                detail={"same_statuses_as_screen_all": same},
            )
        )
        figures.append(
            Figure(
                f"change_holding_{short}_random_max",
                max(r["seconds"] for r in random_rows),
                "s",
                TARGET_CHANGE_S,
                detail={
                    "median_s": statistics.median(r["seconds"] for r in random_rows),
                    "cases": random_rows,
                    "verified_against_full_rerun": verified,
                },
            )
        )
        if hub_rows:
            figures.append(
                Figure(
                    f"change_holding_{short}_hub_max",
                    max(r["seconds"] for r in hub_rows),
                    "s",
                    TARGET_CHANGE_S,
                    detail={"cases": hub_rows},
                )
            )
        del rescreener
    return figures


# --- reporting ----------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "GB":
        return f"{value:.2f} GB"
    return f"{value:.1f}x"



def profile_feoc(reg: Registry, rules: RuleSet, mode: Mode, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    screen_all(reg, rules, AS_OF, mode)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entities", type=int, default=DEFAULT_ENTITIES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--sample", type=int, default=SAMPLE_ENTITIES, help="entities for the networkx baseline"
    )
    parser.add_argument("--changes", type=int, default=9, help="random holdings to change")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the full screen_all of the changed registry that checks the re-screening",
    )
    parser.add_argument(
        "--skip-multiplicative",
        action="store_true",
        help="skip the multiplicative FEOC run (the longest part)",
    )
    parser.add_argument("--no-baseline-walk", action="store_true", help="skip the networkx walk")
    parser.add_argument(
        "--save-baseline", action="store_true", help="write bench/screening_baseline.json"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one FEOC run (untimed)"
    )
    parser.add_argument(
        "--fail-on-miss", action="store_true", help="exit with status 1 if a figure misses"
    )
    args = parser.parse_args(argv)
    if not 1_000 <= args.entities <= 20_000_000:
        parser.error("--entities must be between 1,000 and 20,000,000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Progress lines should show up as they happen when the output goes to a file.
        sys.stdout.reconfigure(line_buffering=True)
    started = time.perf_counter()
    with clock() as took:
        reg = generate_registry(args.entities, args.seed)
    facts = describe(reg)
    print(
        f"Generated a registry of {facts['entities']:,} entities and "
        f"{facts['holding_edges']:,} holdings in {took[0]:.1f} s: {facts}"
    )
    print("\nBatch engine (screen_all):")
    figures, statuses = bench_batch(reg, not args.skip_multiplicative)
    if args.profile:
        profile_feoc(reg, rule_set("feoc-doe-2024"), "control-chain", 25)

    print(f"\nRe-screening after one change ({args.changes} random holdings and 2 hubs):")
    cases = change_cases(reg, np.random.default_rng(args.seed + 1), args.changes)
    figures += bench_changes(reg, cases, not args.no_verify, statuses)
    figures.append(Figure("peak_memory_total", peak_gb(), "GB", TARGET_PEAK_GB))
    del reg

    if not args.no_baseline_walk:
        print(f"\nBaseline on {args.sample:,} entities (networkx per-entity walk):")
        figures += bench_baseline(args.sample, args.seed)

    baseline = load_baseline(BASELINE_PATH)
    if baseline is not None:
        base_entities = baseline.get("meta", {}).get("registry", {}).get("entities")
        if base_entities != facts["entities"]:
            print(
                f"\nNote: the baseline was measured on {base_entities} entities, this run on "
                f"{facts['entities']}; its ratios are not comparable."
            )
    print()
    print_figures(figures, baseline, _fmt)
    results = {
        "meta": {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "networkx": nx.__version__,
            "platform": platform.platform(),
            "seed": args.seed,
            "as_of": AS_OF,
            "registry": facts,
            "baseline_sample": args.sample,
        },
        "results": {fig.name: fig.as_dict() for fig in figures},
    }
    if args.save_baseline:
        BASELINE_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nBaseline written to {BASELINE_PATH}")
    elif baseline is None:
        print("\nNo baseline (bench/screening_baseline.json); --save-baseline writes one.")
    print(f"\nTotal benchmark time {time.perf_counter() - started:.1f} s")
    missed = [f.name for f in figures if f.ok is False]
    if missed:
        print(f"Missed targets: {', '.join(missed)}")
    return 1 if args.fail_on_miss and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
