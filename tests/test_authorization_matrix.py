"""Every API operation x every role x own / other organization, against the expected answer.

The table below must name every operation the API serves: a new endpoint fails this test until
its access rules are written down here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bmtc.accounts.store import AccountStore
from bmtc.server.app import create_app

BILL = json.loads((Path(__file__).parents[1] / "docs" / "templates" / "compliance"
                   / "module-45x.json").read_text(encoding="utf-8"))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = (Path(__file__).parents[1] / "docs" / "templates" / "pooling"
            / "submissions.xlsx").read_bytes()
OWN = {"facility_id": "ultium-cells-warren", "period": "2026", "metric": "capacity",
       "value": 40.0, "unit": "GWh/yr"}
OTHER = {**OWN, "facility_id": "panasonic-energy-nevada"}
# Callers: anonymous, a member of ultium-cells ("own" rows are its facilities), an analyst,
# an administrator.
CALLERS = ("public", "member", "analyst", "admin")
READ = dict.fromkeys(CALLERS, 200)
# (method, path, request) -> expected status per caller.
MATRIX: list[tuple[str, str, dict[str, Any], dict[str, int]]] = [
    ("GET", "/api/v1/meta", {}, READ),
    ("GET", "/api/v1/facilities", {"params": {"stage": "cell"}}, READ),
    ("GET", "/api/v1/facilities/{facility_id}", {"path": "ultium-cells-warren"}, READ),
    ("GET", "/api/v1/organizations", {}, READ),
    ("GET", "/api/v1/organizations/{org_id}", {"path": "ultium-cells"}, READ),
    ("GET", "/api/v1/screening/{party}", {"path": "catl"}, READ),
    ("GET", "/api/v1/analytics/gap", {"params": {"year": 2030}}, READ),
    ("GET", "/api/v1/analytics/network", {"params": {"year": 2030}}, READ),
    ("POST", "/api/v1/compliance/macr", {"params": {"year": 2026}, "json": BILL}, READ),
    ("GET", "/api/v1/minerals", {"params": {"as_of": "2026-01-01"}}, READ),
    ("GET", "/api/v1/me", {}, READ),
    ("GET", "/api/v1/admin/audit", {},
     {"public": 401, "member": 403, "analyst": 403, "admin": 200}),
    ("POST", "/api/v1/submissions", {"json": [OWN]},
     {"public": 401, "member": 201, "analyst": 403, "admin": 403}),
    ("POST", "/api/v1/submissions", {"json": [OTHER]},
     {"public": 401, "member": 403, "analyst": 403, "admin": 403}),
    ("POST", "/api/v1/submissions/excel",
     {"content": TEMPLATE, "headers": {"content-type": XLSX}},
     {"public": 401, "member": 201, "analyst": 403, "admin": 403}),
    ("GET", "/api/v1/submissions", {},
     {"public": 401, "member": 200, "analyst": 403, "admin": 200}),
    ("POST", "/api/v1/session", {"json": {"email": "nobody@example.org", "password": "x"}},
     dict.fromkeys(CALLERS, 401)),
    ("DELETE", "/api/v1/session", {}, dict.fromkeys(CALLERS, 204)),
    ("POST", "/api/v1/admin/releases",
     {"json": {"metric": "capacity", "period": "2026", "stage": "cell"}},
     {"public": 401, "member": 403, "analyst": 403, "admin": 201}),
    # A key never released: nobody sees anything, whoever asks.
    ("GET", "/api/v1/pooled", {"params": {"metric": "capacity", "period": "1999",
                                          "stage": "cell"}}, dict.fromkeys(CALLERS, 404)),
]


@pytest.fixture(scope="module")
def world(module_store_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(module_store_url)) as client:
        accounts = AccountStore(client.app.state.store.engine)  # type: ignore[attr-defined]
        headers: dict[str, str] = {}
        setup = {"member": ("member", "ultium-cells", ("read", "submit")),
                 "analyst": ("analyst", None, ("read",)),
                 "admin": ("admin", None, ("read", "admin"))}
        for caller, (role, org, scopes) in setup.items():
            email = f"{caller}@example.org"
            accounts.add_user(email, "a long enough password", role=role,  # type: ignore[arg-type]
                              organization_id=org)
            headers[caller] = accounts.create_token(email, scopes=scopes).secret  # type: ignore[arg-type]
        yield client, headers


def test_the_matrix_names_every_operation() -> None:
    # The OpenAPI document lists every operation the API serves (health checks aside).
    paths = create_app().openapi()["paths"]
    served = {(method.upper(), path) for path, operations in paths.items()
              for method in operations}
    assert served == {(method, path) for method, path, _r, _e in MATRIX}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "request_", "expected"), MATRIX,
                         ids=[f"{m} {p} {i}" for i, (m, p, _r, _e) in enumerate(MATRIX)])
def test_access(world: tuple[TestClient, dict[str, str]], caller: str, method: str,
                path: str, request_: dict[str, Any], expected: dict[str, int]) -> None:
    client, tokens = world
    url = path
    if "path" in request_:
        url = path[:path.index("{")] + request_["path"]
    headers = {"Authorization": f"Bearer {tokens[caller]}"} if caller in tokens else {}
    headers.update(request_.get("headers", {}))
    response = client.request(method, url, params=request_.get("params"),
                              json=request_.get("json"), content=request_.get("content"),
                              headers=headers)
    assert response.status_code == expected[caller], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
