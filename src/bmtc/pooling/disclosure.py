"""Statistical disclosure control for tables of pooled member figures.

A table is a grid of cells keyed by one category per dimension (stage x country, say), with
every margin: a key holding `TOTAL` in a dimension is the sum over that dimension, so a 2-D
table has row totals, column totals and the grand total. Each cell holds the members'
contributions, summed per member. Primary suppression finds the sensitive cells (threshold,
dominance and p% rules); complementary suppression hides further cells until the LP attacker
of `bmtc.pooling.attack` can no longer recover or narrow any sensitive cell below its
protection interval; `publish` applies both. Rules load from `bmtc/data/pooling/disclosure.toml`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from bmtc.analysis.reference import Keys, ReferenceFile, SourcedConfidence, load_file
from bmtc.compliance.schedule import Strict

TOTAL = "Total"
Key = tuple[str, ...]
Reason = Literal["suppressed: confidential", "suppressed: complementary"]


class Rule(Strict):
    basis: str = Field(min_length=1)
    confidence: SourcedConfidence


class MinContributors(Rule):
    n: int = Field(default=3, ge=1)


class Dominance(Rule):
    n: int = Field(default=1, ge=1)
    k: float = Field(default=60, gt=0, le=100)


class PRule(Rule):
    p: float = Field(default=10, ge=0)


class Protection(Rule):
    # Beyond 100% a lone contributor's cell could not be protected below: no cell is < 0.
    p: float = Field(default=10, gt=0, le=100)


class Assumption(Strict):
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    confidence: SourcedConfidence


class DisclosureRules(ReferenceFile):
    min_contributors: MinContributors
    dominance: Dominance
    p_rule: PRule
    protection: Protection
    assumption: tuple[Assumption, ...] = ()

    unique_by: ClassVar[Keys] = {"assumption": lambda a: a.id}


def pooling_folder() -> Path:
    return Path(str(resources.files("bmtc") / "data" / "pooling"))


def load_rules_from(path: Path) -> DisclosureRules:
    return load_file(path, DisclosureRules)


@cache
def load_rules() -> DisclosureRules:
    """The disclosure rules shipped with bmtc."""
    return load_rules_from(pooling_folder() / "disclosure.toml")


class Status(StrEnum):
    SAFE = "safe"
    TOO_FEW = "too few contributors"
    DOMINANCE = "dominance"
    P_RULE = "p% rule"


def relations(dimensions: Sequence[Sequence[str]]) -> list[tuple[Key, tuple[Key, ...]]]:
    """Every additivity constraint of the table: (total cell, the cells it sums)."""
    found: list[tuple[Key, tuple[Key, ...]]] = []
    for key in itertools.product(*[[*d, TOTAL] for d in dimensions]):
        for i, part in enumerate(key):
            if part == TOTAL:
                found.append((key, tuple((*key[:i], c, *key[i + 1:]) for c in dimensions[i])))
    return found


@dataclass(frozen=True)
class Table:
    """Cells (margins included) in a fixed order, each with its contributions by member.
    Build with `Table.build`, which derives the margins from the interior cells."""

    dimensions: tuple[tuple[str, ...], ...]
    contributions: Mapping[Key, Mapping[str, float]]

    @classmethod
    def build(cls, dimensions: Sequence[Sequence[str]],
              cells: Mapping[Key, Iterable[tuple[str, float]]]) -> Table:
        dims = tuple(tuple(d) for d in dimensions)
        if not dims or any(not d or len(set(d)) != len(d) or TOTAL in d for d in dims):
            raise ValueError(f"each dimension needs distinct categories other than {TOTAL!r}")
        interior = set(itertools.product(*dims))
        own: dict[Key, dict[str, list[float]]] = {}
        for key, entries in cells.items():
            if key not in interior:
                raise ValueError(f"{key!r} is not an interior cell of the table")
            for member, value in entries:
                if not member or not math.isfinite(value) or value < 0:
                    raise ValueError(f"{key!r}: contribution ({member!r}, {value!r}) is invalid")
                own.setdefault(key, {}).setdefault(member, []).append(value)
        # Margins add the members' cell sums, so they agree with the cells however the
        # figures were split into entries.
        parts: dict[Key, dict[str, list[float]]] = {}
        for key, by_member in own.items():
            for member, values in by_member.items():
                for mask in itertools.product((False, True), repeat=len(dims)):
                    target = tuple(TOTAL if m else k for m, k in zip(mask, key, strict=True))
                    parts.setdefault(target, {}).setdefault(member, []).append(math.fsum(values))
        keys = itertools.product(*[[*d, TOTAL] for d in dims])
        summed = {key: {m: math.fsum(v) for m, v in sorted(parts.get(key, {}).items())}
                  for key in keys}
        return cls(dims, summed)

    @property
    def keys(self) -> list[Key]:
        return list(self.contributions)

    def total(self, key: Key) -> float:
        return math.fsum(self.contributions[key].values())

    def ranked(self, key: Key) -> list[tuple[str, float]]:
        """Contributions largest first; ties by member id so every rule is deterministic."""
        return sorted(self.contributions[key].items(), key=lambda mv: (-mv[1], mv[0]))

    def members(self) -> list[str]:
        return sorted({m for c in self.contributions.values() for m in c})

    def own(self, member: str) -> dict[Key, float]:
        """What one member knows for certain: its own contribution to each cell."""
        return {k: c[member] for k, c in self.contributions.items() if member in c}

    def structural_zero(self, key: Key) -> bool:
        return not self.contributions[key]


def assess(table: Table, key: Key, rules: DisclosureRules) -> Status:
    values = [v for _, v in table.ranked(key)]
    if not values:
        return Status.SAFE
    if len(values) < rules.min_contributors.n:
        return Status.TOO_FEW
    total = math.fsum(values)
    if total > 0 and math.fsum(values[:rules.dominance.n]) >= rules.dominance.k / 100 * total:
        return Status.DOMINANCE
    # The remainder is summed directly, not as total - x1 - x2, to avoid cancellation.
    if math.fsum(values[2:]) < rules.p_rule.p / 100 * values[0]:
        return Status.P_RULE
    return Status.SAFE


def primary_suppression(table: Table, rules: DisclosureRules) -> dict[Key, Status]:
    """Each cell's status: safe, or the category of rule that makes it sensitive."""
    return {key: assess(table, key, rules) for key in table.keys}


def required_protection(table: Table, key: Key, rules: DisclosureRules,
                        attacker: str | None = None) -> float:
    """How far below and above its true total the range an attacker can derive for a
    sensitive cell must reach: p% of the largest contribution the attacker does not own."""
    others = [v for m, v in table.ranked(key) if m != attacker]
    return rules.protection.p / 100 * others[0] if others else 0.0


@dataclass(frozen=True)
class PublishedCell:
    value: float | None
    reason: Reason | None = None


@dataclass(frozen=True)
class Publication:
    """What everyone may see: a value for each released cell, a reason for each other."""

    dimensions: tuple[tuple[str, ...], ...]
    cells: Mapping[Key, PublishedCell]

    def suppressed(self) -> list[Key]:
        return [k for k, c in self.cells.items() if c.value is None]


def _release(table: Table, primary: Collection[Key], secondary: Collection[Key]) -> Publication:
    cells: dict[Key, PublishedCell] = {}
    for key in table.keys:
        if key in primary:
            cells[key] = PublishedCell(None, "suppressed: confidential")
        elif key in secondary:
            cells[key] = PublishedCell(None, "suppressed: complementary")
        else:
            cells[key] = PublishedCell(table.total(key))
    return Publication(table.dimensions, cells)


def _sensitive(table: Table, sensitive: Mapping[Key, Status] | Collection[Key]) -> list[Key]:
    if isinstance(sensitive, Mapping):
        chosen = {k for k, s in sensitive.items() if s is not Status.SAFE}
    else:
        chosen = set(sensitive)
    return [k for k in table.keys if k in chosen and not table.structural_zero(k)]


def complementary_suppression(table: Table, sensitive: Mapping[Key, Status] | Collection[Key],
                              rules: DisclosureRules) -> set[Key]:
    """Further cells to suppress so that no attacker (an outside user, or one member using
    its own contributions) can bound a sensitive cell more tightly than its protection.

    `sensitive` is the result of `primary_suppression` or a collection of keys. Each
    (cell, attacker, side) is audited by LP in a fixed order; a failing one is repaired by
    suppressing the cheapest published cells that let an alternative table put the cell
    beyond its protection, and auditing resumes. Suppressing more only widens every
    attacker's range, so a passed check stays passed and the loop ends within one repair per
    cell of the table.
    """
    # attack.py builds on this module's types, so it is imported when first needed.
    from bmtc.pooling import attack

    targets = _sensitive(table, sensitive)
    hidden = set(targets)
    movable = [k for k in table.keys if not table.structural_zero(k)]
    scale = max((table.total(k) for k in movable), default=0.0) or 1.0
    weights = {k: 1 + table.total(k) / scale for k in movable}
    checks = [(key, member, side) for key in targets for member in [None, *table.members()]
              if required_protection(table, key, rules, member) > 0 for side in (1, -1)]
    passed: set[tuple[Key, str | None, int]] = set()
    for _ in range(len(movable) + 2):
        view = _release(table, targets, hidden)
        attackers: dict[str | None, attack.Attacker] = {}
        repaired = False
        for check in checks:
            key, member, side = check
            prior = attack.knowledge(table, member)
            if check in passed or (member is not None and hidden.isdisjoint(prior)):
                continue  # a member who owns nothing hidden sees what an outsider sees
            if member not in attackers:
                attackers[member] = attack.Attacker(view, prior)
            need = required_protection(table, key, rules, member)
            if attack.reaches(attackers[member], key, table.total(key), need, side):
                passed.add(check)
                continue
            cover = attack.cover(view, prior, key, table.total(key), need, side, weights)
            if cover - hidden:
                hidden |= cover
            elif hidden != set(movable):
                hidden = set(movable)  # no cheap repair found: release nothing but zeros
            else:
                passed.add(check)  # unprotectable even fully suppressed; the audit reports it
                continue
            repaired = True
            break
        if not repaired:
            break
    return hidden - set(targets)


def publish(table: Table, rules: DisclosureRules) -> Publication:
    status = primary_suppression(table, rules)
    primary = _sensitive(table, status)
    return _release(table, primary, complementary_suppression(table, primary, rules))
