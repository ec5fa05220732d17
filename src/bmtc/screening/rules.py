"""Screening rule sets: legal tests as versioned data files, validated when loaded.

A rule set file (TOML, one per rule set, in `bmtc/data/rules/`) carries its citation, effective
dates and covered nations; each rule names the test the engine runs, the numbers and lists it
uses, and its own citation, effective dates and confidence. Where the law is unsettled the
file lists the readings (`modes`) and the assumptions a verdict rests on.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bmtc.domain.dates import parse_partial_date
from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import Confidence, ScreeningList

Mode = Literal["control-chain", "multiplicative"]
MODES: tuple[Mode, ...] = ("control-chain", "multiplicative")
Metric = Literal["board", "voting", "equity"]

# The checks the engine knows how to run; a rule file may only name these.
TEST_KINDS = frozenset({
    "foreign_entity", "listed", "is_government", "jurisdiction", "activity_jurisdiction",
    "government_control", "contract_control", "foreign_controlled_base", "foreign_controlled",
    "sfe_officer", "sfe_single_owner", "sfe_aggregate_owner", "sfe_debt",
    "sfe_effective_control",
})
_NEEDS_THRESHOLD = frozenset({
    "government_control", "foreign_controlled", "sfe_single_owner", "sfe_aggregate_owner",
    "sfe_debt",
})


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _iso(value: str) -> str:
    return parse_partial_date(value)


class Rule(_Strict):
    id: str
    test: str
    title: str
    citation: str
    effective_from: str
    effective_to: str | None = None
    confidence: Confidence
    lists: tuple[ScreeningList, ...] = ()
    threshold_pct: float | None = Field(default=None, gt=0, le=100)
    inclusive: bool = True
    metrics: tuple[Metric, ...] = ()
    # "sfe" tests decide specified status; "fie" tests apply only to entities that are not.
    role: Literal["primary", "fie"] = "primary"
    precondition: bool = False
    scope: Literal["entity", "activities"] = "entity"
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _iso(self.effective_from)
        if self.effective_to is not None and _iso(self.effective_to) < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from")
        if self.test not in TEST_KINDS:
            raise ValueError(
                f"test {self.test!r} is not one the engine runs ({', '.join(sorted(TEST_KINDS))})"
            )
        if self.test == "listed" and not self.lists:
            raise ValueError("a `listed` test needs `lists`")
        if self.test in _NEEDS_THRESHOLD and self.threshold_pct is None:
            raise ValueError(f"a `{self.test}` test needs `threshold_pct`")
        return self

    def in_effect(self, on: str) -> bool:
        if self.effective_from > on:
            return False
        return self.effective_to is None or on <= self.effective_to

    def crosses(self, share: float) -> bool:
        """Whether a share (a fraction, 0..1) meets this rule's threshold."""
        assert self.threshold_pct is not None
        return crosses(share, self.threshold_pct, self.inclusive)


# Shares are sums of products of floats; a hair's breadth below a threshold is a rounding
# artefact, not a finding, and both engines must treat it alike.
_TOLERANCE = 1e-9


def crosses(share: float, threshold_pct: float, inclusive: bool) -> bool:
    limit = threshold_pct / 100
    if inclusive:
        return share >= limit - _TOLERANCE
    return share > limit + _TOLERANCE


class Note(_Strict):
    id: str
    text: str
    confidence: Confidence
    citation: str | None = None


class TestingDate(_Strict):
    rule_id: str
    citation: str
    confidence: Confidence
    text: str
    enactment: str
    first_day_rules: tuple[str, ...]


class RuleSet(_Strict):
    id: str
    version: str
    title: str
    citation: str
    source_url: str
    effective_from: str
    covered_nations: tuple[str, ...]
    covered_nations_citation: str
    verdict_if_fired: Literal["feoc", "specified"]
    default_mode: Mode
    control_threshold_pct: float = Field(gt=0, le=100)
    control_threshold_inclusive: bool
    testing_date: TestingDate | None = None
    assumptions: tuple[Note, ...] = ()
    modes: tuple[Note, ...]
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _check(self) -> Self:
        for nation in self.covered_nations:
            if normalize_country(nation) != nation:
                raise ValueError(f"covered_nations: {nation!r} is not an ISO alpha-2 code")
        if {m.id for m in self.modes} != set(MODES):
            raise ValueError(f"modes: must describe exactly {', '.join(MODES)}")
        seen: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for other in seen.get(rule.id, []):
                if _overlap(rule, other):
                    raise ValueError(f"rules: two versions of {rule.id} are in effect together")
            seen.setdefault(rule.id, []).append(rule)
        if self.testing_date is not None:
            unknown = set(self.testing_date.first_day_rules) - set(seen)
            if unknown:
                raise ValueError(f"testing_date: unknown rules {sorted(unknown)}")
        return self

    def rules_on(self, on: str) -> list[Rule]:
        """The version of each rule in effect on `on`, plus rules not yet in effect (which a
        verdict reports as such rather than silently leaving out)."""
        chosen: dict[str, Rule] = {}
        for rule in self.rules:
            current = chosen.get(rule.id)
            if current is None or (rule.in_effect(on) and not current.in_effect(on)):
                chosen[rule.id] = rule
        return list(chosen.values())

    def mode_note(self, mode: Mode) -> Note:
        return next(m for m in self.modes if m.id == mode)

    def control_crosses(self, share: float) -> bool:
        return crosses(share, self.control_threshold_pct, self.control_threshold_inclusive)


def _overlap(a: Rule, b: Rule) -> bool:
    a_end, b_end = a.effective_to or "9999", b.effective_to or "9999"
    return a.effective_from <= b_end and b.effective_from <= a_end


class RuleSetError(ValueError):
    """A rule set file that cannot be used, with the file and the rule named."""


def load_rule_set(path: Path) -> RuleSet:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{path.name}: {exc}") from None
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error["loc"])
            where = ".".join(str(p) for p in loc)
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                rule_id = data.get("rules", [{}])[loc[1]].get("id", f"#{loc[1] + 1}")
                where = f"rule {rule_id}" + ("." + ".".join(map(str, loc[2:])) if loc[2:] else "")
            problems.append(f"{path.name}: {where}: {error['msg']}")
        raise RuleSetError("\n".join(problems)) from None


@cache
def bundled_rule_sets() -> dict[str, RuleSet]:
    """Every rule set shipped with bmtc, by id; loading validates them all."""
    folder = resources.files("bmtc") / "data" / "rules"
    found: dict[str, RuleSet] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            rule_set = load_rule_set(Path(str(entry)))
            if rule_set.id != entry.name.removesuffix(".toml"):
                raise RuleSetError(f"{entry.name}: id {rule_set.id!r} does not match the file")
            found[rule_set.id] = rule_set
    return found


def rule_set(rule_set_id: str) -> RuleSet:
    sets = bundled_rule_sets()
    if rule_set_id not in sets:
        raise RuleSetError(
            f"unknown rule set {rule_set_id!r} (one of: {', '.join(sorted(sets))})"
        )
    return sets[rule_set_id]


def check_in_effect(rules: RuleSet, on: str) -> None:
    """Refuse a date before the rule set took effect: its tests would answer questions the
    law then in force did not ask, and an empty answer would read as "clear"."""
    if on < rules.effective_from:
        raise ValueError(
            f"{rules.id} takes effect on {rules.effective_from}; it does not apply on {on}"
        )


def pfe_testing_dates(rules: RuleSet, year_start: date, year_end: date) -> tuple[str, str]:
    """(date for the first-day SFE list tests, date for every other test) in a taxable year.

    PFE-2: status is tested on the last day of the taxable year, except that for the first
    taxable year beginning after enactment the SFE list tests look at its first day.
    """
    assert rules.testing_date is not None
    enactment = date.fromisoformat(rules.testing_date.enactment)
    first_year = year_start > enactment and _previous_start_not_after(year_start, enactment)
    list_day = year_start if first_year else year_end
    return list_day.isoformat(), year_end.isoformat()


def _previous_start_not_after(year_start: date, enactment: date) -> bool:
    # The taxable year is the first beginning after enactment when the one before it began
    # on or before enactment (taxable years are taken to run twelve months).
    try:
        previous = year_start.replace(year=year_start.year - 1)
    except ValueError:
        previous = year_start.replace(year=year_start.year - 1, day=28)
    return previous <= enactment
