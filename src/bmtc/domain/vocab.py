"""Controlled vocabularies: stages, statuses, organization and relationship kinds, products.

Every imported value is mapped onto these; the source's own wording is kept beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    MINING = "mining"
    REFINING = "refining"
    PRECURSOR = "precursor"
    CATHODE = "cathode"
    ANODE = "anode"
    ELECTROLYTE = "electrolyte"
    SEPARATOR = "separator"
    FOIL = "foil"
    CELL = "cell"
    MODULE_PACK = "module_pack"
    RECYCLING = "recycling"


class Status(StrEnum):
    OPERATING = "operating"
    UNDER_CONSTRUCTION = "under_construction"
    ANNOUNCED = "announced"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    # A plant that ran and has shut for good; "cancelled" is kept for projects never finished.
    CLOSED = "closed"


class Confidence(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    UNCERTAIN = "uncertain"
    # The statement names no source at all (e.g. a BODS statement without `source`): it may
    # block a "clear" verdict but never proves a finding on its own.
    UNSOURCED = "unsourced"


class OrgKind(StrEnum):
    COMPANY = "company"
    GOVERNMENT = "government"
    STATE_BODY = "state_body"
    STATE_OWNED_ENTERPRISE = "state_owned_enterprise"
    PERSON = "person"
    # A ruling or dominant party counts as part of a government under the DOE FEOC reading.
    POLITICAL_PARTY = "political_party"


# Kinds whose holdings are a government's own when the country is a covered nation.
GOVERNMENT_KINDS = frozenset(
    {OrgKind.GOVERNMENT, OrgKind.STATE_BODY, OrgKind.STATE_OWNED_ENTERPRISE,
     OrgKind.POLITICAL_PARTY}
)


class GovernmentLevel(StrEnum):
    NATIONAL = "national"
    SUBNATIONAL = "subnational"


class RelationshipKind(StrEnum):
    OWNERSHIP = "ownership"
    JOINT_VENTURE = "joint_venture"
    DEBT = "debt"
    LICENCE = "licence"
    EFFECTIVE_CONTROL = "effective_control"
    SUPPLY = "supply"
    OFFTAKE = "offtake"
    # A seat held by a person on a governing body (FollowTheMoney "Directorship").
    DIRECTORSHIP = "directorship"


# Relationship kinds through which a holder can own or control the other party.
HOLDING_KINDS = frozenset({RelationshipKind.OWNERSHIP, RelationshipKind.JOINT_VENTURE})
CONTRACT_KINDS = frozenset({RelationshipKind.LICENCE, RelationshipKind.EFFECTIVE_CONTROL})


class Office(StrEnum):
    """Offices whose appointment a relationship may confer (covered officers, PFE-6)."""

    BOARD = "board"
    CHAIR = "chair"
    CEO = "ceo"
    PRESIDENT = "president"
    COO = "coo"
    CFO = "cfo"
    GENERAL_COUNSEL = "general_counsel"
    SENIOR_VICE_PRESIDENT = "senior_vice_president"
    EXECUTIVE_OFFICER = "executive_officer"
    FACILITY_MANAGER = "facility_manager"


class ScreeningList(StrEnum):
    """Government lists that screening rule sets consult."""

    FTO = "fto"
    OFAC_SDN = "ofac-sdn"
    AG_CONVICTION = "ag-conviction"
    COMMERCE_DETERMINATION = "commerce-determination"
    DOE_DETERMINATION = "doe-determination"
    DOD_1260H = "dod-1260h"
    UFLPA = "uflpa"
    NDAA_154B = "ndaa-fy2024-154b"


class FundingInstrument(StrEnum):
    GRANT = "grant"
    LOAN = "loan"
    LOAN_GUARANTEE = "loan_guarantee"
    EQUITY = "equity"
    DPA_AWARD = "dpa_award"
    TAX_CREDIT = "tax_credit"
    OTHER = "other"


class AwardStatus(StrEnum):
    SELECTED = "selected"
    CONDITIONAL = "conditional"
    AWARDED = "awarded"
    CLOSED = "closed"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


class Material(StrEnum):
    """Element or material family a product carries, used for `--material` filters."""

    LITHIUM = "lithium"
    NICKEL = "nickel"
    COBALT = "cobalt"
    MANGANESE = "manganese"
    GRAPHITE = "graphite"
    SILICON = "silicon"
    IRON_PHOSPHATE = "iron_phosphate"
    COPPER = "copper"
    ALUMINUM = "aluminum"
    FLUORINE = "fluorine"
    POLYMER = "polymer"
    SODIUM = "sodium"
    IRON = "iron"
    CARBON = "carbon"
    BATTERY = "battery"
    OTHER = "other"


@dataclass(frozen=True)
class Product:
    code: str
    label: str
    stages: tuple[Stage, ...]
    materials: tuple[Material, ...]


def _p(code: str, label: str, stages: str, materials: str) -> Product:
    return Product(
        code,
        label,
        tuple(Stage(s) for s in stages.split()),
        tuple(Material(m) for m in materials.split()),
    )


_S = Stage
PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in [
        # Raw materials
        _p("lithium_brine", "Lithium brine", "mining refining", "lithium"),
        _p("geothermal_brine", "Geothermal lithium brine", "mining refining", "lithium"),
        _p("lithium_claystone", "Lithium claystone / clay ore", "mining refining", "lithium"),
        _p("spodumene_ore", "Spodumene ore", "mining", "lithium"),
        _p("spodumene_concentrate", "Spodumene concentrate", "mining", "lithium"),
        _p("nickel_ore", "Nickel ore", "mining", "nickel"),
        _p("nickel_concentrate", "Nickel concentrate", "mining refining", "nickel"),
        _p("nickel_matte", "Nickel matte", "mining refining", "nickel"),
        _p("mhp", "Mixed hydroxide precipitate (MHP)", "refining", "nickel cobalt"),
        _p("cobalt_concentrate", "Cobalt concentrate", "mining", "cobalt"),
        _p("manganese_ore", "Manganese ore", "mining", "manganese"),
        _p("natural_graphite", "Natural flake graphite", "mining anode", "graphite"),
        _p("graphite_concentrate", "Graphite concentrate", "mining", "graphite"),
        _p("copper_concentrate", "Copper concentrate", "mining", "copper"),
        # Refined chemicals and metals
        _p("lithium_carbonate", "Lithium carbonate", "refining recycling", "lithium"),
        _p("lithium_hydroxide", "Lithium hydroxide monohydrate", "refining recycling", "lithium"),
        _p("lithium_chloride", "Lithium chloride", "refining", "lithium"),
        _p("lithium_metal", "Lithium metal", "refining", "lithium"),
        _p("nickel_sulfate", "Nickel sulfate", "refining recycling", "nickel"),
        _p("nickel_metal", "Nickel metal (class 1)", "mining refining recycling", "nickel"),
        _p("cobalt_sulfate", "Cobalt sulfate", "refining recycling", "cobalt"),
        _p("cobalt_metal", "Cobalt metal", "mining refining recycling", "cobalt"),
        _p("manganese_sulfate", "High-purity manganese sulfate", "refining recycling", "manganese"),
        _p("metal_salts", "Battery-grade metal salts (mixed)", "refining recycling",
           "nickel cobalt manganese lithium"),
        # Precursor and cathode
        _p("pcam", "Cathode precursor (pCAM)", "precursor recycling", "nickel cobalt manganese"),
        _p("nmc_cam", "NMC cathode active material", "cathode recycling",
           "lithium nickel cobalt manganese"),
        _p("nca_cam", "NCA cathode active material", "cathode", "lithium nickel cobalt"),
        _p("ncma_cam", "NCMA cathode active material", "cathode",
           "lithium nickel cobalt manganese"),
        _p("lfp_cam", "LFP cathode active material", "cathode recycling",
           "lithium iron_phosphate"),
        _p("lmfp_cam", "LMFP cathode active material", "cathode",
           "lithium manganese iron_phosphate"),
        _p("lmo_cam", "LMO cathode active material", "cathode", "lithium manganese"),
        _p("cathode_materials", "Cathode materials (unspecified)", "cathode recycling", "lithium"),
        _p("conductive_additive", "Conductive additive (carbon black, CNT)", "cathode anode",
           "carbon"),
        _p("iron_phosphate", "Iron phosphate (LFP precursor)", "precursor", "iron_phosphate"),
        # Anode
        _p("spherical_graphite", "Spherical (purified) graphite", "anode", "graphite"),
        _p("coated_graphite_aam", "Coated spherical graphite AAM", "anode", "graphite"),
        _p("synthetic_graphite", "Synthetic graphite AAM", "anode", "graphite"),
        _p("silicon_anode", "Silicon / silicon-carbon anode material", "anode", "silicon"),
        _p("silane", "Silane (silicon anode feedstock)", "anode", "silicon"),
        _p("lithium_metal_anode", "Lithium metal anode", "anode", "lithium"),
        _p("anode_materials", "Anode materials (unspecified)", "anode", "graphite"),
        _p("hard_carbon", "Hard carbon (sodium-ion anode)", "anode", "carbon"),
        # Electrolyte
        _p("electrolyte", "Liquid electrolyte", "electrolyte", "lithium fluorine"),
        _p("lipf6", "LiPF6 electrolyte salt", "electrolyte", "lithium fluorine"),
        _p("electrolyte_salt", "Electrolyte salt (other)", "electrolyte", "lithium"),
        _p("electrolyte_solvent", "Electrolyte solvent (EC, DMC, ...)", "electrolyte", "other"),
        _p("solid_electrolyte", "Solid-state electrolyte", "electrolyte", "lithium"),
        _p("pvdf_binder", "PVDF binder", "electrolyte cathode", "fluorine polymer"),
        # Separator and foil
        _p("wet_separator", "Wet-process separator film", "separator", "polymer"),
        _p("dry_separator", "Dry-process separator film", "separator", "polymer"),
        _p("coated_separator", "Coated separator", "separator", "polymer"),
        _p("separator_resin", "Separator resin (UHMWPE)", "separator", "polymer"),
        _p("copper_foil", "Copper foil (anode current collector)", "foil recycling", "copper"),
        _p("aluminum_foil", "Aluminium foil (cathode current collector)", "foil", "aluminum"),
        # Cells, modules, packs
        _p("li_ion_cells", "Lithium-ion cells", "cell", "battery lithium"),
        _p("cylindrical_cells", "Cylindrical cells", "cell", "battery lithium"),
        _p("pouch_cells", "Pouch cells", "cell", "battery lithium"),
        _p("prismatic_cells", "Prismatic cells", "cell", "battery lithium"),
        _p("ess_cells", "Stationary-storage cells", "cell", "battery lithium"),
        _p("solid_state_cells", "Solid-state cells", "cell", "battery lithium"),
        _p("sodium_ion_cells", "Sodium-ion cells", "cell", "battery sodium"),
        _p("iron_air_cells", "Iron-air cells", "cell", "battery iron"),
        _p("battery_modules", "Battery modules", "module_pack cell", "battery"),
        _p("battery_packs", "Battery packs", "module_pack cell", "battery"),
        _p("ess_packs", "Stationary-storage systems / packs", "module_pack", "battery"),
        # Recycling
        _p("black_mass", "Black mass", "recycling", "lithium nickel cobalt manganese graphite"),
        _p("battery_scrap", "Battery and production scrap (feed)", "recycling", "battery"),
        # By-products reported beside battery products
        _p("copper", "Copper (metal or cathode)", "mining refining recycling", "copper"),
        _p("aluminum", "Aluminium", "recycling", "aluminum"),
        _p("steel", "Steel", "recycling", "other"),
        _p("tantalum", "Tantalum", "mining", "other"),
        _p("cesium", "Cesium", "mining", "other"),
        _p("boric_acid", "Boric acid", "mining refining", "other"),
    ]
}

CHEMISTRIES: frozenset[str] = frozenset(
    {
        "nmc111", "nmc532", "nmc622", "nmc721", "nmc811", "nmc90", "nmc95", "nmc", "nmca",
        "nca", "lfp", "lmfp", "lmo", "lmno", "lto", "sodium_ion", "iron_air",
        "solid_state", "silicon",
    }
)

NORTH_AMERICA: frozenset[str] = frozenset({"US", "CA", "MX"})


def products_for_material(material: Material) -> frozenset[str]:
    return frozenset(code for code, p in PRODUCTS.items() if material in p.materials)
