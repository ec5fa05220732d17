"""A determination: the status, every test with its outcome and citation, paths and gaps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bmtc.screening.attribution import Path

Status = Literal["feoc", "specified", "foreign_influenced", "clear", "insufficient_data"]
PROHIBITED: frozenset[str] = frozenset({"feoc", "specified", "foreign_influenced"})


@dataclass(frozen=True)
class TestResult:
    id: str
    title: str
    # True: the test is met; False: it is not; None: the data cannot tell.
    fired: bool | None
    citation: str
    confidence: str
    effective_from: str
    in_effect: bool
    tested_on: str
    detail: str = ""
    value: str | None = None
    scope: str = "entity"


@dataclass(frozen=True)
class Gap:
    kind: str
    party: str
    detail: str


@dataclass
class Determination:
    org_id: str
    name: str
    status: Status
    ruleset: str
    ruleset_version: str
    as_of: str
    mode: str
    tests: list[TestResult] = field(default_factory=list)
    paths: list[tuple[str, Path]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    # Tests or readings behind the status that are not confirmed in a primary source.
    unconfirmed: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    testing_dates: dict[str, str] = field(default_factory=dict)
    # Direct holders of the entity with their stakes and sources, for context.
    owners: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def prohibited(self) -> bool | None:
        if self.status in PROHIBITED:
            return True
        return None if self.status == "insufficient_data" else False

    @property
    def fired(self) -> list[TestResult]:
        return [t for t in self.tests if t.fired]

    def to_json(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "status": self.status,
            "prohibited": self.prohibited,
            "ruleset": self.ruleset,
            "ruleset_version": self.ruleset_version,
            "as_of": self.as_of,
            "mode": self.mode,
            "testing_dates": self.testing_dates,
            "tests": [asdict(t) for t in self.tests],
            "paths": [_path_json(test_id, p) for test_id, p in self.paths],
            "gaps": [asdict(g) for g in self.gaps],
            "unconfirmed": self.unconfirmed,
            "assumptions": self.assumptions,
            "owners": self.owners,
        }


def _path_json(test_id: str, path: Path) -> dict[str, Any]:
    return {
        "test": test_id,
        "source": path.source,
        "target": path.target,
        "product_pct": _range(path.product_lo, path.product_hi),
        "hops": [asdict(h) for h in path.hops],
    }


def _range(lo: float, hi: float) -> str:
    a, b = round(lo * 100, 4), round(hi * 100, 4)
    return f"{a:g}%" if a == b else f"{a:g}-{b:g}%"
