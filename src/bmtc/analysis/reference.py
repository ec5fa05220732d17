"""Versioned reference data (TOML under `bmtc/data/reference/`): material intensities, global
shares and US import reliance; demand presets load in `bmtc.analysis.demand`. Every value
carries its citation, year and confidence, so a computed tonnage can say what it rests on.
Loading validates it all, and an error names the file and the entry."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import CHEMISTRIES, Confidence, Material, Stage

# Elements and components an intensity may be given for; steel, stainless and phosphorus are
# not `Material` members but BatPaC reports them per kWh.
INTENSITY_MATERIALS = frozenset({
    "lithium", "nickel", "cobalt", "manganese", "graphite", "aluminum", "copper", "steel",
    "stainless_steel", "phosphorus", "iron", "electrolyte", "separator",
})
REGIONS = frozenset({"north_america", "europe", "world"})
Bound = Literal["about", "above", "below"]
# Section of a file -> the key no two of its entries may share.
Keys = dict[str, Callable[[Any], Any]]


def _one_of(known: frozenset[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"unknown {what} {value!r}")
        return value
    return AfterValidator(check)


def _sourced(value: Confidence) -> Confidence:
    # Reference data names its source by construction; "unsourced" belongs to imports.
    if value is Confidence.UNSOURCED:
        raise ValueError("reference figures must be primary, secondary or uncertain")
    return value


def _region(value: str) -> str:
    if value not in REGIONS and normalize_country(value) != value:
        raise ValueError(f"{value!r} is neither an ISO alpha-2 code nor one of {sorted(REGIONS)}")
    return value


Chemistry = Annotated[str, _one_of(CHEMISTRIES, "chemistry")]
IntensityMaterial = Annotated[str, _one_of(INTENSITY_MATERIALS, "material")]
Region = Annotated[str, AfterValidator(_region)]
SourcedConfidence = Annotated[Confidence, AfterValidator(_sourced)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(Strict):
    """A figure's provenance. `year` is the year the figure describes (for model designs, the
    dataset's year)."""

    source: str = Field(min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://")
    year: int = Field(ge=1900, le=2100)
    confidence: SourcedConfidence
    note: str | None = None


class Intensity(Sourced):
    chemistry: Chemistry
    material: IntensityMaterial
    kg_per_kwh: float | None = Field(default=None, ge=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.kg_per_kwh is None and self.high is None:
            raise ValueError("needs kg_per_kwh or at least a `high` bound")
        points = [v for v in (self.low, self.kg_per_kwh, self.high) if v is not None]
        if points != sorted(points):
            raise ValueError("low <= kg_per_kwh <= high does not hold")
        return self


class PackDesign(Sourced):
    chemistry: Chemistry
    pack_kg_per_kwh: float = Field(gt=0)
    cathode_share: float = Field(gt=0, le=1)


class Share(Sourced):
    id: str
    stage: Stage
    material: Material | None = None
    country: Region
    scope: str
    period: str | None = None
    share_pct: float | None = Field(default=None, ge=0, le=100)
    share_pct_high: float | None = Field(default=None, ge=0, le=100)
    bound: Bound = "about"
    amount: float | None = Field(default=None, ge=0)
    total: float | None = Field(default=None, gt=0)
    unit: Literal["kt", "count"] | None = None
    total_confidence: SourcedConfidence | None = None
    # A share of one segment only (hard-rock lithium, LFP cathodes): not the stage's total.
    subset: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.share_pct is None and (self.amount is None or self.total is None):
            raise ValueError("needs share_pct, or amount and total")
        if (self.amount is not None or self.total is not None) and self.unit is None:
            raise ValueError("amount and total need a unit")
        if self.amount is not None and self.total is not None and self.amount > self.total:
            raise ValueError("amount exceeds total")
        if self.share_pct_high is not None and (self.share_pct or 0) > self.share_pct_high:
            raise ValueError("share_pct exceeds share_pct_high")
        return self

    def fraction(self) -> float:
        """The share as a fraction, from the tonnages where the source gives them."""
        if self.amount is not None and self.total is not None:
            return self.amount / self.total
        assert self.share_pct is not None
        return self.share_pct / 100


class Reliance(Sourced):
    mineral: Material
    scope: str | None = None
    nir_pct: float = Field(ge=0, le=100)
    bound: Bound = "about"
    edition: str | None = None


class ImportSource(Sourced):
    mineral: Material
    scope: str | None = None
    country: Region
    share_pct: float = Field(ge=0, le=100)
    period: str | None = None


class ReferenceFile(Strict):
    version: str = Field(min_length=1)
    as_of: date
    unique_by: ClassVar[Keys] = {}

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for section, key in self.unique_by.items():
            seen: set[Any] = set()
            for entry in getattr(self, section):
                if key(entry) in seen:
                    raise ValueError(f"{section}: two entries for {key(entry)}")
                seen.add(key(entry))
        return self


class IntensityFile(ReferenceFile):
    unit: Literal["kg/kWh"]
    intensity: tuple[Intensity, ...]
    pack_design: tuple[PackDesign, ...] = ()

    unique_by: ClassVar[Keys] = {
        "intensity": lambda i: (i.chemistry, i.material),
        "pack_design": lambda p: p.chemistry,
    }

    def for_chemistry(self, chemistry: str) -> dict[str, Intensity]:
        found = {i.material: i for i in self.intensity if i.chemistry == chemistry}
        if not found:
            known = sorted({i.chemistry for i in self.intensity})
            raise ValueError(f"no intensities for chemistry {chemistry!r} (one of: {known})")
        return found


class SharesFile(ReferenceFile):
    share: tuple[Share, ...]

    unique_by: ClassVar[Keys] = {"share": lambda s: s.id}

    def top(self, stage: Stage, material: Material, up_to: int = 2025) -> Share:
        """The largest country share at a stage in the latest year up to `up_to` (so that
        projections are left out)."""
        rows = [s for s in self.share if s.stage is stage and s.material is material
                and s.year <= up_to and s.country not in REGIONS and not s.subset]
        if not rows:
            raise KeyError(f"no {stage} share for {material}")
        latest = max(s.year for s in rows)
        return max((s for s in rows if s.year == latest), key=Share.fraction)


class RelianceFile(ReferenceFile):
    reliance: tuple[Reliance, ...]
    import_source: tuple[ImportSource, ...] = ()

    unique_by: ClassVar[Keys] = {"reliance": lambda r: (r.mineral, r.year)}

    def latest(self, mineral: Material) -> Reliance:
        return max((r for r in self.reliance if r.mineral is mineral), key=lambda r: r.year)


F = TypeVar("F", bound=ReferenceFile)


@dataclass(frozen=True)
class Reference:
    intensity: IntensityFile
    shares: SharesFile
    reliance: RelianceFile


class ReferenceDataError(ValueError):
    """A reference file that cannot be used, with the file and the entry named."""


def _label(entry: Any, index: int) -> str:
    if not isinstance(entry, dict):
        return f"#{index + 1}"
    names = ("id",) if "id" in entry else ("chemistry", "mineral", "material", "year")
    return "/".join(str(entry[k]) for k in names if k in entry) or f"#{index + 1}"


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            parts[-1] += f"[{_label(node, step)}]"
            continue
        parts.append(str(step))
        node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts) or "(file)"


def load_file(path: Path, model: type[F]) -> F:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReferenceDataError(f"{path.name}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{path.name}: {_where(data, tuple(e['loc']))}: {e['msg']}"
                    for e in exc.errors()]
        raise ReferenceDataError("\n".join(problems)) from None


def reference_folder() -> Path:
    return Path(str(resources.files("bmtc") / "data" / "reference"))


def load_reference_from(folder: Path) -> Reference:
    return Reference(
        intensity=load_file(folder / "material_intensity.toml", IntensityFile),
        shares=load_file(folder / "global_shares.toml", SharesFile),
        reliance=load_file(folder / "import_reliance.toml", RelianceFile),
    )


@cache
def load_reference() -> Reference:
    """The reference data shipped with bmtc; loading validates every file."""
    return load_reference_from(reference_folder())
