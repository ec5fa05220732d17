"""Turning text in any script into lower-case ASCII tokens.

Chinese characters become pinyin syllables (one token per syllable, no tones), so that
"宁德时代" reads "ning de shi dai" and can meet romanised spellings such as "Ningde Shidai";
industry terms in Chinese, Japanese and Korean are translated first (see `vocab.CJK_TERMS`),
because a company's English name translates them rather than transliterating them. Kana,
Hangul and all other scripts go through `anyascii`. Every function here is pure.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, NamedTuple

from anyascii import anyascii
from pypinyin import lazy_pinyin

from bmtc.matching.vocab import CHINESE_PLACES, CJK_PLACE_SUFFIXES, CJK_TERMS

TokenKind = Literal["latin", "pinyin", "translit"]


class Token(NamedTuple):
    text: str
    kind: TokenKind


_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3005\u3007"
_KANA = r"\u3040-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
_HANGUL = r"\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_CJK_RUN = re.compile(f"[{_HAN}{_KANA}{_HANGUL}]+")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_HAN_RUN = re.compile(f"[{_HAN}]+")
# Small tsu and the long-vowel mark only lengthen sounds; romanised names ignore them.
_KANA_SILENT = re.compile("[\u3063\u30c3\u30fc]")
_TERM_MAX = max(len(term) for term in CJK_TERMS)
# Single letters separated by dots or slashes are one abbreviation: S.A., L.L.C., A/S, U.S.
_DOTTED = re.compile(r"\b(?:[a-z][./])+(?:[a-z]\b)?")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_WORD = re.compile(r"[a-z0-9]+")


def latin_words(text: str) -> list[str]:
    """Lower-case ASCII words of non-CJK text: accents folded, abbreviations closed up."""
    if not text.isascii():
        text = anyascii(text)
    text = text.lower().replace("&", " and ")
    text = re.sub(r"['\u2019`\u00b4]", "", text)
    text = _DOTTED.sub(lambda m: m.group().replace(".", "").replace("/", ""), text)
    return _WORD.findall(_LETTER_DIGIT.sub(" ", text))


def _ascii_syllable(syllable: str) -> str:
    # pypinyin hands back characters it cannot read unchanged; fold those too.
    return "".join(_WORD.findall(anyascii(syllable).lower()))


def _han_tokens(run: str) -> list[Token]:
    syllables = lazy_pinyin(run)
    if len(syllables) == len(run):
        kept: list[str] = []
        for char, syllable in zip(run, syllables, strict=True):
            # "深圳市" is Shenzhen: drop the administrative suffix written after a place.
            if char in CJK_PLACE_SUFFIXES and any(
                "".join(kept[-n:]) in CHINESE_PLACES for n in (2, 3) if len(kept) >= n
            ):
                continue
            kept.append(syllable)
        syllables = kept
    out: list[Token] = []
    for syllable in syllables:
        folded = _ascii_syllable(syllable)
        if folded:
            out.append(Token(folded, "pinyin"))
    return out


def _phonetic_tokens(run: str) -> list[Token]:
    text = anyascii(_KANA_SILENT.sub("", run)).lower()
    return [Token(word, "translit") for word in _WORD.findall(text)]


def _residual_tokens(run: str) -> list[Token]:
    out: list[Token] = []
    start = 0
    for match in _HAN_RUN.finditer(run):
        if match.start() > start:
            out.extend(_phonetic_tokens(run[start : match.start()]))
        out.extend(_han_tokens(match.group()))
        start = match.end()
    if start < len(run):
        out.extend(_phonetic_tokens(run[start:]))
    return out


def cjk_tokens(run: str) -> list[Token]:
    """Tokens of a run of Chinese, Japanese or Korean characters."""
    out: list[Token] = []
    pending: list[str] = []
    i = 0
    while i < len(run):
        for size in range(min(_TERM_MAX, len(run) - i), 0, -1):
            english = CJK_TERMS.get(run[i : i + size])
            if english is not None:
                out.extend(_residual_tokens("".join(pending)))
                pending.clear()
                out.extend(Token(word, "latin") for word in english.split())
                i += size
                break
        else:
            pending.append(run[i])
            i += 1
    out.extend(_residual_tokens("".join(pending)))
    return out


def tokenize(text: str) -> list[Token]:
    """Tokens of text in any script, in order. Never raises."""
    text = unicodedata.normalize("NFKC", text)
    out: list[Token] = []
    start = 0
    for match in _CJK_RUN.finditer(text):
        out.extend(Token(w, "latin") for w in latin_words(text[start : match.start()]))
        out.extend(cjk_tokens(match.group()))
        start = match.end()
    out.extend(Token(w, "latin") for w in latin_words(text[start:]))
    return out


def to_pinyin(text: str) -> str:
    """Chinese characters as space-separated toneless pinyin syllables: "宁德时代" -> "ning de
    shi dai". Other text is folded to lower-case ASCII words and kept in place."""
    text = unicodedata.normalize("NFKC", text)
    words: list[str] = []
    start = 0
    for match in _HAN_RUN.finditer(text):
        words.extend(latin_words(text[start : match.start()]))
        words.extend(_ascii_syllable(s) for s in lazy_pinyin(match.group()))
        start = match.end()
    words.extend(latin_words(text[start:]))
    return " ".join(w for w in words if w)


def pinyin_key(text: str) -> str:
    """The pinyin with no spaces ("宁德时代" -> "ningdeshidai"), comparable with romanised names
    that join syllables into words ("Ningde", "Tianqi")."""
    return to_pinyin(text).replace(" ", "")


def has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None
