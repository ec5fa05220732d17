"""Country and state/province codes (ISO 3166-1 alpha-2 and ISO 3166-2 without the prefix)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry

_COUNTRY_ALIASES = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states of america": "US",
    "us": "US", "canada": "CA", "mexico": "MX", "méxico": "MX", "uk": "GB",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "taiwan": "TW",
    "china": "CN", "prc": "CN", "russia": "RU", "iran": "IR", "north korea": "KP",
}
# Abbreviations that ISO does not use but North American sources do.
_SUBDIVISION_ALIASES = {
    "MX": {"n.l.": "NLE", "nl": "NLE", "edomex": "MEX", "cdmx": "CMX", "son.": "SON",
           "coah.": "COA", "chih.": "CHH", "gto.": "GUA", "qro.": "QUE", "jal.": "JAL",
           "s.l.p.": "SLP", "tamps.": "TAM", "ags.": "AGU", "b.c.": "BCN", "pue.": "PUE"},
    "CA": {"que.": "QC", "pq": "QC", "ont.": "ON", "b.c.": "BC", "nfld": "NL", "nb.": "NB"},
    "US": {},
}


def _fold(text: str) -> str:
    stripped = unicodedata.normalize("NFKD", text.strip()).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", stripped).lower()


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                index[_fold(value)] = country.alpha_2
    index.update({_fold(k): v for k, v in _COUNTRY_ALIASES.items()})
    return index


def normalize_country(text: str) -> str:
    """Return the ISO alpha-2 code for a country name or code; raise ValueError if unknown."""
    code = _country_index().get(_fold(text))
    if code is None:
        raise ValueError(f"{text!r} is not a known country")
    return code


@cache
def _subdivision_index(country: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        short = sub.code.split("-", 1)[1]
        index[_fold(short)] = short
        index[_fold(sub.name)] = short
    for alias, short in _SUBDIVISION_ALIASES.get(country, {}).items():
        index[_fold(alias)] = short
    return index


def normalize_subdivision(country: str, text: str) -> str:
    """Return the ISO 3166-2 code (without country prefix) for a state or province."""
    folded = _fold(text)
    if folded.startswith(country.lower() + "-"):
        folded = folded[len(country) + 1 :]
    index = _subdivision_index(country)
    if not index:
        # Countries without ISO subdivisions in pycountry: keep the source's text.
        return text.strip()
    code = index.get(folded) or index.get(folded.rstrip("."))
    if code is None:
        raise ValueError(f"{text!r} is not a state or province of {country}")
    return code


def subdivision_name(country: str, code: str) -> str:
    sub = pycountry.subdivisions.get(code=f"{country}-{code}")
    return str(sub.name) if sub is not None else code
