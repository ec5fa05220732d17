"""Properties of screening on random ownership graphs: the batch engine agrees with the
explainer, adding a specified owner never clears an entity, input order does not matter,
cycles terminate."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import ListMembership, Organization, Relationship, Source
from bmtc.domain.percent import PercentRange
from bmtc.screening.bulk import screen_all
from bmtc.screening.explain import screen
from bmtc.screening.graph import build_graph
from bmtc.screening.registry import NO, UNKNOWN, registry_from_graph
from bmtc.screening.rules import MODES, rule_set
from bmtc.screening.verdict import PROHIBITED

AS_OF = "2026-06-30"
SOURCE = Source(url="https://example.org/register", publisher="Register",
                confidence="secondary")
UNSOURCED = Source(url="urn:bods:statement-1", confidence="unsourced")
COUNTRIES = ["US", "CN", "KR", "RU", None]


@st.composite
def organizations(draw: st.DrawFn, index: int) -> Organization:
    kind = draw(st.sampled_from(["company", "company", "company", "government",
                                 "state_owned_enterprise", "person"]))
    country = draw(st.sampled_from(COUNTRIES))
    values: dict[str, object] = {"id": f"p{index}", "name": f"Party {index}", "kind": kind,
                                 "source": SOURCE}
    if kind == "person":
        values["nationalities"] = (country,) if country else ()
        values["us_person"] = draw(st.sampled_from([True, False, None]))
        values["senior_political_figure"] = draw(st.sampled_from([True, False, None]))
    else:
        values["country_incorporation"] = country
        values["country_hq"] = draw(st.sampled_from(COUNTRIES))
    return Organization.model_validate(values)


percents = st.one_of(
    st.none(),
    st.integers(0, 100).map(lambda v: PercentRange(v, v)),
    st.tuples(st.integers(0, 100), st.integers(0, 100)).map(
        lambda t: PercentRange(min(t), max(t))),
    st.integers(0, 99).map(lambda v: PercentRange(v, 100, low_open=True)),
)


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    size = draw(st.integers(2, 8))
    orgs = [draw(organizations(i)) for i in range(size)]
    pairs = st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
        lambda p: p[0] != p[1])
    relationships: dict[str, Relationship] = {}
    for owner, owned in draw(st.lists(pairs, max_size=14)):
        kind = draw(st.sampled_from(["ownership", "ownership", "ownership", "debt",
                                     "licence", "directorship"]))
        values: dict[str, object] = {
            "owner_id": f"p{owner}", "owned_id": f"p{owned}", "kind": kind,
            "source": draw(st.sampled_from([SOURCE, SOURCE, UNSOURCED])),
        }
        if kind == "ownership":
            values["equity_pct"] = draw(percents)
            values["voting_pct"] = draw(st.one_of(st.none(), percents))
            values["officer_rights"] = draw(st.sampled_from([(), (), ("board",)]))
        elif kind == "debt":
            values["debt_share_pct"] = draw(percents)
        elif kind == "licence":
            values["effective_control"] = draw(st.sampled_from([True, False, None]))
            values["valid_from"] = draw(st.sampled_from([None, "2024", "2025-03"]))
        else:
            values["board_seats_total"] = draw(st.sampled_from([None, 5]))
        rel = Relationship.model_validate(values)
        relationships[rel.id] = rel
    listings = [
        ListMembership(list_id=draw(st.sampled_from(["ofac-sdn", "ndaa-fy2024-154b",
                                                     "dod-1260h"])),
                       org_id=f"p{i}", listed_from="2025-01-07", source=SOURCE)
        for i in draw(st.lists(st.integers(0, size - 1), max_size=2, unique=True))
    ]
    return Dataset(organizations=orgs, relationships=list(relationships.values()),
                   list_memberships=listings)


def _tri(value: int) -> bool | None:
    return None if value == UNKNOWN else value != NO


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.sampled_from(["feoc-doe-2024", "pfe-2025"]), st.sampled_from(MODES))
def test_batch_engine_agrees_with_explainer(dataset: Dataset, rules_id: str, mode: str) -> None:
    rules = rule_set(rules_id)
    graph = build_graph(dataset, AS_OF)
    registry = registry_from_graph(graph, rules.covered_nations, AS_OF,
                                   prior_year=("2024-07-01", "2025-06-30"))
    batch = screen_all(registry, rules, AS_OF, mode)  # type: ignore[arg-type]
    for position, org_id in enumerate(batch.ids):
        verdict = screen(graph, org_id, rules, mode)  # type: ignore[arg-type]
        assert verdict.status == batch.status[position], org_id
        for test in verdict.tests:
            assert test.fired == _tri(batch.tests[test.id][position]), (org_id, test.id)


@settings(max_examples=80, deadline=None)
@given(datasets(), st.integers(0, 7), st.integers(1, 100), st.sampled_from(MODES))
def test_adding_a_specified_owner_never_clears(
    dataset: Dataset, target_index: int, share: int, mode: str
) -> None:
    rules = rule_set("pfe-2025")
    target = dataset.organizations[target_index % len(dataset.organizations)].id
    before = screen(build_graph(dataset, AS_OF), target, rules, mode)  # type: ignore[arg-type]
    owner = Organization(id="new-owner", name="Listed battery maker",
                         country_incorporation="CN", source=SOURCE)
    grown = Dataset(
        organizations=[*dataset.organizations, owner],
        relationships=[*dataset.relationships, Relationship(
            owner_id="new-owner", owned_id=target, kind="ownership",
            equity_pct=PercentRange(share, share), source=SOURCE)],
        list_memberships=[*dataset.list_memberships, ListMembership(
            list_id="ndaa-fy2024-154b", org_id="new-owner", listed_from="2023-12-22",
            source=SOURCE)],
    )
    after = screen(build_graph(grown, AS_OF), target, rules, mode)  # type: ignore[arg-type]
    if before.status in PROHIBITED:
        assert after.status != "clear"
    feoc_before = screen(build_graph(dataset, AS_OF), target, rule_set("feoc-doe-2024"))
    feoc_after = screen(build_graph(grown, AS_OF), target, rule_set("feoc-doe-2024"))
    if feoc_before.status == "feoc":
        assert feoc_after.status != "clear"


@settings(max_examples=60, deadline=None)
@given(datasets(), st.randoms(use_true_random=False))
def test_input_order_does_not_change_verdicts(dataset: Dataset, rng: random.Random) -> None:
    shuffled = Dataset(
        organizations=rng.sample(dataset.organizations, len(dataset.organizations)),
        relationships=rng.sample(dataset.relationships, len(dataset.relationships)),
        list_memberships=rng.sample(dataset.list_memberships,
                                    len(dataset.list_memberships)),
    )
    for rules_id in ("feoc-doe-2024", "pfe-2025"):
        rules = rule_set(rules_id)
        first, second = build_graph(dataset, AS_OF), build_graph(shuffled, AS_OF)
        for org in dataset.organizations:
            assert (screen(first, org.id, rules).to_json()
                    == screen(second, org.id, rules).to_json())


def test_ownership_cycles_terminate_with_bounded_shares() -> None:
    gov = Organization(id="gov", name="Government", kind="government",
                       country_incorporation="CN", source=SOURCE)
    ring = [Organization(id=f"r{i}", name=f"Ring {i}", country_incorporation="US",
                         source=SOURCE) for i in range(4)]
    rels = [Relationship(owner_id=f"r{i}", owned_id=f"r{(i + 1) % 4}", kind="ownership",
                         equity_pct=PercentRange(90, 90), source=SOURCE) for i in range(4)]
    rels.append(Relationship(owner_id="gov", owned_id="r0", kind="ownership",
                             equity_pct=PercentRange(10, 10), source=SOURCE))
    graph = build_graph(Dataset(organizations=[gov, *ring], relationships=rels), AS_OF)
    # Multiplicative: the 10% stake circulates round the 90% ring; r0 ends at
    # 0.1 / (1 - 0.9^4) = 29.08% and r1 at 90% of that, 26.17%.
    multiplicative = screen(graph, "r1", rule_set("feoc-doe-2024"), "multiplicative")
    control = next(t for t in multiplicative.tests if t.id == "FEOC-D-2")
    assert multiplicative.status == "feoc"
    assert control.value == "26.1704%"
    # Control-chain: 10% controls nothing, so nothing passes on.
    assert screen(graph, "r1", rule_set("feoc-doe-2024"), "control-chain").status == "clear"
    assert screen(graph, "r2", rule_set("feoc-doe-2024"), "multiplicative").status == "clear"
