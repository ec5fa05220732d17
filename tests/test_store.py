"""The store on SQLite and PostgreSQL: import, idempotence, history, atomicity, queries."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bmtc.io.problems import ImportFailed
from bmtc.service import export_path, import_path
from bmtc.store import writer
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store
from tests.snapshot import snapshot


def _rewrite(path: Path, facility_id: str, **changes: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["facility_id"] == facility_id:
            row.update(changes)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def test_import_folder_loads_every_table(store: Store, sample_folder: Path) -> None:
    outcome = import_path(store, sample_folder)
    tables = outcome.summary.tables
    assert tables["facilities"].inserted == 6
    assert tables["relationships"].inserted == 3
    assert tables["funding"].inserted == 1
    # Two dated history rows plus the current status of each of the six facilities.
    assert tables["status_history"].inserted == 8
    # Six listed organizations plus stubs for the two operators named only on facilities.
    assert tables["organizations"].inserted == 8
    info = store.info()
    assert info is not None and info.version == "0.0.1" and info.as_of == "2026-02"


def test_reimport_changes_nothing(store: Store, sample_folder: Path) -> None:
    import_path(store, sample_folder)
    before = snapshot(store)
    outcome = import_path(store, sample_folder)
    assert not outcome.summary.changed_anything
    assert outcome.summary.changes == 0
    assert snapshot(store) == before


def test_newer_edition_records_dated_history(store: Store, sample_folder: Path) -> None:
    import_path(store, sample_folder)
    facilities_csv = sample_folder / "facilities.csv"
    _rewrite(facilities_csv, "nemaska-becancour-lioh", capacity_value="34000",
             status="operating", status_as_of="2028-03", source_as_of="2028-03")
    outcome = import_path(store, facilities_csv)
    assert outcome.summary.tables["facilities"].updated == 1
    card = store.facility_card("nemaska-becancour-lioh")
    assert card is not None
    assert card["facility"].status.value == "operating"
    fields = {c["field"]: (c["old_value"], c["new_value"], c["as_of"]) for c in card["changes"]}
    assert fields["capacity_value"] == ("32000", "34000", "2028-03")
    assert fields["status"] == ("under_construction", "operating", "2028-03")
    history = [(h["as_of"], h["status"]) for h in card["status_history"]]
    assert history == [("2019-06", "announced"), ("2026-02", "under_construction"),
                       ("2028-03", "operating")]


def test_older_edition_only_adds_history(store: Store, sample_folder: Path) -> None:
    import_path(store, sample_folder)
    facilities_csv = sample_folder / "facilities.csv"
    _rewrite(facilities_csv, "nemaska-becancour-lioh", status="announced",
             status_as_of="2023-05", capacity_value="20000")
    outcome = import_path(store, facilities_csv)
    assert outcome.summary.tables["facilities"].updated == 0
    card = store.facility_card("nemaska-becancour-lioh")
    assert card is not None
    assert card["facility"].status.value == "under_construction"
    assert card["facility"].capacity is not None and card["facility"].capacity.value == 32000
    assert ("2023-05", "announced") in [(h["as_of"], h["status"]) for h in card["status_history"]]


def test_malformed_file_leaves_store_unchanged(store: Store, sample_folder: Path) -> None:
    import_path(store, sample_folder)
    before = snapshot(store)
    facilities_csv = sample_folder / "facilities.csv"
    _rewrite(facilities_csv, "panasonic-de-soto", capacity_value="abc", name="New name")
    with pytest.raises(ImportFailed) as failure:
        import_path(store, facilities_csv)
    messages = [str(p) for p in failure.value.problems]
    assert messages == ["facilities.csv, table facilities, row 6, capacity_value: "
                        "'abc' is not a number"]
    assert snapshot(store) == before


def test_crash_mid_import_rolls_back(store: Store, sample_folder: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import_path(store, sample_folder)
    before = snapshot(store)
    _rewrite(sample_folder / "facilities.csv", "panasonic-de-soto", capacity_value="40")
    original = writer._Writer.upsert
    calls = {"n": 0}

    def failing_upsert(self: writer._Writer, table, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        result = original(self, table, *args, **kwargs)
        if table.name == "facilities":
            raise RuntimeError("simulated crash after facilities were written")
        return result

    monkeypatch.setattr(writer._Writer, "upsert", failing_upsert)
    with pytest.raises(RuntimeError, match="simulated crash"):
        import_path(store, sample_folder)
    assert calls["n"] >= 3
    assert snapshot(store) == before


def test_skip_invalid_imports_good_rows_and_writes_rejects(store: Store,
                                                           sample_folder: Path) -> None:
    facilities_csv = sample_folder / "facilities.csv"
    _rewrite(facilities_csv, "bmw-slp", stage="assembly", latitude="-100.98",
             longitude="22.16")
    rejects = sample_folder.parent / "rejects.csv"
    outcome = import_path(store, sample_folder, skip_invalid=True, rejects_path=rejects)
    assert outcome.summary.tables["facilities"].inserted == 5
    with rejects.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["table"], r["row"], r["facility_id"]) for r in rows] == [
        ("facilities", "7", "bmw-slp")]
    assert "stage: 'assembly' is not one of" in rows[0]["reason"]
    assert store.facility_card("bmw-slp") is None


def test_references_to_unknown_organizations_are_located(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "relationships.csv"
    path.write_text(
        "owner_id,owned_id,kind,equity_pct,source_url\n"
        "ghost-holdings,nobody,ownership,25,https://example.org/a\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_path(store, path)
    assert [str(p) for p in failure.value.problems] == [
        "relationships.csv, table relationships, row 2, owner_id: 'ghost-holdings' is not a "
        "known organization",
        "relationships.csv, table relationships, row 2, owned_id: 'nobody' is not a known "
        "organization",
    ]


def test_filters(store: Store, sample_folder: Path) -> None:
    import_path(store, sample_folder)

    def ids(**kwargs: object) -> list[str]:
        return [r["id"] for r in store.facility_rows(FacilityFilter(**kwargs))]  # type: ignore[arg-type]

    assert ids(stage="cell") == ["gotion-manteno", "panasonic-de-soto"]
    assert ids(country="CA") == ["nemaska-becancour-lioh", "nemaska-whabouchi"]
    assert ids(state="QC", status="announced") == ["nemaska-whabouchi"]
    assert ids(material="lithium", country="CA") == ["nemaska-becancour-lioh",
                                                     "nemaska-whabouchi"]
    assert ids(material="silicon") == ["sila-moses-lake"]
    assert ids(operator="gotion") == ["gotion-manteno"]
    # Gotion Inc. is US-headquartered but owned by a Chinese parent.
    assert ids(owner_country="CN") == ["gotion-manteno"]
    assert ids(owner_country="GB") == ["nemaska-becancour-lioh", "nemaska-whabouchi"]
    assert len(ids(limit=2)) == 2
    assert len(ids()) == 6


def test_round_trip_through_every_format(store: Store, sample_folder: Path,
                                         tmp_path: Path) -> None:
    import_path(store, sample_folder)
    original = store.load()
    for fmt, name in [("json", "atlas.json"), ("excel", "atlas.xlsx"), ("folder", "atlas")]:
        target = tmp_path / name
        export_path(store, target, fmt)
        with Store(f"sqlite:///{tmp_path / (name + '.sqlite')}") as fresh:
            import_path(fresh, target)
            copy = fresh.load()
        assert copy.facilities == original.facilities, fmt
        assert copy.organizations == original.organizations, fmt
        assert copy.relationships == original.relationships, fmt
        assert copy.status_events == original.status_events, fmt
        assert copy.funding == original.funding, fmt
        assert copy.info == original.info, fmt
    for fmt, name in [("csv", "f.csv"), ("geojson", "f.geojson"), ("parquet", "f.parquet")]:
        target = tmp_path / name
        export_path(store, target, fmt)
        with Store(f"sqlite:///{tmp_path / (name + '.sqlite')}") as fresh:
            import_path(fresh, target)
            assert fresh.load().facilities == original.facilities, fmt
        # Re-importing its own export into the source store changes nothing.
        assert not import_path(store, target).summary.changed_anything, fmt


def test_import_reports_progress(store: Store, sample_folder: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    import_path(store, sample_folder, progress=lambda *event: seen.append(event))
    checking = [e for e in seen if e[0].startswith("Checking")]
    assert checking[-1][1] == checking[-1][2] == 18  # every row of every table checked
    assert seen[-1] == ("Written", 1, 1)


def test_every_import_is_in_the_audit_log_with_who_made_it(store: Store,
                                                           sample_folder: Path) -> None:
    from bmtc.accounts.store import AccountStore

    audit = AccountStore(store.engine)
    first = import_path(store, sample_folder, actor="system:curator")
    _rewrite(sample_folder / "facilities.csv", "nemaska-becancour-lioh", capacity_value="1e")
    with pytest.raises(ImportFailed):
        import_path(store, sample_folder / "facilities.csv", actor="system:curator")
    _rewrite(sample_folder / "facilities.csv", "nemaska-becancour-lioh", capacity_value="34000")
    second = import_path(store, sample_folder / "facilities.csv")
    entries = audit.audit_entries(entity="import")
    assert [e.entity_id for e in entries] == [str(first.summary.import_id),
                                              str(second.summary.import_id)]
    assert entries[0].actor == "system:curator" and entries[0].action == "atlas.import"
    assert entries[1].actor.startswith("system:") and entries[1].actor != "system:curator"
    assert entries[1].after is not None and entries[1].after["file"] == "facilities.csv"
    assert entries[1].after["counts"]["tables"]["facilities"]["updated"] == 1
