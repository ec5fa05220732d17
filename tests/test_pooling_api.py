"""Confidential member submissions through the API: who may write and read raw figures, and
what the public pooled table reveals (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from bmtc.accounts.store import AccountStore
from bmtc.server.app import create_app

# Member organization -> (its cell facility, country, capacity it submits in GWh/yr).
MEMBERS = {
    "ultium-cells": ("ultium-cells-warren", 40.0),
    "panasonic-energy": ("panasonic-energy-nevada", 38.0),
    "sk-battery-america": ("sk-battery-america-commerce", 20.0),
    "tesla": ("tesla-nevada-lfp-cells", 9.0),
    "nextstar-energy": ("nextstar-energy-windsor", 45.0),  # alone in Canada
}


@pytest.fixture
def api(store_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(store_url)) as client:
        accounts = AccountStore(client.app.state.store.engine)  # type: ignore[attr-defined]
        tokens: dict[str, str] = {}
        for org in MEMBERS:
            email = f"{org}@example.org"
            accounts.add_user(email, "a long enough password", role="member",
                              organization_id=org)
            tokens[org] = accounts.create_token(email, scopes=("read", "submit")).secret
        for role in ("admin", "analyst"):
            accounts.add_user(f"{role}@example.org", "a long enough password", role=role)
            scopes = ("read", "admin") if role == "admin" else ("read",)
            tokens[role] = accounts.create_token(f"{role}@example.org", scopes=scopes).secret
        yield client, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit_all(client: TestClient, tokens: dict[str, str]) -> None:
    for org, (facility, value) in MEMBERS.items():
        response = client.post("/api/v1/submissions", headers=auth(tokens[org]), json=[
            {"facility_id": facility, "period": "2026", "metric": "capacity",
             "value": value, "unit": "GWh/yr"}])
        assert response.status_code == 201, response.text


def test_members_submit_only_for_their_own_facilities(
        api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    row = {"facility_id": "panasonic-energy-nevada", "period": "2026", "metric": "capacity",
           "value": 1.0, "unit": "GWh/yr"}
    other = client.post("/api/v1/submissions", headers=auth(tokens["ultium-cells"]),
                        json=[row])
    assert other.status_code == 403
    assert client.post("/api/v1/submissions", json=[row]).status_code == 401
    analyst = client.post("/api/v1/submissions", headers=auth(tokens["analyst"]), json=[row])
    assert analyst.status_code == 403


def test_raw_figures_are_seen_only_by_their_owner_and_admins(
        api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    submit_all(client, tokens)
    own = client.get("/api/v1/submissions", headers=auth(tokens["tesla"])).json()["items"]
    assert {r["organization_id"] for r in own} == {"tesla"}
    everything = client.get("/api/v1/submissions", headers=auth(tokens["admin"])).json()
    assert everything["total"] == len(MEMBERS)
    assert client.get("/api/v1/submissions", headers=auth(tokens["analyst"])).status_code \
        == 403
    assert client.get("/api/v1/submissions").status_code == 401
    # A correction replaces the earlier figure; the earlier one is kept, superseded.
    client.post("/api/v1/submissions", headers=auth(tokens["tesla"]), json=[
        {"facility_id": "tesla-nevada-lfp-cells", "period": "2026", "metric": "capacity",
         "value": 10.0, "unit": "GWh/yr"}])
    current = client.get("/api/v1/submissions", headers=auth(tokens["tesla"])).json()["items"]
    assert [r["value"] for r in current] == [10.0]
    log = client.get("/api/v1/admin/audit", params={"entity": "submission"},
                     headers=auth(tokens["admin"])).json()["items"]
    assert len(log) == len(MEMBERS) + 1
    assert all("value" not in (entry["after"] or {}) for entry in log)


KEY = {"metric": "capacity", "period": "2026", "stage": "cell"}


def test_pooled_table_hides_what_could_be_derived(
        api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    submit_all(client, tokens)
    # Nothing is public until an administrator releases the table.
    assert client.get("/api/v1/pooled", params=KEY).status_code == 404
    released = client.post("/api/v1/admin/releases", json=KEY, headers=auth(tokens["admin"]))
    assert released.status_code == 201, released.text
    table = client.get("/api/v1/pooled", params=KEY).json()
    cells = {c["country"]: c for c in table["cells"]}
    assert table["unit"] == "GWh/yr"
    # Canada has one contributor: suppressed, with the reason category only.
    assert cells["CA"]["suppressed"] and cells["CA"]["value"] is None
    assert cells["CA"]["reason"] == "suppressed: confidential"
    # Its value must not follow from the total minus the published cells.
    published = {k: c["value"] for k, c in cells.items() if not c["suppressed"]}
    assert not ({"Total", "US"} <= set(published))
    revealed = [v for v in published.values() if v in {45.0}]
    assert not revealed
    anyone = client.get("/api/v1/pooled", params=KEY, headers=auth(tokens["tesla"])).json()
    assert anyone == table  # members see the same public table as everyone else
    # A release is final: later figures cannot be read off as a change in a published cell.
    client.post("/api/v1/submissions", headers=auth(tokens["tesla"]), json=[
        {"facility_id": "tesla-nevada-lfp-cells", "period": "2026", "metric": "capacity",
         "value": 30.0, "unit": "GWh/yr"}])
    assert client.get("/api/v1/pooled", params=KEY).json() == table
    again = client.post("/api/v1/admin/releases", json=KEY, headers=auth(tokens["admin"]))
    assert again.status_code == 409


def test_units_holdings_and_scopes_are_checked_in_the_data_layer(
        api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    odd = client.post("/api/v1/submissions", headers=auth(tokens["tesla"]), json=[
        {"facility_id": "tesla-nevada-lfp-cells", "period": "2026", "metric": "capacity",
         "value": 9.0, "unit": "x"}])
    assert odd.status_code == 422 and "GWh/yr" in odd.json()["detail"]
    accounts = AccountStore(client.app.state.store.engine)  # type: ignore[attr-defined]
    # Ford's joint venture in BlueOval SK ended in 2025: no right to submit for it now.
    accounts.add_user("ford@example.org", "a long enough password", role="member",
                      organization_id="ford")
    ford = accounts.create_token("ford@example.org", scopes=("read", "submit")).secret
    ended = client.post("/api/v1/submissions", headers=auth(ford), json=[
        {"facility_id": "blueoval-sk-kentucky-1", "period": "2026", "metric": "capacity",
         "value": 1.0, "unit": "GWh/yr"}])
    assert ended.status_code == 403
    # A read-only administrator token does not open every member's raw figures.
    read_only = accounts.create_token("admin@example.org", scopes=("read",)).secret
    assert client.get("/api/v1/submissions", headers=auth(read_only)).status_code == 403


def test_excel_template_upload(api: tuple[TestClient, dict[str, str]],
                               tmp_path: Path) -> None:
    client, tokens = api
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    headers = {**auth(tokens["ultium-cells"]), "content-type": xlsx}
    template = (Path(__file__).parents[1] / "docs" / "templates" / "pooling"
                / "submissions.xlsx").read_bytes()
    accepted = client.post("/api/v1/submissions/excel", content=template, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert len(accepted.json()["ids"]) == 3
    book = Workbook()
    sheet = book.active
    sheet.title = "submissions"
    sheet.append(["facility_id", "period", "metric", "country", "value", "unit"])
    sheet.append(["ultium-cells-warren", "2026", "capacity", None, 40, "GWh/yr"])
    sheet.append(["ultium-cells-warren", "2026", "output", None, -1, "GWh/yr"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    refused = client.post("/api/v1/submissions/excel", content=path.read_bytes(),
                          headers=headers)
    assert refused.status_code == 422
    located = {(e["loc"][1], e["loc"][2]) for e in refused.json()["errors"]}
    assert ("3", "metric") in located and ("3", "value") in located
    # Nothing of the refused workbook was stored: all rows or none.
    rows = client.get("/api/v1/submissions", headers=auth(tokens["ultium-cells"])).json()
    assert rows["total"] == 3
    garbage = client.post("/api/v1/submissions/excel", content=b"not a workbook",
                          headers=headers)
    assert garbage.status_code == 422
    # A workbook whose one far-away cell would make a reader allocate the whole grid.
    far = Workbook()
    far.active.title = "submissions"
    far.active.append(["facility_id", "period", "metric", "country", "value", "unit"])
    far.active["XFD1048576"] = "x"
    path = tmp_path / "far.xlsx"
    far.save(path)
    answer = client.post("/api/v1/submissions/excel", content=path.read_bytes(),
                         headers=headers)
    assert answer.status_code in (201, 422)
    assert client.get("/api/v1/meta").status_code == 200  # the server is still there
    many = Workbook()
    many.active.title = "submissions"
    many.active.append(["facility_id", "period", "metric", "country", "value", "unit"])
    for index in range(1001):
        many.active.append(["ultium-cells-warren", str(1000 + index), "capacity", None, 1,
                            "GWh/yr"])
    path = tmp_path / "many.xlsx"
    many.save(path)
    too_many = client.post("/api/v1/submissions/excel", content=path.read_bytes(),
                           headers=headers)
    assert too_many.status_code == 422 and "1000" in too_many.text
