"""Name matching and entity resolution: normalisation, scoring, blocking and the evaluation set."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bmtc.matching import (
    MATCH_THRESHOLD,
    POSSIBLE_THRESHOLD,
    Matcher,
    MatchRecord,
    TokenWeights,
    decide,
    load_pairs,
    metrics,
    name_variants,
    normalize_name,
    pinyin_key,
    score_pairs,
    split_aliases,
    to_pinyin,
)
from bmtc.matching.evaluation import default_path
from bmtc.matching.matcher import score_pair

LEI_A = "5493001KJTIIGC8Y1R12"
LEI_B = "ZZZZ00AFBA2A391FAF83"  # synthetic, valid check digits

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)
# fmt: off
brands = st.sampled_from([
    "Huayou", "Tianqi", "Ganfeng", "Zijin", "Albemarle", "Livent", "Redwood", "Ascend",
    "Gotion", "Hithium", "Umicore", "Glencore", "Northvolt", "Piedmont", "Sigma", "Nemaska",
    "Tianyi", "Ganzhou", "Amperex", "Nebula", "BYD", "CATL", "SK", "LG", "EcoPro",
]) | st.text(alphabet="abcdefghiklmnoprstuvwyz", min_size=3, max_size=9).map(str.title)
descriptors = st.sampled_from([
    "Lithium", "Cobalt", "Energy", "Materials", "New Energy", "Technology", "Mining",
    "Group", "Holdings", "Battery", "Resources", "Metals", "Chemical", "Motor", "",
])
places = st.sampled_from(["", "", "Zhejiang ", "Jiangxi ", "Sichuan ", "Shenzhen ", "Ningde "])
legal = st.sampled_from([
    "", "Co., Ltd.", "Inc.", "Corporation", "Limited", "GmbH", "S.A. de C.V.", "LLC", "plc",
    "AB (publ)", "Pty Ltd", "K.K.", "Ltée",
])
han_names = st.sampled_from([
    "宁德时代新能源科技股份有限公司", "浙江华友钴业股份有限公司", "天齐锂业",
    "比亚迪股份有限公司", "江西赣锋锂业集团股份有限公司", "紫金矿业集团股份有限公司",
    "LG에너지솔루션", "삼성SDI 주식회사", "パナソニック エナジー株式会社",
])
# fmt: on
company_names = (
    st.tuples(places, brands, descriptors, legal).map(lambda p: f"{p[0]}{p[1]} {p[2]} {p[3]}")
    | han_names
)


# --- normalisation --------------------------------------------------------------------------


@given(any_text)
@settings(max_examples=300)
def test_normalisation_never_raises(text: str) -> None:
    name = normalize_name(text)
    assert all(t and t.isascii() for t in name.tokens)
    assert len(name.tokens) == len(name.roles) == len(name.kinds)
    name_variants(text, (text,))
    split_aliases(text)
    assert to_pinyin(text).isascii()
    assert " " not in pinyin_key(text)


@given(any_text | company_names)
@settings(max_examples=300)
def test_normalisation_is_idempotent_on_its_core(text: str) -> None:
    key = normalize_name(text).key
    assert normalize_name(key).key == key


@pytest.mark.parametrize(
    ("a", "b", "code"),
    [
        ("Acme Co., Ltd.", "ACME COMPANY LIMITED", "CO_LTD"),
        ("Acme Inc.", "ACME INCORPORATED", "INC"),
        ("Acme Corp.", "Acme Corporation", "CORP"),
        ("Acme L.L.C.", "Acme LLC", "LLC"),
        ("Acme GmbH", "ACME GMBH", "GMBH"),
        ("Acme S.A. de C.V.", "Acme SA de CV", "SA_DE_CV"),
        ("Acme, S. de R.L. de C.V.", "Acme S de RL de CV", "S_DE_RL_DE_CV"),
        ("Acme S.A.P.I. de C.V.", "Acme SAPI de CV", "SAPI_DE_CV"),
        ("Acme S.p.A.", "Acme SpA", "SPA"),
        ("Acme B.V.", "Acme BV", "BV"),
        ("Acme Pty Ltd", "Acme Pty. Limited", "PTY_LTD"),
        ("Acme Ltée", "Acme Limitée", "LTEE"),
        ("Acme K.K.", "Acme Kabushiki Kaisha", "KK"),
        ("Acme AB (publ)", "Acme AB", "AB"),
        ("Acme Oy", "Acme OY", "OY"),
        ("Acme ASA", "Acme A.S.A.", "ASA"),
        ("Acme Chusik Hoesa", "Acme Jusik Hoesa", "KR_JSC"),
    ],
)
def test_legal_forms_are_stripped_and_kept_as_a_code(a: str, b: str, code: str) -> None:
    na, nb = normalize_name(a), normalize_name(b)
    assert na.key == nb.key == "acme"
    assert na.legal_form == nb.legal_form == code


@pytest.mark.parametrize(
    ("name", "code", "key"),
    [
        ("宁德时代新能源科技股份有限公司", "CN_JSC", "shi dai new energy technology"),
        (
            "新疆有色金属工业\uff08集团\uff09有限责任公司",
            "CN_LLC",
            "nonferrous metal industry group",
        ),
        ("比亚迪电子\uff08国际\uff09有限公司", "CN_LTD", "bi ya di electronic international"),
        ("パナソニック エナジー株式会社", "KK", "panasoniku energy"),
        ("(주)LG화학", "KR_JSC", "lg chemical"),
        ("주식회사 LG에너지솔루션", "KR_JSC", "lg energy solution"),
    ],
)
def test_script_legal_forms(name: str, code: str, key: str) -> None:
    normalized = normalize_name(name)
    assert normalized.legal_form == code
    assert normalized.key == key


@given(brands, descriptors, legal)
def test_legal_form_never_changes_the_core(brand: str, descriptor: str, form: str) -> None:
    bare = normalize_name(f"{brand} {descriptor}")
    assert normalize_name(f"{brand} {descriptor} {form}").key == bare.key


def test_group_and_holdings_are_weak_words_not_deleted() -> None:
    name = normalize_name("Zijin Mining Group Co., Ltd.")
    assert name.core == ("zijin", "mining", "group")
    weights = TokenWeights()
    assert weights.weight("group") < weights.weight("mining") < weights.weight("zijin")
    assert normalize_name("Li-Cycle Holdings Corp.").core == ("li", "cycle", "holding")


def test_pinyin_of_known_names() -> None:
    assert to_pinyin("宁德时代") == "ning de shi dai"
    assert pinyin_key("宁德时代") == "ningdeshidai"
    assert to_pinyin("比亚迪 BYD") == "bi ya di byd"
    assert pinyin_key("天齐锂业") == "tianqiliye"
    huayou = normalize_name("浙江华友钴业股份有限公司")
    assert huayou.places == ("zhejiang",)
    assert huayou.core == ("hua", "you", "cobalt")
    assert normalize_name("深圳市德方纳米科技").places == ("shenzhen",)


def test_aliases_inside_names() -> None:
    assert split_aliases("Contemporary Amperex Technology Co., Limited (CATL)") == (
        "Contemporary Amperex Technology Co., Limited",
        ("CATL",),
    )
    main, aliases = split_aliases("CMOC Group Limited (formerly China Molybdenum Co., Ltd.)")
    assert main == "CMOC Group Limited" and aliases == ("China Molybdenum Co., Ltd",)
    assert split_aliases("Tesla (Shanghai) Co., Ltd.")[1] == ()
    assert normalize_name("Tesla (Shanghai) Co., Ltd.").qualifiers == ("shanghai",)


# --- scoring --------------------------------------------------------------------------------


def _score(a: str, b: str, **kwargs: str) -> float:
    left = MatchRecord("a", a, lei=kwargs.get("lei_a"), country=kwargs.get("country_a"))
    right = MatchRecord("b", b, lei=kwargs.get("lei_b"), country=kwargs.get("country_b"))
    return score_pair(left, right).score


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Zhejiang Huayou Cobalt Co., Ltd.", "浙江华友钴业股份有限公司"),
        ("Huayou Cobalt", "Zhejiang Huayou Cobalt Co., Ltd."),
        ("BYD Company Limited", "比亚迪股份有限公司"),
        ("CATL", "Contemporary Amperex Technology Co., Limited"),
        ("Samsung SDI Co., Ltd.", "삼성SDI 주식회사"),
        ("Albermarle Corporation", "Albemarle Corp."),
        ("NINGDESHIDAI NEW ENERGY TECHNOLOGY", "宁德时代新能源科技股份有限公司"),
    ],
)
def test_variants_of_one_company_match(a: str, b: str) -> None:
    assert decide(_score(a, b)) == "match"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Tianqi Lithium Corporation", "Tianyi Lithium Co., Ltd."),
        ("Ganfeng Lithium Group Co., Ltd.", "Ganzhou Lithium Co., Ltd."),
        ("SK On Co., Ltd.", "SK Innovation Co., Ltd."),
        ("LG Chem, Ltd.", "LG Energy Solution, Ltd."),
        ("Contemporary Amperex Technology Co., Limited", "Contemporary Nebula Technology"),
        ("Jiangxi Copper Company Limited", "Yunnan Copper Co., Ltd."),
        ("Element 25 Limited", "Element 29 Limited"),
    ],
)
def test_different_companies_do_not_match(a: str, b: str) -> None:
    assert decide(_score(a, b)) != "match"


def test_equal_lei_is_decisive() -> None:
    candidate = score_pair(
        MatchRecord("a", "宁德时代", lei=LEI_A), MatchRecord("b", "Totally Different", lei=LEI_A)
    )
    assert candidate.score == 1.0 and candidate.decision == "match"
    assert f"LEI {LEI_A} equal on both sides" in candidate.reasons


def test_lei_with_wrong_check_digits_is_ignored() -> None:
    typo = LEI_A[:-1] + "3"
    candidate = score_pair(
        MatchRecord("a", "Albemarle Corporation", lei=typo),
        MatchRecord("b", "Tesla, Inc.", lei=typo),
    )
    assert candidate.decision == "no_match"
    assert not any(f.name == "lei" for f in candidate.features)


@given(company_names)
def test_lei_conflict_blocks_a_match(name: str) -> None:
    candidate = score_pair(
        MatchRecord("a", name, lei=LEI_A, country="CN"),
        MatchRecord("b", name, lei=LEI_B, country="CN"),
    )
    assert candidate.decision != "match"
    assert any("differ" in r and "LEI" in r for r in candidate.reasons)


def test_country_and_legal_form_explain_themselves() -> None:
    candidate = score_pair(
        MatchRecord("a", "Rio Tinto plc", country="GB"),
        MatchRecord("b", "Rio Tinto Limited", country="AU"),
    )
    assert "country GB vs AU differs" in candidate.reasons
    assert "names differ only by legal form (PLC vs Ltd.)" in candidate.reasons
    assert candidate.decision != "match"


# --- blocking -------------------------------------------------------------------------------


def _typo(text: str, at: int) -> str:
    if len(text) < 2:
        return text
    i = at % (len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


@st.composite
def reference_and_queries(draw: st.DrawFn) -> tuple[list[MatchRecord], list[MatchRecord]]:
    names = draw(st.lists(company_names, min_size=1, max_size=25, unique=True))
    reference = [
        MatchRecord(f"r{i}", n, country=draw(st.sampled_from([None, "CN", "US"])))
        for i, n in enumerate(names)
    ]
    queries = []
    for i in range(draw(st.integers(1, 4))):
        base = draw(st.sampled_from(names))
        edit = draw(st.sampled_from(["same", "upper", "typo", "legal", "new"]))
        if edit == "upper":
            base = base.upper()
        elif edit == "typo":
            base = _typo(base, draw(st.integers(0, 50)))
        elif edit == "legal":
            base = f"{base} {draw(legal)}"
        elif edit == "new":
            base = draw(company_names)
        queries.append(MatchRecord(f"q{i}", base, country=draw(st.sampled_from([None, "CN"]))))
    return reference, queries


@given(reference_and_queries())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_blocking_finds_what_exhaustive_comparison_finds(
    data: tuple[list[MatchRecord], list[MatchRecord]],
) -> None:
    reference, queries = data
    matcher = Matcher(reference)
    for query in queries:
        blocked = matcher.candidates(query, limit=3)
        everything = matcher.exhaustive_candidates(query, limit=3)
        assert [(c.candidate_id, c.score) for c in blocked] == [
            (c.candidate_id, c.score) for c in everything
        ]


def test_match_all_compares_far_fewer_than_all_pairs() -> None:
    pairs = load_pairs()
    reference = [p.right for p in pairs]
    queries = [p.left for p in pairs[:150]]
    matcher = Matcher(reference)
    found = matcher.match_all(queries)
    assert set(found) == {q.id for q in queries}
    assert 0 < matcher.comparisons < len(reference) * len(queries) / 4


# --- evaluation -----------------------------------------------------------------------------


def test_evaluation_set_shape() -> None:
    with default_path().open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    labels = Counter(r["same"] for r in rows)
    assert len(rows) >= 320 and set(labels) == {"yes", "no"}
    assert labels["no"] / len(rows) >= 0.40
    assert sum(r["category"].startswith("hard_negative") for r in rows) >= 80
    assert len({(r["left_name"], r["right_name"], r["left_lei"]) for r in rows}) == len(rows)


def test_every_candidate_explains_itself() -> None:
    for pair, candidate in score_pairs(load_pairs()):
        names = {f.name for f in candidate.features}
        assert {"name_similarity", "token_overlap", "legal_form", "country"} <= names
        assert all(f.reason for f in candidate.features)
        assert 0.0 <= candidate.score <= 1.0
        if "lei" not in names or pair.left.lei != pair.right.lei:
            total = sum(f.contribution for f in candidate.features)
            assert candidate.score == pytest.approx(min(1.0, max(0.0, total)), abs=1e-3)


def test_precision_and_recall_on_the_evaluation_set() -> None:
    result = metrics(score_pairs(load_pairs()), MATCH_THRESHOLD)
    assert result.precision >= 0.95, result
    assert result.recall >= 0.90, result


def test_thresholds_are_ordered() -> None:
    assert 0 < POSSIBLE_THRESHOLD < MATCH_THRESHOLD <= 1
    assert decide(MATCH_THRESHOLD) == "match"
    assert decide(POSSIBLE_THRESHOLD) == "possible"
    assert decide(POSSIBLE_THRESHOLD - 0.01) == "no_match"
