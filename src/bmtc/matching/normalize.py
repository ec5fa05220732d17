"""Company names reduced to comparable parts: core tokens, legal form, places, aliases.

`normalize_name("Zhejiang Huayou Cobalt Co., Ltd.")` gives core tokens ("huayou", "cobalt"),
legal form CO_LTD and the place prefix "zhejiang", which English versions of Chinese names often
omit; the place is kept as a separate feature, not deleted. Parenthesised text is either part of
the name ("(Group)", "(Shanghai)", "(publ)") or an alias ("(CATL)", "(formerly POSCO
Chemical)"). All functions are pure and never raise on any text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from bmtc.matching.aliases import EDGE, split_aliases
from bmtc.matching.legal_forms import CJK_PREFIXES, CJK_SUFFIXES, match_prefix, match_suffix
from bmtc.matching.scripts import Token, TokenKind, tokenize
from bmtc.matching.vocab import CHINESE_PLACES, STOPWORDS
from bmtc.matching.words import PLACES, token_forms

__all__ = [
    "NormalizedName",
    "Role",
    "compact",
    "content",
    "name_variants",
    "normalize_name",
    "split_aliases",
    "stopword",
]

Role = Literal["core", "place", "qualifier"]


@dataclass(frozen=True, slots=True)
class NormalizedName:
    """A name split into what identifies a company and what only qualifies it.

    `tokens` keeps every word in order (legal forms removed); `roles` says for each whether it
    belongs to the core or is a place: `place` for a registration locality (a leading Chinese
    province or city, a place written after the legal form) and `qualifier` for a place inside
    the name, which usually marks a regional subsidiary.
    """

    original: str
    tokens: tuple[str, ...]
    roles: tuple[Role, ...]
    kinds: tuple[TokenKind, ...]
    legal_forms: tuple[str, ...]
    legal_words: tuple[str, ...]
    locations: tuple[tuple[str, Role], ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def core(self) -> tuple[str, ...]:
        return tuple(t for t, r in zip(self.tokens, self.roles, strict=True) if r == "core")

    @property
    def places(self) -> tuple[str, ...]:
        """Registration localities, each written as one word ("zhe jiang" -> "zhejiang")."""
        return tuple(text for text, role in self.locations if role == "place")

    @property
    def qualifiers(self) -> tuple[str, ...]:
        return tuple(text for text, role in self.locations if role == "qualifier")

    @property
    def translit(self) -> frozenset[str]:
        """Tokens romanised from kana, hangul or other non-Han scripts."""
        return frozenset(t for t, k in zip(self.tokens, self.kinds, strict=True) if k == "translit")

    @property
    def legal_form(self) -> str | None:
        return self.legal_forms[0] if self.legal_forms else None

    @property
    def key(self) -> str:
        """The core as text: what normalising the name again gives back."""
        return " ".join(self.core)

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(t for t in self.core if t.isdigit())


def stopword(name: NormalizedName, i: int) -> bool:
    # Pinyin "de" or "le" is a syllable of a name, not an article.
    return name.kinds[i] == "latin" and name.tokens[i] in STOPWORDS


@lru_cache(maxsize=65536)
def content(name: NormalizedName) -> tuple[int, ...]:
    """Positions of the tokens that can carry weight (stopwords excluded)."""
    return tuple(i for i in range(len(name.tokens)) if not stopword(name, i))


@lru_cache(maxsize=65536)
def compact(name: NormalizedName) -> str:
    return "".join(name.tokens[i] for i in content(name))


def _words(text: str) -> tuple[list[Token], list[str]]:
    """Tokens of the main name with script legal forms (株式会社, 有限公司) taken off."""
    codes: list[str] = []
    text = text.strip(EDGE)
    changed = True
    while changed:
        changed = False
        for form, code in CJK_SUFFIXES:
            if text.endswith(form) and len(text) > len(form):
                text, changed = text[: -len(form)].strip(EDGE), True
                codes.append(code)
                break
        for form, code in CJK_PREFIXES:
            if text.startswith(form) and len(text) > len(form):
                text, changed = text[len(form) :].strip(EDGE), True
                codes.append(code)
                break
    tokens: list[Token] = []
    for token in tokenize(text):
        tokens.extend(Token(w, token.kind) for w in token_forms(token))
    return tokens, codes


def _place_run(words: list[str], start: int, places: frozenset[str]) -> int:
    for size in (3, 2, 1):
        if start + size <= len(words) and "".join(words[start : start + size]) in places:
            return size
    return 0


def _legal_cut(words: list[str]) -> tuple[int, int, int, list[str]]:
    """Legal forms at the ends of a name: (words before the name, words after it, trailing
    place words after the form as in "Huayou Cobalt Co., Ltd., Zhejiang", codes)."""
    codes: list[str] = []
    trailing = 0
    for size in (3, 2, 1):
        found = match_suffix(words[:-size]) if len(words) > size else None
        if found and _place_run(words, len(words) - size, PLACES) == size:
            trailing = size
            break
    end = len(words) - trailing
    while (found := match_suffix(words[:end])) is not None and end > found[1]:
        codes.append(found[0])
        end -= found[1]
    start = 0
    while (found := match_prefix(words[start:end])) is not None:
        codes.append(found[0])
        start += found[1]
    return start, len(words) - trailing - end, trailing, codes


def _place_scan(words: list[str]) -> list[tuple[int, int, Role]]:
    """(start, size, role) of each place: leading Chinese places are registration localities,
    any other place is a qualifier."""
    found: list[tuple[int, int, Role]] = []
    i = 0
    while (size := _place_run(words, i, CHINESE_PLACES)) and i + size < len(words):
        found.append((i, size, "place"))
        i += size
    while i < len(words):
        size = _place_run(words, i, PLACES)
        if size:
            found.append((i, size, "qualifier"))
        i += max(size, 1)
    return found


def _analyse(
    words: list[str],
) -> tuple[list[Role | None], list[str], list[tuple[str, Role]]]:
    """Role of each word (None for legal-form words), legal codes and the places found.

    Taking off a legal form can uncover a place and the reverse, so both repeat until the
    core is stable; this is what makes normalising a core again change nothing."""
    roles: list[Role | None] = ["core"] * len(words)
    codes: list[str] = []
    runs: list[tuple[str, Role]] = []
    while True:
        core = [i for i, r in enumerate(roles) if r == "core"]
        text = [words[i] for i in core]
        start, end, trailing, found = _legal_cut(text)
        codes += found
        for k in (*range(start), *range(len(core) - trailing - end, len(core) - trailing)):
            roles[core[k]] = None
        if trailing:
            for k in range(len(core) - trailing, len(core)):
                roles[core[k]] = "place"
            runs.append(("".join(text[-trailing:]), "place"))
        core = [i for i, r in enumerate(roles) if r == "core"]
        text = [words[i] for i in core]
        places = _place_scan(text)
        taken = {k for first, size, _ in places for k in range(first, first + size)}
        # A name that is only a place is still a name: keep it rather than empty the core.
        if all(k in taken or text[k] in STOPWORDS for k in range(len(text))):
            places = []
        for first, size, role in places:
            for k in range(first, first + size):
                roles[core[k]] = role
            runs.append(("".join(text[first : first + size]), role))
        if not (start or end or trailing or places):
            return roles, codes, runs


@lru_cache(maxsize=200_000)
def normalize_name(name: str) -> NormalizedName:
    """Normalise one company name (aliases inside it are split off and listed)."""
    main, aliases = split_aliases(name)
    tokens, cjk_codes = _words(main)
    roles, codes, locations = _analyse([t.text for t in tokens])
    kept = [(t, r) for t, r in zip(tokens, roles, strict=True) if r is not None]
    return NormalizedName(
        original=name,
        tokens=tuple(t.text for t, _ in kept),
        roles=tuple(r for _, r in kept),
        kinds=tuple(t.kind for t, _ in kept),
        legal_forms=tuple(codes + cjk_codes),
        legal_words=tuple(t.text for t, r in zip(tokens, roles, strict=True) if r is None),
        locations=tuple(locations),
        aliases=aliases,
    )


def name_variants(name: str, aliases: tuple[str, ...] = ()) -> tuple[NormalizedName, ...]:
    """The name and every alias (given or written into the name), normalised, without
    duplicates and without empty ones."""
    first = normalize_name(name)
    out: dict[tuple[str, ...], NormalizedName] = {}
    for variant in (first, *(normalize_name(a) for a in (*first.aliases, *aliases))):
        if variant.tokens:
            out.setdefault(variant.tokens, variant)
    return tuple(out.values())
