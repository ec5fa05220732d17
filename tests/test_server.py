"""The REST API over the bundled atlas: routes, problem documents, headers, and a schemathesis
run over the whole OpenAPI schema (no server errors, every response matches its schema)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from bmtc.server.app import create_app
from bmtc.service import initialise
from bmtc.store.store import Store
from tests.conftest import postgres_schema

SAMPLE = Path(__file__).parents[1] / "docs" / "templates" / "compliance" / "module-45x.json"


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(store_url)) as test_client:
        yield test_client


def test_first_start_loads_the_atlas_and_pages_facilities(client: TestClient) -> None:
    meta = client.get("/api/v1/meta").json()
    assert meta["facilities"] > 100 and meta["api_version"] == "v1"
    first = client.get("/api/v1/facilities", params={"stage": "cell", "page_size": 5,
                                                     "sort": "-capacity_value"}).json()
    assert first["total"] > 5 and len(first["items"]) == 5
    values = [f["capacity_value"] for f in first["items"]]
    assert values == sorted(values, reverse=True)
    assert all(f["stage"] == "cell" and f["source_url"] for f in first["items"])
    second = client.get("/api/v1/facilities", params={"stage": "cell", "page_size": 5,
                                                      "page": 2, "sort": "-capacity_value"})
    assert {f["id"] for f in second.json()["items"]}.isdisjoint(
        {f["id"] for f in first["items"]})


def test_errors_are_problem_documents(client: TestClient) -> None:
    missing = client.get("/api/v1/facilities/no-such-plant")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    body = missing.json()
    assert body["status"] == 404 and "no-such-plant" in body["detail"]
    assert body["instance"] == "/api/v1/facilities/no-such-plant"
    bad = client.get("/api/v1/facilities", params={"stage": "moon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "stage"]
    wrong_year = client.get("/api/v1/analytics/gap", params={"scenario": "pre-2025-law",
                                                             "year": 2035})
    assert wrong_year.status_code == 422 and "2035" in wrong_year.json()["detail"]


def test_security_headers_and_docs_served_from_the_machine(client: TestClient) -> None:
    response = client.get("/api/v1/meta")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Everything the docs page loads comes from this server.
    assert "https://" not in docs.text and "http://" not in docs.text
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "bmtc"


def test_engines_answer_through_the_api(client: TestClient) -> None:
    verdict = client.get("/api/v1/screening/CATL", params={"ruleset": "pfe-2025",
                                                          "taxable_year": 2026}).json()
    assert verdict["status"] == "specified"
    bound = client.get("/api/v1/analytics/network", params={"year": 2030}).json()
    assert bound["bound_gwh"] >= 0 and any("GWh" in line for line in bound["explanation"])
    bill: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    trail = client.post("/api/v1/compliance/macr", params={"year": 2026}, json=bill).json()
    assert trail["summary"]["verdict"] == "pass"
    broken = client.post("/api/v1/compliance/macr", params={"year": 2026},
                         json={"product": {"id": "x"}, "components": []})
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"


def _api() -> FastAPI:
    # Built at import: schemathesis turns every operation of its schema into a test. With a
    # PostgreSQL server configured (as in CI) the run is against it, in its own schema.
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bmtc-api-')) / 'atlas.db'}"
    if os.environ.get("BMTC_TEST_POSTGRES_URL"):
        stack = contextlib.ExitStack()
        url = stack.enter_context(postgres_schema())
        atexit.register(stack.close)
    store = Store(url)
    initialise(store)
    app = create_app()
    app.state.store = store
    return app


@schemathesis.serializer(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def _workbook_bytes(_ctx: Any, value: Any) -> bytes:
    # Generated "binary" bodies arrive as text or bytes; the server must refuse them cleanly.
    return value if isinstance(value, bytes) else str(value).encode()


schema = schemathesis.openapi.from_asgi("/openapi.json", _api())


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_openapi_schema_holds(case: Any) -> None:
    # Filters are free text (a country may be a code or a name), so a string the schema
    # allows can still name nothing and be refused with a problem document: that is correct,
    # so only the positive-data check is left out.
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])


def test_oversized_bodies_are_refused_before_parsing(client: TestClient) -> None:
    from bmtc.server.limits import MAX_BODY_BYTES

    big = b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}"
    response = client.post("/api/v1/compliance/macr", params={"year": 2026}, content=big,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    streamed = client.post("/api/v1/compliance/macr", params={"year": 2026}, content=chunks(),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_roles_guard_the_audit_log(client: TestClient) -> None:
    from bmtc.accounts.store import AccountStore

    accounts = AccountStore(client.app.state.store.engine)  # type: ignore[attr-defined]
    accounts.add_user("admin@example.org", "a long admin password", role="admin")
    accounts.add_user("member@example.org", "a long member password", role="member",
                      organization_id="ultium-cells")
    admin = accounts.create_token("admin@example.org", scopes=("read", "admin")).secret
    member = accounts.create_token("member@example.org", scopes=("read",)).secret
    assert client.get("/api/v1/me").json()["role"] == "public"
    anonymous = client.get("/api/v1/admin/audit")
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["www-authenticate"]
    refused = client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {member}"})
    assert refused.status_code == 403
    log = client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {admin}"})
    assert log.status_code == 200
    actions = {e["action"] for e in log.json()["items"]}
    assert {"user.add", "token.create"} <= actions
    assert all(admin not in json.dumps(e) for e in log.json()["items"])
    who = client.get("/api/v1/me", headers={"Authorization": f"Bearer {member}"}).json()
    assert who["role"] == "member" and who["organization_id"] == "ultium-cells"
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer bmtc_forged"})
    assert forged.status_code == 401


def test_records_can_be_read_as_of_a_day(store_url: str, sample_folder: Path) -> None:
    from datetime import date, timedelta

    from bmtc.service import import_path
    from tests.test_store import _rewrite

    with Store(store_url) as store:
        import_path(store, sample_folder)
        _rewrite(sample_folder / "facilities.csv", "nemaska-becancour-lioh",
                 capacity_value="34000", status="operating", status_as_of="2028-03",
                 source_as_of="2028-03")
        import_path(store, sample_folder / "facilities.csv")
    today = date.today()
    with TestClient(create_app(store_url)) as client:
        path = "/api/v1/facilities/nemaska-becancour-lioh"
        before = client.get(path, params={"as_of": (today - timedelta(days=1)).isoformat()})
        assert before.status_code == 200
        assert before.json()["record"]["status"] == "under_construction"
        assert before.json()["record"]["capacity_value"] == "32000"
        assert {c["field"] for c in before.json()["changes_undone"]} >= {"status",
                                                                         "capacity_value"}
        now = client.get(path, params={"as_of": today.isoformat()}).json()
        assert now["record"]["status"] == "operating" and now["changes_undone"] == []
        bad = client.get(path, params={"as_of": "2026-02-30"})
        assert bad.status_code == 422


def test_paging_through_a_sort_visits_every_match_once_with_missing_values_last(
        client: TestClient) -> None:
    seen: list[dict[str, object]] = []
    page = 1
    while True:
        body = client.get("/api/v1/facilities", params={
            "stage": "mining", "sort": "start_year", "page": page, "page_size": 7}).json()
        seen.extend(body["items"])
        if page * 7 >= body["total"]:
            break
        page += 1
    assert len(seen) == body["total"] == len({f["id"] for f in seen})
    years = [f["start_year"] for f in seen]
    known = [y for y in years if y is not None]
    assert known == sorted(known)
    assert years == known + [None] * (len(years) - len(known))
    assert client.get("/api/v1/facilities", params={"sort": "operator_id"}).status_code in (
        400, 422)


def test_a_search_shows_an_import_made_while_the_server_runs(store_url: str,
                                                             sample_folder: Path) -> None:
    from bmtc.service import import_path
    from tests.test_store import _rewrite

    with Store(store_url) as store:
        import_path(store, sample_folder)
    with TestClient(create_app(store_url)) as client:
        def capacity() -> Any:
            items = client.get("/api/v1/facilities", params={
                "country": "CA", "page_size": 200}).json()["items"]
            return {f["id"]: f["capacity_value"] for f in items}["nemaska-becancour-lioh"]

        assert capacity() == capacity() == 32000
        _rewrite(sample_folder / "facilities.csv", "nemaska-becancour-lioh",
                 capacity_value="34000")
        with Store(store_url) as writer:
            import_path(writer, sample_folder / "facilities.csv")
        assert capacity() == 34000


def test_stored_markup_reaches_a_browser_only_as_inert_json(store_url: str,
                                                            sample_folder: Path) -> None:
    from bmtc.service import import_path
    from tests.test_store import _rewrite

    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _rewrite(sample_folder / "facilities.csv", "nemaska-becancour-lioh", name=payload)
    with Store(store_url) as store:
        import_path(store, sample_folder)
    with TestClient(create_app(store_url)) as client:
        answer = client.get("/api/v1/facilities/nemaska-becancour-lioh")
        assert answer.status_code == 200
        assert answer.json()["facility"]["name"] == payload  # returned exactly, as data
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        search = client.get("/api/v1/facilities", params={"country": "CA", "page_size": 200})
        assert payload in {f["name"] for f in search.json()["items"]}
        assert search.headers["content-type"] == "application/json"


def test_a_nul_character_is_refused_not_a_server_error(client: TestClient,
                                                       store_url: str) -> None:
    search = client.get("/api/v1/facilities", params={"stage": "cell", "state": "\x00"})
    body = client.post("/api/v1/session", json={"email": "a\x00@example.org",
                                               "password": "x"})
    page = client.post("/login", data={"email": "a\x00@example.org", "password": "x"},
                       headers={"Origin": "http://testserver"})
    assert page.status_code in (401, 422) and "text/html" in page.headers["content-type"]
    if store_url.startswith("sqlite"):
        # SQLite stores any text; nothing matches.
        assert search.status_code == 200 and search.json()["total"] == 0
    else:
        assert search.status_code == 422
        assert search.headers["content-type"] == "application/problem+json"
        assert "NUL" in search.json()["detail"]
    assert body.status_code in (401, 422)
