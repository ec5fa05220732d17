"""Screening a whole registry under one rule set, date and mode."""

from __future__ import annotations

from bmtc.screening.batch import BatchResult
from bmtc.screening.batch_feoc import screen_feoc
from bmtc.screening.batch_pfe import screen_pfe
from bmtc.screening.registry import Registry
from bmtc.screening.rules import Mode, RuleSet, check_in_effect


def screen_all(reg: Registry, rules: RuleSet, as_of: str, mode: Mode | None = None,
               list_date: str | None = None) -> BatchResult:
    check_in_effect(rules, as_of)
    chosen: Mode = mode or rules.default_mode
    if rules.verdict_if_fired == "feoc":
        return screen_feoc(reg, rules, as_of, chosen)
    return screen_pfe(reg, rules, as_of, chosen, list_date or as_of)
