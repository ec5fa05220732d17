"""A dataset: the entities one import or export carries."""

from __future__ import annotations

from dataclasses import dataclass, field

from bmtc.domain.model import (
    DatasetInfo,
    Facility,
    FundingAward,
    ListMembership,
    Organization,
    Relationship,
    StatusEvent,
)


@dataclass
class Dataset:
    """Everything one import or export carries."""

    info: DatasetInfo | None = None
    organizations: list[Organization] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    status_events: list[StatusEvent] = field(default_factory=list)
    funding: list[FundingAward] = field(default_factory=list)
    list_memberships: list[ListMembership] = field(default_factory=list)
    # Operators named only by a facility row; stored only where no fuller record exists.
    operator_stubs: list[Organization] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "organizations": len(self.organizations),
            "relationships": len(self.relationships),
            "facilities": len(self.facilities),
            "status_history": len(self.status_events),
            "funding": len(self.funding),
            "list_memberships": len(self.list_memberships),
        }
