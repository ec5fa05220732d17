"""Benchmark of name matching: accuracy on the labelled pairs, then blocked matching at scale.

Run from the project root:

    .venv/bin/python bench/bench_matching.py            # 2,000 queries x 50,000 records

It prints precision, recall and F1 on `src/bmtc/data/matching/evaluation_pairs.csv` at the
default `match` threshold with a small threshold sweep, then generates a deterministic synthetic
reference of company names (seeded RNG; Chinese, Western, Korean/Japanese-style and
Chinese-character names built from realistic parts and legal forms) and times matching a set of
queries against it: about three quarters are variants of a reference record (legal form changed,
place prefix dropped, upper case, two letters swapped in a long brand word, Chinese characters
written as an English name), the rest are names with brands the reference does not hold. It
reports comparisons made against the all-pairs count, seconds, and how often the right record
comes first. No network access.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass

from bmtc.matching import (
    MATCH_THRESHOLD,
    Matcher,
    MatchRecord,
    load_pairs,
    metrics,
    score_pairs,
    to_pinyin,
)

# fmt: off
SYLLABLES = (
    "an", "bao", "bei", "bin", "cai", "chang", "chen", "cheng", "chuang", "da", "dong", "fang",
    "feng", "fu", "gan", "gao", "guo", "hai", "han", "hao", "he", "heng", "hong", "hua", "huan",
    "hui", "jia", "jian", "jie", "jin", "jing", "jun", "kai", "kang", "lan", "li", "lian", "lin",
    "long", "lu", "lun", "mei", "ming", "nan", "neng", "peng", "qi", "qian", "qiang", "rong", "rui",
    "sen", "shan", "sheng", "shi", "shun", "tai", "tian", "tong", "wan", "wei", "wen", "xiang",
    "xin", "xing", "xu", "ya", "yang", "yi", "ying", "yong", "yu", "yuan", "yue", "zhan", "zheng",
    "zhi", "zhong", "zhou",
)
PLACES = (
    "Zhejiang", "Jiangxi", "Jiangsu", "Sichuan", "Hunan", "Guangdong", "Fujian", "Shandong",
    "Anhui", "Hubei", "Henan", "Yunnan", "Qinghai", "Xinjiang", "Shenzhen", "Ningbo", "Hefei",
    "Xiamen", "Ningde", "Changzhou", "Tianjin", "Shanghai", "Beijing",
)
CN_DESCRIPTORS = (
    "Lithium", "Cobalt", "New Energy", "Energy Technology", "New Material", "Battery", "Mining",
    "Nonferrous Metals", "Power Battery", "Energy Storage", "Chemical", "Rare Earth", "Graphite",
    "Electronic", "Auto", "Industrial",
)
CN_LEGAL = (
    "Co., Ltd.", "Company Limited", "Group Co., Ltd.", "Holding Co., Ltd.", "Co Ltd",
)
WEST_STEMS_A = (
    "Nor", "Red", "Blue", "Green", "Silver", "Iron", "Clear", "North", "South", "West", "East",
    "Ever", "Prime", "Nova", "Terra", "Aqua", "Volt", "Ion", "Lumi", "Sol", "Stel", "Alba", "Cirra",
    "Pied", "Asc", "Arca", "Liv", "Umi", "Glen", "Sig", "Nem", "Talo", "Jerv", "Pilb", "Syr",
    "Elec", "Quan", "Amp", "Micro", "Enov", "Forge", "Natr", "Anov", "Sila", "Cath", "Cobal",
    "Grafi", "Mang", "Nick", "Vana",
)
WEST_STEMS_B = (
    "volt", "wood", "stone", "field", "ridge", "core", "gen", "tex", "tech", "ion", "ium", "ex",
    "on", "ar", "ia", "ent", "ex", "ara", "ora", "ova", "ite", "lyn", "ton", "ford", "mont", "dale",
    "water", "lake", "peak", "bridge", "star", "line", "way",
)
WEST_DESCRIPTORS = (
    "Lithium", "Battery Materials", "Energy", "Metals", "Resources", "Mining", "Recycling",
    "Technologies", "Minerals", "Graphite", "Cathode Materials", "Power", "Advanced Materials",
    "Holdings", "Motors", "Chemicals",
)
WEST_LEGAL = (
    "Inc.", "Corp.", "Corporation", "LLC", "Ltd.", "Limited", "plc", "GmbH", "S.A. de C.V.", "AB",
    "AG", "S.A.", "Pty Ltd", "Incorporated",
)
KJ_SYLLABLES = (
    "sam", "hyo", "sung", "dong", "kum", "ho", "il", "jin", "han", "wha", "po", "sko", "lot", "te",
    "ta", "ka", "mi", "su", "zu", "ki", "ya", "ma",
)
KJ_DESCRIPTORS = (
    "Chemical", "Materials", "Energy", "Battery", "Motor", "Electronics", "Steel",
)
KJ_LEGAL = (
    "Co., Ltd.", "Corporation", "Chusik Hoesa", "K.K.", "Inc.",
)
HAN_PLACES = (
    "浙江", "江西", "江苏", "四川", "湖南", "广东", "福建", "深圳", "宁波", "合肥", "厦门", "天津",
)
HAN_CHARS = tuple(
    "华友天齐赣锋紫金国轩海辰亿纬比亚迪中伟容百杉德方恩捷璞泰来当升振华宏盛新宙邦多氟"
    "贝特瑞格林美寒锐腾远盛屯鑫融捷永兴融通长远锦源南山东方明阳光远景泰安和顺达成兴业晶科隆基正信星源"
)
HAN_DESCRIPTORS = (
    "锂业", "钴业", "新能源科技", "新材料", "电池", "矿业", "储能科技", "化工", "有色金属",
)
# How an English version of the name renders each of them.
HAN_ENGLISH = {
    "锂业": "Lithium", "钴业": "Cobalt", "新能源科技": "New Energy Technology",
    "新材料": "New Material", "电池": "Battery", "矿业": "Mining",
    "储能科技": "Energy Storage Technology", "化工": "Chemical", "有色金属": "Nonferrous Metals",
}
HAN_LEGAL = (
    "股份有限公司", "有限公司", "集团股份有限公司", "有限责任公司",
)
# fmt: on


@dataclass(frozen=True)
class Synthetic:
    record: MatchRecord
    parts: tuple[str, str, str, str]  # place, brand, descriptor, legal form
    style: str


def _chinese(rng: random.Random) -> tuple[str, str, str, str]:
    place = rng.choice(PLACES) if rng.random() < 0.5 else ""
    brand = "".join(rng.sample(SYLLABLES, 2)).title()
    return place, brand, rng.choice(CN_DESCRIPTORS), rng.choice(CN_LEGAL)


def _western(rng: random.Random) -> tuple[str, str, str, str]:
    brand = rng.choice(WEST_STEMS_A) + rng.choice(WEST_STEMS_B)
    if rng.random() < 0.3:
        brand += " " + rng.choice(WEST_STEMS_A) + rng.choice(WEST_STEMS_B)
    return "", brand, rng.choice(WEST_DESCRIPTORS), rng.choice(WEST_LEGAL)


def _korean_japanese(rng: random.Random) -> tuple[str, str, str, str]:
    brand = "".join(rng.sample(KJ_SYLLABLES, 3)).title()
    return "", brand, rng.choice(KJ_DESCRIPTORS), rng.choice(KJ_LEGAL)


def _han(rng: random.Random) -> tuple[str, str, str, str]:
    place = rng.choice(HAN_PLACES) if rng.random() < 0.6 else ""
    brand = "".join(rng.sample(HAN_CHARS, rng.choice((2, 2, 3))))
    return place, brand, rng.choice(HAN_DESCRIPTORS), rng.choice(HAN_LEGAL)


STYLES = (
    ("chinese", _chinese, 0.40, "CN"),
    ("western", _western, 0.35, "US"),
    ("korean_japanese", _korean_japanese, 0.10, "KR"),
    ("han", _han, 0.15, "CN"),
)


def _join(style: str, parts: tuple[str, str, str, str]) -> str:
    if style == "han":
        return "".join(parts)
    return " ".join(p for p in parts if p)


def _brand_key(style: str, brand: str) -> str:
    # Chinese characters count as their pinyin, so "华友" and "Huayou" are one brand.
    return to_pinyin(brand).replace(" ", "") if style == "han" else brand.lower()


def reference_set(size: int, seed: int, taken: set[str] | None = None) -> list[Synthetic]:
    """`size` records with distinct brands (none of those in `taken`, which is updated), so
    that two records are different companies and a new name is really new."""
    rng = random.Random(seed)
    out: list[Synthetic] = []
    brands = taken if taken is not None else set()
    weights = [s[2] for s in STYLES]
    while len(out) < size:
        style, make, _, country = rng.choices(STYLES, weights)[0]
        parts = make(rng)
        brand = _brand_key(style, parts[1])
        if brand in brands:
            continue
        brands.add(brand)
        name = _join(style, parts)
        record = MatchRecord(f"r{len(out)}", name, country=country if rng.random() < 0.8 else None)
        out.append(Synthetic(record, parts, style))
    return out


def _typo(rng: random.Random, brand: str) -> str:
    """Two letters swapped in the longest word of the brand, when it has seven letters or more
    (the matcher deliberately reads shorter words exactly: "Tianqi" is not "Tianyi")."""
    words = brand.split()
    longest = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[longest]
    if len(word) >= 7:
        i = rng.randrange(2, len(word) - 2)
        words[longest] = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return " ".join(words)


def variant(rng: random.Random, item: Synthetic) -> str:
    place, brand, descriptor, form = item.parts
    if item.style == "han":
        # The English version: place and brand in pinyin, industry words translated.
        romanised = (
            to_pinyin(place).replace(" ", "").title(),
            to_pinyin(brand).replace(" ", "").title(),
            HAN_ENGLISH[descriptor],
        )
        return " ".join(p for p in (*romanised, "Co., Ltd.") if p)
    edit = rng.choice(("legal", "place", "upper", "typo"))
    if edit == "legal":
        form = rng.choice(CN_LEGAL if item.style == "chinese" else WEST_LEGAL[:7])
    elif edit == "place":
        place = ""
    elif edit == "upper":
        return _join(item.style, item.parts).upper()
    else:
        brand = _typo(rng, brand)
    return _join(item.style, (place, brand, descriptor, form))


def queries_for(
    reference: list[Synthetic],
    count: int,
    seed: int,
) -> tuple[list[MatchRecord], dict[str, str]]:
    rng = random.Random(seed + 1)
    brands = {_brand_key(s.style, s.parts[1]) for s in reference}
    fresh = reference_set(count, seed + 2, brands)  # same recipe, brands not in the reference
    queries: list[MatchRecord] = []
    truth: dict[str, str] = {}
    for i in range(count):
        if rng.random() < 0.75:
            item = rng.choice(reference)
            queries.append(MatchRecord(f"q{i}", variant(rng, item), country=item.record.country))
            truth[f"q{i}"] = item.record.id
        else:
            queries.append(
                MatchRecord(f"q{i}", fresh[i].record.name, country=fresh[i].record.country)
            )
    return queries, truth


def evaluation() -> None:
    pairs = load_pairs()
    scored = score_pairs(pairs)
    default = metrics(scored, MATCH_THRESHOLD)
    positives = sum(p.same for p in pairs)
    print(
        f"Evaluation set: {len(pairs)} pairs ({positives} same, {len(pairs) - positives} different)"
    )
    print(
        f"  at the default match threshold {MATCH_THRESHOLD:.2f}: precision "
        f"{default.precision:.3f}  recall {default.recall:.3f}  F1 {default.f1:.3f}  "
        f"(TP {default.true_positives}, FP {default.false_positives}, "
        f"FN {default.false_negatives}, TN {default.true_negatives})"
    )
    print("  threshold  precision  recall     F1")
    for threshold in (0.60, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95):
        m = metrics(scored, threshold)
        print(f"  {threshold:9.2f}  {m.precision:9.3f}  {m.recall:6.3f}  {m.f1:6.3f}")


def scale(reference_size: int, query_count: int, seed: int) -> None:
    started = time.perf_counter()
    reference = reference_set(reference_size, seed)
    queries, truth = queries_for(reference, query_count, seed)
    generated = time.perf_counter()
    matcher = Matcher([s.record for s in reference])
    indexed = time.perf_counter()
    found = matcher.match_all(queries, limit=1)
    matched = time.perf_counter()
    all_pairs = len(queries) * len(reference)
    right = sum(1 for q, c in found.items() if q in truth and c and c[0].candidate_id == truth[q])
    confident = sum(
        1
        for q, c in found.items()
        if q in truth and c and c[0].candidate_id == truth[q] and c[0].decision == "match"
    )
    new = [q for q in found if q not in truth]
    false_matches = sum(1 for q in new if found[q] and found[q][0].decision == "match")
    print(
        f"\nSynthetic matching: {len(queries):,} queries against {len(reference):,} records "
        f"(seed {seed})"
    )
    print(
        f"  generation {generated - started:.1f} s, normalising and indexing "
        f"{indexed - generated:.1f} s, matching {matched - indexed:.1f} s "
        f"({1000 * (matched - indexed) / len(queries):.2f} ms per query)"
    )
    print(
        f"  comparisons {matcher.comparisons:,} of {all_pairs:,} possible pairs: "
        f"{matcher.comparisons / all_pairs:.5%} (1 in {all_pairs // max(1, matcher.comparisons):,})"
        f", {matcher.comparisons / len(queries):.1f} per query"
    )
    print(
        f"  variant queries: right record first {right}/{len(truth)} "
        f"({right / len(truth):.1%}), of which decided `match` {confident}"
    )
    print(f"  new-name queries: {false_matches}/{len(new)} given a `match` decision")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=int, default=50_000, help="synthetic records")
    parser.add_argument("--queries", type=int, default=2_000, help="synthetic queries")
    parser.add_argument("--seed", type=int, default=20_240_611)
    parser.add_argument("--skip-scale", action="store_true", help="evaluation set only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    evaluation()
    if not args.skip_scale:
        scale(args.reference, args.queries, args.seed)
    print(f"\nTotal {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
