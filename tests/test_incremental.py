"""Re-screening after a holding changes gives exactly what screening the changed registry
from scratch gives: statuses, every test, and the list of parties whose status moved."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bmtc.screening.bulk import screen_all
from bmtc.screening.frontier import propagate
from bmtc.screening.incremental import Rescreener
from bmtc.screening.registry import LIST_BITS, NO, UNKNOWN, YES, Registry
from bmtc.screening.rules import MODES, Mode, rule_set

AS_OF = "2026-06-30"
RULE_SETS = ("feoc-doe-2024", "pfe-2025")
METRICS = ("equity", "voting", "board")
COVERED = ("CN", "RU", "IR", "KP")
# Stakes near the thresholds (25%, 40%, 50%) and their sums and products, so that small
# changes flip tests.
STAKES = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.51, 0.6, 0.75, 1.0)
BITS = tuple(LIST_BITS.values())

Change = tuple[int, int, dict[str, tuple[float, float]] | None]


def _arrays(rng: np.random.Generator, n: int, edges: int, side: int) -> Registry:
    """A random registry with every kind of fact and edge (cycles and duplicates included)."""
    government = np.where(rng.random(n) < 0.15, rng.integers(0, 4, n), -1).astype(np.int8)
    maybe = np.where(
        (government < 0) & (rng.random(n) < 0.1), rng.integers(0, 4, n), government
    ).astype(np.int8)
    listed = np.where(rng.random(n) < 0.1, rng.choice(BITS, n), 0).astype(np.uint16)
    holder = rng.integers(0, n, edges).astype(np.int32)
    subject = rng.integers(0, n, edges).astype(np.int32)
    stakes = {}
    for metric in METRICS:
        a, b = rng.choice(STAKES, edges), rng.choice(STAKES, edges)
        exact = rng.random(edges) < 0.7
        lo = np.where(exact, a, np.minimum(a, b))
        stakes[metric] = (lo, np.where(exact, a, np.maximum(a, b)))
    return Registry(
        ids=[f"p{i}" for i in range(n)],
        covered=COVERED,
        government_of=government,
        maybe_government_of=maybe,
        foreign=rng.integers(0, 3, n).astype(np.int8),
        jurisdiction=rng.choice([NO, NO, NO, UNKNOWN, YES], n).astype(np.int8),
        activity=rng.random(n) < 0.05,
        foreign_controlled_base=rng.choice([NO, NO, NO, UNKNOWN, YES], n).astype(np.int8),
        listed=listed,
        listed_on_list_date=np.where(rng.random(n) < 0.8, listed, 0).astype(np.uint16),
        problem=rng.random(n) < 0.03,
        holder=holder,
        subject=subject,
        stakes=stakes,
        debt_holder=rng.integers(0, n, side).astype(np.int32),
        debt_subject=rng.integers(0, n, side).astype(np.int32),
        debt_lo=rng.choice([0.0, 0.05, 0.1, 0.15], side),
        debt_hi=rng.choice([0.15, 0.2, 0.5], side),
        officer_holder=rng.integers(0, n, side).astype(np.int32),
        officer_subject=rng.integers(0, n, side).astype(np.int32),
        contract_holder=rng.integers(0, n, side).astype(np.int32),
        contract_subject=rng.integers(0, n, side).astype(np.int32),
        contract_effective=rng.integers(0, 3, side).astype(np.int8),
        contract_now=rng.random(side) < 0.7,
        contract_prior_year=rng.random(side) < 0.7,
    )


def _changes(rng: np.random.Generator, reg: Registry, count: int) -> list[Change]:
    found: list[Change] = []
    for _ in range(count):
        if rng.random() < 0.5 and reg.holder.size:
            edge = int(rng.integers(reg.holder.size))
            holder, subject = int(reg.holder[edge]), int(reg.subject[edge])
        else:
            holder, subject = (int(v) for v in rng.integers(0, reg.size, 2))
        values: dict[str, tuple[float, float]] | None = None
        if rng.random() < 0.7:
            values = {}
            for metric in METRICS:
                a, b = sorted(float(v) for v in rng.choice(STAKES, 2))
                values[metric] = (a, a) if rng.random() < 0.6 else (a, b)
        found.append((holder, subject, values))
    return found


def _check_sequence(reg: Registry, rules_id: str, mode: Mode, changes: list[Change]) -> None:
    rules = rule_set(rules_id)
    rescreener = Rescreener(reg, rules, AS_OF, mode)
    previous = screen_all(reg, rules, AS_OF, mode)
    _assert_same(rescreener, previous)
    for holder, subject, values in changes:
        moved = rescreener.change_holding(holder, subject, values)
        fresh = screen_all(rescreener.registry(), rules, AS_OF, mode)
        _assert_same(rescreener, fresh)
        expected = np.flatnonzero(fresh.status != previous.status)
        assert moved.tolist() == expected.tolist(), (holder, subject, values)
        previous = fresh


def _assert_same(rescreener: Rescreener, full: Any) -> None:
    mine = rescreener.result()
    assert mine.status.tolist() == full.status.tolist()
    assert set(mine.tests) == set(full.tests)
    for test_id, values in full.tests.items():
        assert mine.tests[test_id].tolist() == values.tolist(), test_id


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 12),
    st.sampled_from(RULE_SETS),
    st.sampled_from(MODES),
)
def test_random_changes_match_a_full_rerun(seed: int, n: int, rules_id: str, mode: Mode) -> None:
    rng = np.random.default_rng(seed)
    reg = _arrays(rng, n, int(rng.integers(0, 3 * n)), int(rng.integers(0, n)))
    _check_sequence(reg, rules_id, mode, _changes(rng, reg, 5))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rules_id", RULE_SETS)
def test_changes_high_in_a_larger_graph(rules_id: str, mode: Mode) -> None:
    # Layered ownership (each layer held from the one above, a few back edges closing
    # cycles) so that changes near the top recompute long chains.
    rng = np.random.default_rng(7)
    n = 400
    reg = _arrays(rng, n, 0, 40)
    layer = np.arange(n) // 40
    subject = np.repeat(np.arange(40, n), 2)
    holder = np.array([rng.integers(max(0, (layer[s] - 1) * 40), layer[s] * 40) for s in subject])
    back = rng.integers(40, n, 12)
    holder = np.concatenate((holder, back))
    subject = np.concatenate((subject, np.maximum(back - 80, 40)))
    equity = rng.choice(STAKES[4:], holder.size)
    reg.holder, reg.subject = holder.astype(np.int32), subject.astype(np.int32)
    reg.stakes = {m: (equity, np.maximum(equity, rng.choice(STAKES, holder.size))) for m in METRICS}
    changes: list[Change] = []
    for step in range(10):
        target = int(rng.integers(40, 120))  # second and third layers: long chains below
        holder_id = int(rng.integers(0, 40))
        stake = float(rng.choice(STAKES))
        changes.append(
            (holder_id, target, None if step % 4 == 3 else {m: (stake, stake) for m in METRICS})
        )
    changes += _changes(rng, reg, 6)
    _check_sequence(reg, rules_id, mode, changes)


def _cycle_registry() -> Registry:
    # 0: a covered government; 1 and 2 hold all of each other; the government holds 30% of 1.
    n = 3
    return Registry(
        ids=["gov", "a", "b"],
        covered=COVERED,
        government_of=np.array([0, -1, -1], np.int8),
        maybe_government_of=np.array([0, -1, -1], np.int8),
        foreign=np.array([YES, NO, NO], np.int8),
        jurisdiction=np.array([YES, NO, NO], np.int8),
        activity=np.zeros(n, bool),
        foreign_controlled_base=np.array([YES, NO, NO], np.int8),
        listed=np.zeros(n, np.uint16),
        listed_on_list_date=np.zeros(n, np.uint16),
        problem=np.zeros(n, bool),
        holder=np.array([0, 1, 2], np.int32),
        subject=np.array([1, 2, 1], np.int32),
        stakes={m: (np.array([0.3, 1.0, 1.0]), np.array([0.3, 1.0, 1.0])) for m in METRICS},
    )


def test_a_cycle_does_not_keep_control_once_its_cause_is_gone() -> None:
    rescreener = Rescreener(_cycle_registry(), rule_set("feoc-doe-2024"), AS_OF)
    assert [rescreener.status(i) for i in range(3)] == ["feoc", "feoc", "feoc"]
    moved = rescreener.remove_holding(0, 1)
    assert moved.tolist() == [1, 2]
    assert [rescreener.status(i) for i in range(3)] == ["feoc", "clear", "clear"]
    assert rescreener.last.downstream == 2
    moved = rescreener.change_holding(0, 2, {m: (0.25, 0.25) for m in METRICS})
    assert moved.tolist() == [1, 2]


def test_removing_an_absent_holding_changes_nothing() -> None:
    rescreener = Rescreener(_cycle_registry(), rule_set("pfe-2025"), AS_OF)
    before = rescreener.result().status.tolist()
    assert rescreener.remove_holding(2, 0).tolist() == []
    assert rescreener.result().status.tolist() == before


def test_bad_changes_are_refused() -> None:
    rescreener = Rescreener(_cycle_registry(), rule_set("feoc-doe-2024"), AS_OF)
    with pytest.raises(IndexError):
        rescreener.change_holding(0, 3, None)
    with pytest.raises(ValueError, match="exactly the metrics"):
        rescreener.change_holding(0, 1, {"equity": (0.1, 0.1)})
    with pytest.raises(ValueError, match="low <= high"):
        rescreener.change_holding(0, 1, {m: (0.5, 0.2) for m in METRICS})
    with pytest.raises(ValueError, match="takes effect"):
        Rescreener(_cycle_registry(), rule_set("pfe-2025"), "2024-01-01")


@pytest.mark.parametrize("mode", MODES)
def test_frontier_propagation_matches_plain_rounds(mode: Mode) -> None:
    from bmtc.screening.batch import make_gate, stake_matrices

    reg = _arrays(np.random.default_rng(3), 300, 700, 0)
    stakes = stake_matrices(reg, METRICS).lo
    sources = np.zeros((reg.size, 4))
    members = np.flatnonzero(reg.government_of >= 0)
    sources[members, reg.government_of[members]] = 1.0
    blocked = reg.government_of >= 0
    gate = make_gate(mode, 25, True)
    # Every party recomputed in every round, straight from the equations.
    shares = {m: np.zeros(sources.shape) for m in METRICS}
    for _ in range(1000):
        strongest = np.maximum.reduce([shares[m] for m in METRICS])
        weight = np.where(sources > 0, 1.0, gate(strongest) * ~blocked[:, None])
        fresh = {m: np.minimum(stakes[m] @ weight, 1.0) for m in METRICS}
        moved = max(float(np.abs(fresh[m] - shares[m]).max()) for m in METRICS)
        shares = fresh
        if moved <= 1e-13:
            break
    expected = np.maximum.reduce([shares[m] for m in METRICS])
    found = propagate(stakes, sources, blocked, gate)
    if mode == "control-chain":
        assert np.array_equal(found, expected)
    else:
        assert np.allclose(found, expected, rtol=0, atol=1e-12)
