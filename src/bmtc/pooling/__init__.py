"""Pooled member figures: statistical disclosure control for tables built from confidential
per-facility submissions (`disclosure`), and the LP attacker that audits a publication
(`attack`)."""

from bmtc.pooling.attack import Attacker, Finding, Interval, audit, feasible_intervals
from bmtc.pooling.disclosure import (
    TOTAL,
    DisclosureRules,
    Key,
    Publication,
    PublishedCell,
    Status,
    Table,
    complementary_suppression,
    load_rules,
    load_rules_from,
    primary_suppression,
    publish,
    required_protection,
)

__all__ = [
    "TOTAL",
    "Attacker",
    "DisclosureRules",
    "Finding",
    "Interval",
    "Key",
    "Publication",
    "PublishedCell",
    "Status",
    "Table",
    "audit",
    "complementary_suppression",
    "feasible_intervals",
    "load_rules",
    "load_rules_from",
    "primary_suppression",
    "publish",
    "required_protection",
]
