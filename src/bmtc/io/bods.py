"""Beneficial Ownership Data Standard (BODS 0.4) statements, mapped onto bmtc entities.

Entity and person records become organizations, relationship records become relationships.
Conventions bmtc adds where BODS is silent:

- Debt: BODS has no debt interest. An `otherInfluenceOrControl` interest whose `details`
  starts with "debt" is a lender's stake: a `debt` relationship whose `share` is the share
  of the subject's debt held.
- Indirect interests are kept, but their notes start with "indirect" (`INDIRECT_NOTE`), so
  the screening engine can leave them out when it walks the chain itself and would
  otherwise count one holding twice (`indirect_relationship_ids`).
- Lists: BODS has no sanctions field, so an identifier issued by a screening list (scheme
  `US-OFAC-SDN`, say) is read as the party's entry on that list, with no listing date.
- A statement without `source` is `unsourced`; one whose source has no URL is cited as
  `urn:bods:<statementId>`.
- Only what the mapping needs is required: statementId, recordId, recordType,
  recordDetails, an entity's entityType.type, a relationship's two ends and a name for any
  party that is not declared unknown or anonymous.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import parse_partial_date
from bmtc.domain.geo import normalize_country
from bmtc.domain.model import INDIRECT_NOTE, ListMembership, Organization, Relationship, Source
from bmtc.domain.percent import PercentRange
from bmtc.domain.vocab import GOVERNMENT_KINDS, Confidence, GovernmentLevel, Office, OrgKind
from bmtc.domain.vocab import RelationshipKind as Kind
from bmtc.io.ftm import sanction_list
from bmtc.io.ownership_files import ProblemLog, add_shares, finite_number, load_json, unique_slugs

TABLE = "bods"
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
_JURISDICTION = re.compile(r"^([A-Za-z]{2})(?:-([A-Za-z0-9]{1,3}))?$")
_SHARE_KEYS = ("exact", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# Interests that are neither shares, votes, seats nor control: an ownership edge of unknown
# size (a gap), named in the notes.
_GAPS = {
    "unknownInterest",
    "unpublishedInterest",
    "rightsToSurplusAssetsOnDissolution",
    "rightsToProfitOrIncome",
    "beneficiaryOfLegalArrangement",
    "enjoymentAndUseOfAssets",
    "rightToProfitOrIncomeFromAssets",
}
# Control without shares. Trust roles and control by law count as control by contract here.
_CONTROL = {
    "rightsGrantedByContract",
    "conditionalRightsGrantedByContract",
    "otherInfluenceOrControl",
    "controlViaCompanyRulesOrArticles",
    "controlByLegalFramework",
    "settlor",
    "trustee",
    "protector",
}
_SEATS = {"boardMember", "boardChair", "seniorManagingOfficial"}
_INTERESTS = _GAPS | _CONTROL | _SEATS | {"shareholding", "votingRights", "appointmentOfBoard"}
_ENTITY_TYPES = {
    "registeredEntity",
    "legalEntity",
    "arrangement",
    "anonymousEntity",
    "unknownEntity",
    "state",
    "stateBody",
}
Key = tuple[str, str, Kind, str | None]


@dataclass
class _Statement:
    index: int
    raw: dict[str, Any]
    statement_id: str
    record_id: str
    record_type: str
    details: dict[str, Any]
    date: str


@dataclass
class _Part:
    """One interest's share in a relationship; parts with the same key are merged."""

    order: tuple[str, int]
    index: int
    record: str
    source: Source
    valid_to: str | None
    indirect: bool
    equity: PercentRange | None = None
    voting: PercentRange | None = None
    debt: PercentRange | None = None
    board: PercentRange | None = None
    officers: tuple[Office, ...] = ()
    rights: tuple[str, ...] = ()
    agreement: str | None = None
    effective: bool | None = None
    seat: bool = False
    note: str | None = None


def read_bods(path: Path) -> Dataset:
    """Read a BODS 0.4 JSON array, `{"statements": [...]}` package or JSON Lines stream."""
    log = ProblemLog(path.name, TABLE)
    latest: dict[str, _Statement] = {}
    for st in _statements(load_json(path, TABLE), log):
        # Record updates: the latest statement about a record speaks for it.
        held = latest.get(st.record_id)
        if held is None or (st.date, st.statement_id) > (held.date, held.statement_id):
            latest[st.record_id] = st
    parties = {k: s for k, s in latest.items() if s.record_type in ("entity", "person")}
    slugs = unique_slugs(parties, "bods")
    gaps: dict[str, list[str]] = defaultdict(list)
    parts: dict[Key, list[_Part]] = defaultdict(list)
    for st in sorted(latest.values(), key=lambda s: s.index):
        if st.record_type == "relationship":
            for key, part in _relationship(st, slugs, gaps, log):
                parts[key].append(part)
    orgs: list[Organization] = []
    lists: dict[str, ListMembership] = {}
    for rid, st in sorted(parties.items()):
        if org := _party(st, slugs[rid], gaps[rid], log):
            orgs.append(org)
            lists.update((m.id, m) for m in _listings(st, org, log))
    rels = [_merge(key, group, log) for key, group in parts.items()]
    kept = [r for r in rels if r is not None]
    _check_totals(kept, {slugs[k]: s for k, s in parties.items()}, parts, log)
    log.check()
    return Dataset(
        organizations=sorted(orgs, key=lambda o: o.id),
        relationships=sorted(kept, key=lambda r: r.id),
        list_memberships=sorted(lists.values(), key=lambda m: m.id),
    )


def indirect_relationship_ids(dataset: Dataset) -> frozenset[str]:
    """Relationships declared indirect: holdings through intermediaries in the graph."""
    notes = {r.id: r.notes or "" for r in dataset.relationships}
    return frozenset(i for i, n in notes.items() if n.startswith("indirect"))


def _statements(raw: Any, log: ProblemLog) -> list[_Statement]:
    if isinstance(raw, dict) and isinstance(raw.get("statements"), list):
        raw = raw["statements"]
    out = []
    for index, item in enumerate(raw if isinstance(raw, list) else [raw], 1):
        if not isinstance(item, dict):
            log.add(index, None, "a statement must be a JSON object")
            continue
        before = len(log.problems)
        for name in ("statementId", "recordId"):
            if not _text(item.get(name)):
                log.add(index, name, "is required (a non-empty string)")
        kind = str(item.get("recordType"))
        if kind not in ("entity", "person", "relationship"):
            log.add(index, "recordType", f"{kind!r} is not entity, person or relationship")
        if not isinstance(item.get("recordDetails"), dict):
            log.add(index, "recordDetails", "is required (an object)")
        log.date(item.get("statementDate"), index, "statementDate")
        if len(log.problems) == before:
            ids = item["statementId"].strip(), item["recordId"].strip()
            date = item.get("statementDate") or ""
            out.append(_Statement(index, item, *ids, kind, item["recordDetails"], date))
    return out


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _source(st: _Statement, log: ProblemLog) -> Source:
    urn = f"urn:bods:{quote(st.statement_id, safe='')}"
    src = st.raw.get("source")
    publisher = _text(_get(st.raw, "publicationDetails", "publisher", "name"))
    # statementDate is when the source declared the facts; retrievedAt only when they were
    # copied, so it stands in only for a missing statementDate.
    dates = (_day(d) for d in (st.date, _get(src, "retrievedAt")))
    fields: dict[str, Any] = {"url": urn, "as_of": next((d for d in dates if d), None)}
    if not isinstance(src, dict):
        fields.update(publisher=publisher, confidence=Confidence.UNSOURCED)
    else:
        asserted = _list(src.get("assertedBy"))
        named = _text(_get(asserted[0] if asserted else None, "name"))
        fields["publisher"] = named or _text(src.get("description")) or publisher
        if url := _text(src.get("url")):
            kinds = {k for k in _list(src.get("type")) if isinstance(k, str)}
            primary = bool(kinds & {"officialRegister", "verified"})
            fields.update(url=url, confidence="primary" if primary else "secondary")
    return log.build(Source, st.index, "source", **fields) or Source(url=urn)


def _day(value: Any) -> str | None:
    try:
        return parse_partial_date(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _country(value: Any, st: _Statement, column: str, log: ProblemLog) -> str | None:
    code, name = _text(_get(value, "code")), _text(_get(value, "name"))
    try:
        return normalize_country(code) if code else normalize_country(name) if name else None
    except ValueError:
        if code:
            log.add(st.index, f"{column}.code", f"{code!r} is not an ISO 3166-1 country code")
        return None  # a bare name that is no country ("England and Wales") stays unknown


def _party(st: _Statement, org_id: str, gaps: list[str], log: ProblemLog) -> Organization | None:
    d, closed = st.details, st.raw.get("recordStatus") == "closed"
    notes = [f"BODS record {st.record_id}", *sorted(gaps), *(["record closed"] if closed else [])]
    fields = _person(st, log) if st.record_type == "person" else _entity(st, log)
    if fields["name"] is None:
        unknown = ("unknownPerson", "anonymousPerson", "unknownEntity", "anonymousEntity")
        if d.get("personType") not in unknown and _get(d, "entityType", "type") not in unknown:
            where = "names" if st.record_type == "person" else "name"
            log.add(st.index, f"recordDetails.{where}", "a name is required")
            return None
        fields["name"] = f"Unidentified {st.record_type} (BODS record {st.record_id})"
    fields.update(id=org_id, notes="; ".join(notes), source=_source(st, log))
    return log.build(Organization, st.index, "recordDetails", **fields)


def _listings(st: _Statement, org: Organization, log: ProblemLog) -> list[ListMembership]:
    found = []
    for i, ident in enumerate(_list(st.details.get("identifiers"))):
        scheme = " ".join(filter(None, (_text(_get(ident, k)) for k in ("scheme", "schemeName"))))
        if scheme and (listed := sanction_list(scheme, "")):
            note = f"BODS identifier {scheme} {_text(_get(ident, 'id')) or ''}".strip()
            found.append(
                log.build(
                    ListMembership,
                    st.index,
                    f"recordDetails.identifiers[{i}]",
                    list_id=listed,
                    org_id=org.id,
                    listed_name=org.name,
                    source=org.source,
                    notes=note,
                )
            )
    return [m for m in found if m]


def _entity(st: _Statement, log: ProblemLog) -> dict[str, Any]:
    d, type_ = st.details, _text(_get(st.details, "entityType", "type"))
    if type_ not in _ENTITY_TYPES:
        log.add(st.index, "recordDetails.entityType.type", f"{type_!r} is not an entity type")
    kind = {"state": OrgKind.GOVERNMENT, "stateBody": OrgKind.STATE_BODY}.get(
        type_ or "", "company"
    )
    out: dict[str, Any] = {"name": _text(d.get("name")), "kind": kind}
    code = _text(_get(d, "jurisdiction", "code")) or ""
    match = _JURISDICTION.match(code)
    if code and match is None:
        log.add(st.index, "recordDetails.jurisdiction.code", f"{code!r} is not an ISO 3166 code")
    elif match:
        where = "recordDetails.jurisdiction"
        out["country_incorporation"] = _country({"code": match[1]}, st, where, log)
        if kind in GOVERNMENT_KINDS and match[2]:
            out["government_level"] = GovernmentLevel.SUBNATIONAL
    if kind in GOVERNMENT_KINDS:
        out.setdefault("government_level", GovernmentLevel.NATIONAL)
    for i, address in enumerate(_list(d.get("addresses"))):
        place = _get(address, "type")
        if place in ("registered", "business", "headquarters"):
            where = f"recordDetails.addresses[{i}].country"
            found = _country(_get(address, "country"), st, where, log)
            field = "country_incorporation" if place == "registered" else "country_hq"
            out[field] = out.get(field) or found  # the jurisdiction outranks an address
    for i, ident in enumerate(_list(d.get("identifiers"))):
        if _get(ident, "scheme") == "XI-LEI":
            if _LEI.match(lei := str(_get(ident, "id"))):
                out["lei"] = lei
            else:
                log.add(st.index, f"recordDetails.identifiers[{i}].id", f"{lei!r} is not an LEI")
    # 0.4 names the flag hasPublicListing; hasPublicEquity is read from older drafts.
    listing = d.get("publicListing")
    traded = _get(listing, "hasPublicListing")
    traded = _get(listing, "hasPublicEquity") if traded is None else traded
    out["publicly_traded"] = traded if isinstance(traded, bool) else None
    names = (_text(n) for n in _list(d.get("alternateNames")))
    out["aliases"] = tuple(dict.fromkeys(n for n in names if n and ";" not in n))
    return out


def _person(st: _Statement, log: ProblemLog) -> dict[str, Any]:
    d, countries = st.details, {}
    names = [n for n in _list(d.get("names")) if isinstance(n, dict)]
    parts = [[_text(n.get(p)) for p in ("givenName", "familyName")] for n in names]
    full = [
        _text(n.get("fullName")) or " ".join(filter(None, p)) or None
        for n, p in zip(names, parts, strict=True)
    ]
    kinds = [n.get("type") for n in names]
    preferred = [f for f, k in zip(full, kinds, strict=True) if k in ("individual", "legal")]
    name = next((f for f in preferred + full if f), None)
    homes = [("placeOfResidence", d.get("placeOfResidence"))] + [
        (f"addresses[{i}]", a)
        for i, a in enumerate(_list(d.get("addresses")))
        if _get(a, "type") == "residence"
    ]
    for field in ("nationalities", "taxResidencies"):
        found = (
            _country(c, st, f"recordDetails.{field}[{i}]", log)
            for i, c in enumerate(_list(d.get(field)))
        )
        countries[field] = list(dict.fromkeys(c for c in found if c))
    lived = [_country(_get(h, "country"), st, f"recordDetails.{w}.country", log) for w, h in homes]
    nationalities, taxes = countries["nationalities"], countries["taxResidencies"]
    # A US national or US tax resident is a US person. A lawful permanent resident is a US
    # tax resident, so only stated non-US nationalities together with stated non-US tax
    # residencies rule US-person status out; anything less leaves it unknown.
    us_person = (
        True if "US" in nationalities + taxes else (False if nationalities and taxes else None)
    )
    status = _text(_get(d, "politicalExposure", "status"))
    return {
        "name": name,
        "kind": OrgKind.PERSON,
        "nationalities": tuple(nationalities),
        "residence": next(iter(taxes), None) or next((c for c in lived if c), None),
        "us_person": us_person,
        "senior_political_figure": {"isPep": True, "isNotPep": False}.get(status or ""),
        "aliases": tuple(dict.fromkeys(f for f in full if f and f != name and ";" not in f)),
    }


def _relationship(
    st: _Statement, slugs: dict[str, str], gaps: dict[str, list[str]], log: ProblemLog
) -> list[tuple[Key, _Part]]:
    ends: dict[str, str | None] = {}
    for role in ("subject", "interestedParty"):
        ref = st.details.get(role)
        if isinstance(ref, dict):
            ends[role] = None  # declared unknown or withheld: a gap, not an error
        elif isinstance(ref, str) and ref.strip() in slugs:
            ends[role] = ref.strip()
        else:
            reason = f"refers to no entity or person record ({ref!r})" if ref else "is required"
            log.add(st.index, f"recordDetails.{role}", reason)
            return []
    subject, party = ends["subject"], ends["interestedParty"]
    if subject is None or party is None:
        if known := subject or party:
            side = "interested party" if party is None else "subject"
            gaps[known].append(f"unspecified {side} (BODS record {st.record_id})")
        return []
    if subject == party:
        log.add(st.index, "recordDetails.interestedParty", f"self-ownership of {party!r}")
        return []
    interests = st.details.get("interests")
    if not isinstance(interests := interests or [{"type": "unknownInterest"}], list):
        log.add(st.index, "recordDetails.interests", "must be a list")
        return []
    closed = st.date[:10] if st.raw.get("recordStatus") == "closed" else None
    source, out = _source(st, log), []
    for i, interest in enumerate(interests):
        where, kind = f"recordDetails.interests[{i}]", str(_get(interest, "type"))
        if kind not in _INTERESTS:
            log.add(st.index, f"{where}.type", f"{kind!r} is not a BODS 0.4 interest type")
            continue
        before = len(log.problems)
        start = log.date(interest.get("startDate"), st.index, f"{where}.startDate")
        end = log.date(interest.get("endDate"), st.index, f"{where}.endDate") or closed or None
        if start and end and end < start:
            log.add(st.index, f"{where}.endDate", f"{end} is before startDate {start}")
        share = _share(interest.get("share"), st, f"{where}.share", log)
        if len(log.problems) == before:
            indirect = interest.get("directOrIndirect") == "indirect"
            part = _Part((st.statement_id, i), st.index, st.record_id, source, end, indirect)
            details = _text(interest.get("details"))
            rel = _interest(
                part, kind, share, details, interest.get("beneficialOwnershipOrControl")
            )
            out.append(((slugs[party], slugs[subject], rel, start), part))
    return out


def _interest(
    part: _Part, kind: str, share: PercentRange | None, details: str | None, control: Any
) -> Kind:
    if kind in ("shareholding", "votingRights"):
        part.equity, part.voting = (share, None) if kind == "shareholding" else (None, share)
    elif kind == "appointmentOfBoard":
        part.officers, part.board = (Office.BOARD,), share
    elif kind in _SEATS:
        # On a directorship, officer_rights names the office the seat itself carries.
        part.seat, part.officers = kind != "seniorManagingOfficial", ()
        if kind == "boardChair":
            part.officers = (Office.CHAIR,)
        elif kind == "seniorManagingOfficial":
            part.note = "senior managing official"
        return Kind.DIRECTORSHIP
    elif kind == "otherInfluenceOrControl" and (details or "").lower().startswith("debt"):
        part.debt, part.note = share, details
        return Kind.DEBT
    elif kind in _CONTROL:
        rights = tuple(r.strip() for r in re.split(r"[;,]", details or "") if r.strip())
        part.rights, part.agreement = rights or (kind,), details
        part.effective = control if isinstance(control, bool) else None
        return Kind.EFFECTIVE_CONTROL if control is True else Kind.LICENCE
    else:
        part.note = kind
    return Kind.OWNERSHIP


def _share(share: Any, st: _Statement, where: str, log: ProblemLog) -> PercentRange | None:
    if share is None:
        return None
    if not isinstance(share, dict):
        log.add(st.index, where, "must be an object")
        return None
    values, bad = {}, False
    for key in (k for k in _SHARE_KEYS if share.get(k) is not None):
        number = finite_number(share[key])
        if number is None or not 0 <= number <= 100:
            bad = True
            why = "not a number" if number is None else "below 0" if number < 0 else "over 100"
            log.add(st.index, f"{where}.{key}", f"{share[key]!r} is {why}")
        values[key] = number or 0.0
    if bad or not values:
        return None
    if "exact" in values:
        return PercentRange(values["exact"], values["exact"])
    low_open, high_open = "exclusiveMinimum" in values, "exclusiveMaximum" in values
    low = values.get("exclusiveMinimum", values.get("minimum", 0.0))
    high = values.get("exclusiveMaximum", values.get("maximum", 100.0))
    if low > high or (low == high and (low_open or high_open)):
        log.add(st.index, where, f"the minimum {low:g} is not below the maximum {high:g}")
        return None
    return PercentRange(low, high, low_open, high_open)


def _merge(key: Key, parts: list[_Part], log: ProblemLog) -> Relationship | None:
    owner, owned, kind, start = key
    parts = sorted(parts, key=lambda p: p.order)
    direct = [p for p in parts if not p.indirect]
    used = direct or parts
    notes = (
        []
        if len(direct) == len(parts)
        else ["also declared indirectly"]
        if direct
        else [INDIRECT_NOTE]
    )
    totals: dict[str, PercentRange | None] = dict.fromkeys(("equity", "voting", "debt", "board"))
    for part in used:
        for name, total in totals.items():
            try:
                totals[name] = add_shares(total, getattr(part, name))
            except ValueError as exc:
                log.add(part.index, "recordDetails.interests", f"{name} shares {exc}")
    effective = [p.effective for p in used if p.effective is not None]
    officers = {o for p in used for o in p.officers}
    notes += dict.fromkeys(p.note for p in used if p.note)
    notes.append("BODS record " + ", ".join(sorted({p.record for p in parts})))
    rank = {Confidence.PRIMARY: 0, Confidence.SECONDARY: 1}
    ends = [p.valid_to for p in used]
    # A share of the board the holder appoints becomes the same ratio of seats (25% is 1 of
    # 4); seat counts cannot hold a range, so a ranged share stays in the notes.
    board = totals["board"]
    seats = Fraction(board.low / 100).limit_denominator(1000) if board and board.is_exact else None
    if board and seats is None:
        notes.append(f"appoints {board}% of the board")
    held = seats.numerator if seats is not None else 1 if any(p.seat for p in used) else None
    return log.build(
        Relationship,
        used[0].index,
        "recordDetails",
        owner_id=owner,
        owned_id=owned,
        kind=kind,
        equity_pct=totals["equity"],
        voting_pct=totals["voting"],
        debt_share_pct=totals["debt"],
        board_seats_held=held,
        board_seats_total=seats.denominator if seats is not None else None,
        officer_rights=tuple(o for o in Office if o in officers),
        control_rights=tuple(dict.fromkeys(r for p in used for r in p.rights)),
        agreement="; ".join(dict.fromkeys(p.agreement for p in used if p.agreement)) or None,
        effective_control=any(effective) if effective else None,
        valid_from=start,
        valid_to=None if None in ends else max(e for e in ends if e),
        notes="; ".join(notes),
        source=min((p.source for p in used), key=lambda s: (rank.get(s.confidence, 2), s.url)),
    )


def _check_totals(
    rels: list[Relationship],
    subjects: dict[str, _Statement],
    parts: dict[Key, list[_Part]],
    log: ProblemLog,
) -> None:
    """Direct exact shareholdings in force at one time must not exceed 100%."""
    held: dict[str, list[Relationship]] = defaultdict(list)
    for rel in rels:
        direct = not (rel.notes or "").startswith("indirect")
        if rel.kind is Kind.OWNERSHIP and direct and rel.equity_pct and rel.equity_pct.is_exact:
            held[rel.owned_id].append(rel)
    for owned, group in sorted(held.items()):
        for at in sorted({r.valid_from or "" for r in group}):
            live = [r for r in group if (r.valid_from or "") <= at and (r.valid_to or "~") > at]
            total = round(sum(r.equity_pct.low for r in live if r.equity_pct), 6)
            if total > 100.01:  # leave room for rounding in published figures
                keys = ((r.owner_id, r.owned_id, r.kind, r.valid_from) for r in live)
                rows = ", ".join(map(str, sorted({p.index for k in keys for p in parts[k]})))
                subject = subjects[owned]
                name = _text(subject.details.get("name")) or subject.record_id
                why = f"direct shareholdings in {name!r} add up to {total:g}% (statements {rows})"
                log.add(subject.index, None, why)
                break
