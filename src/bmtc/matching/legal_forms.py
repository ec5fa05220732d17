"""Legal forms of companies, recognised in many languages and reduced to a canonical code.

A legal form is stripped from the name before comparison but kept as a code, because two names
that differ only by "Ltd." and "Co., Ltd." are the same company while "GmbH" against "Inc."
usually means a foreign subsidiary. Families group forms that are translations or common
variants of one another: forms that share a family are compatible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class LegalForm:
    code: str
    label: str
    families: frozenset[str]


_ANGLO = "anglo_asian"  # English-language forms and their usual CJK translations
_FORMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("INC", "Inc.", (_ANGLO,)),
    ("CORP", "Corp.", (_ANGLO,)),
    ("CO", "Co.", (_ANGLO,)),
    ("LTD", "Ltd.", (_ANGLO, "nordic_ltd")),
    ("CO_LTD", "Co., Ltd.", (_ANGLO,)),
    ("PLC", "PLC", (_ANGLO,)),
    ("PTY_LTD", "Pty Ltd", (_ANGLO,)),
    ("PTE_LTD", "Pte. Ltd.", (_ANGLO,)),
    ("ULC", "ULC", (_ANGLO,)),
    ("LTEE", "Ltée", (_ANGLO,)),
    ("JSC", "Joint-Stock Co.", (_ANGLO, "russian")),
    ("KK", "K.K. (株式会社)", (_ANGLO,)),
    ("KR_JSC", "Chusik Hoesa (주식회사)", (_ANGLO,)),
    ("KR_LLC", "Yuhan Hoesa (유한회사)", (_ANGLO,)),
    ("CN_LTD", "有限公司 (Co., Ltd.)", (_ANGLO,)),
    ("CN_LLC", "有限责任公司 (LLC)", (_ANGLO,)),
    ("CN_JSC", "股份有限公司 (joint-stock Co., Ltd.)", (_ANGLO,)),
    ("SDN_BHD", "Sdn. Bhd.", (_ANGLO,)),
    ("BHD", "Bhd.", (_ANGLO,)),
    ("NL", "NL", (_ANGLO,)),
    ("LLC", "LLC", ("us_llc",)),
    ("LP", "LP", ("us_llc",)),
    ("LLP", "LLP", ("us_llc",)),
    ("GMBH", "GmbH", ("german",)),
    ("GMBH_CO_KG", "GmbH & Co. KG", ("german",)),
    ("KG", "KG", ("german",)),
    ("AG", "AG", ("german", "european")),
    ("KGAA", "KGaA", ("german",)),
    ("SE", "SE", ("german", "european", "french")),
    ("SA", "S.A.", ("french", "iberian", "benelux", "mexican", "european")),
    ("SAS", "SAS", ("french",)),
    ("SARL", "SARL", ("french",)),
    ("NV", "N.V.", ("benelux",)),
    ("BV", "B.V.", ("benelux",)),
    ("SRL", "S.r.l.", ("italian", "benelux")),
    ("SPA", "S.p.A.", ("italian",)),
    ("SL", "S.L.", ("iberian",)),
    ("SAU", "S.A.U.", ("iberian",)),
    ("LTDA", "Ltda.", ("iberian",)),
    ("SAA", "S.A.A.", ("iberian",)),
    ("SA_DE_CV", "S.A. de C.V.", ("mexican",)),
    ("SAB_DE_CV", "S.A.B. de C.V.", ("mexican",)),
    ("SAPI_DE_CV", "S.A.P.I. de C.V.", ("mexican",)),
    ("S_DE_RL_DE_CV", "S. de R.L. de C.V.", ("mexican",)),
    ("AB", "AB", ("nordic",)),
    ("AS", "AS", ("nordic",)),
    ("ASA", "ASA", ("nordic",)),
    ("OY", "Oy", ("nordic", "nordic_ltd")),
    ("OYJ", "Oyj", ("nordic",)),
    ("KFT", "Kft.", ("central_european",)),
    ("ZRT", "Zrt.", ("central_european",)),
    ("SP_ZOO", "Sp. z o.o.", ("central_european",)),
    ("SRO", "s.r.o.", ("central_european",)),
    ("PJSC", "PJSC", ("russian",)),
    ("PT", "PT", ("indonesian",)),
    ("TBK", "Tbk", ("indonesian",)),
)
LEGAL_FORMS: dict[str, LegalForm] = {
    code: LegalForm(code, label, frozenset(families)) for code, label, families in _FORMS
}

# Token sequences (after normalisation) that spell each form at the end of a name.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "INC": ("inc", "incorporated", "incorporee"),
    "CORP": ("corp", "corporation"),
    "CO": ("co", "company", "cie", "compagnie"),
    "LTD": ("ltd", "limited"),
    "CO_LTD": (
        "co ltd",
        "co limited",
        "company limited",
        "company ltd",
        "corp ltd",
        "corporation limited",
        "co ltee",
    ),
    "PLC": ("plc", "public limited company"),
    "PTY_LTD": ("pty ltd", "pty limited", "proprietary limited", "pty"),
    "PTE_LTD": ("pte ltd", "pte limited", "private limited"),
    "ULC": ("ulc", "unlimited liability company"),
    "LTEE": ("ltee", "limitee"),
    "JSC": (
        "jsc",
        "joint stock company",
        "joint stock co",
        "joint stock co ltd",
        "joint stock company limited",
        "ojsc",
        "cjsc",
    ),
    "KK": ("kk", "kabushiki kaisha", "kabushikigaisha", "kabushiki gaisha"),
    "KR_JSC": ("chusik hoesa", "jusik hoesa", "chusikhoesa", "jusikhoesa"),
    "KR_LLC": ("yuhan hoesa", "yuhanhoesa"),
    "SDN_BHD": ("sdn bhd",),
    "BHD": ("bhd", "berhad"),
    "NL": ("nl", "no liability"),
    "LLC": ("llc", "limited liability company", "l l c"),
    "LP": ("lp", "limited partnership"),
    "LLP": ("llp", "limited liability partnership"),
    "GMBH": ("gmbh", "gesellschaft mit beschrankter haftung"),
    "GMBH_CO_KG": ("gmbh co kg", "gmbh and co kg"),
    "KG": ("kg",),
    "AG": ("ag", "aktiengesellschaft"),
    "KGAA": ("kgaa",),
    "SE": ("se", "societas europaea"),
    "SA": ("sa", "societe anonyme", "sociedad anonima", "sa nv", "nv sa"),
    "SAS": ("sas",),
    "SARL": ("sarl",),
    "NV": ("nv",),
    "BV": ("bv",),
    "SRL": ("srl",),
    "SPA": ("spa", "societa per azioni"),
    "SL": ("sl",),
    "SAU": ("sau",),
    "LTDA": ("ltda",),
    "SAA": ("saa",),
    "SA_DE_CV": ("sa de cv",),
    "SAB_DE_CV": ("sab de cv",),
    "SAPI_DE_CV": ("sapi de cv",),
    "S_DE_RL_DE_CV": ("s de rl de cv", "srl de cv", "s de rl"),
    "AB": ("ab", "ab publ", "aktiebolag"),
    "AS": ("as",),
    "ASA": ("asa",),
    "OY": ("oy", "osakeyhtio"),
    "OYJ": ("oyj",),
    "KFT": ("kft",),
    "ZRT": ("zrt",),
    "SP_ZOO": ("sp z oo",),
    "SRO": ("sro",),
    "PJSC": ("pjsc",),
    "TBK": ("tbk",),
}
# Forms written before the name ("PT Vale Indonesia Tbk", "PJSC MMC Norilsk Nickel").
_PREFIXES: dict[str, tuple[str, ...]] = {
    "PT": ("pt",),
    "PJSC": ("pjsc",),
    "JSC": ("jsc", "ojsc"),
    "KK": ("kabushiki kaisha",),
}
# Script forms, longest first so that 股份有限公司 wins over 有限公司.
CJK_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("股份有限公司", "CN_JSC"),
    ("有限责任公司", "CN_LLC"),
    ("有限責任公司", "CN_LLC"),
    ("有限公司", "CN_LTD"),
    ("株式会社", "KK"),
    ("주식회사", "KR_JSC"),
    ("유한회사", "KR_LLC"),
    ("公司", "CO"),
)
CJK_PREFIXES: tuple[tuple[str, str], ...] = (("株式会社", "KK"), ("주식회사", "KR_JSC"))
# "(주)" and "(株)" abbreviate the Korean and Japanese forms; NFKC turns ㈜ and ㈱ into them.
CJK_ABBREVIATIONS = re.compile(r"\(\s*(주|株)\s*\)")

_SUFFIX_SEQ = sorted(
    ((tuple(s.split()), code) for code, spellings in _SUFFIXES.items() for s in spellings),
    key=lambda item: -len(item[0]),
)
_PREFIX_SEQ = sorted(
    ((tuple(s.split()), code) for code, spellings in _PREFIXES.items() for s in spellings),
    key=lambda item: -len(item[0]),
)
LEGAL_WORDS = frozenset(w for seq, _ in _SUFFIX_SEQ for w in seq)
# Spellings by their last (or first) word, longest first: most names end in no legal word.
_BY_LAST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _seq, _code in _SUFFIX_SEQ:
    _BY_LAST.setdefault(_seq[-1], []).append((_seq, _code))
_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _seq, _code in _PREFIX_SEQ:
    _BY_FIRST.setdefault(_seq[0], []).append((_seq, _code))


def match_suffix(tokens: tuple[str, ...] | list[str]) -> tuple[str, int] | None:
    """The legal form spelled by the last tokens, as (code, number of tokens), if any."""
    for seq, code in _BY_LAST.get(tokens[-1], ()) if tokens else ():
        n = len(seq)
        if len(tokens) >= n and tuple(tokens[-n:]) == seq:
            return code, n
    return None


def match_prefix(tokens: tuple[str, ...] | list[str]) -> tuple[str, int] | None:
    """The legal form spelled by the first tokens, when something follows it."""
    for seq, code in _BY_FIRST.get(tokens[0], ()) if tokens else ():
        n = len(seq)
        if len(tokens) > n and tuple(tokens[:n]) == seq:
            return code, n
    return None


Compatibility = Literal["same", "compatible", "related", "incompatible", "unknown"]


def compatibility(a: str | None, b: str | None) -> Compatibility:
    """How two legal-form codes relate.

    `compatible` means usual translations or variants of one form (Ltd. and Co., Ltd.,
    株式会社 and Corporation); `related` means distinct forms of one legal system (GmbH and
    AG); `incompatible` means different systems, typically a parent and a foreign subsidiary.
    """
    if a is None or b is None:
        return "unknown"
    if a == b:
        return "same"
    fa, fb = LEGAL_FORMS[a].families, LEGAL_FORMS[b].families
    if fa & fb:
        distinct_types = {"german", "us_llc", "nordic", "central_european"}
        return "related" if fa & fb <= distinct_types else "compatible"
    return "incompatible"


def label(code: str) -> str:
    return LEGAL_FORMS[code].label
