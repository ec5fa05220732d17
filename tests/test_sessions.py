"""Browser sessions: HttpOnly / Secure / SameSite cookie, CSRF on every change, sign-in rate
limit, sign-out revokes the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bmtc.accounts.store import AccountStore
from bmtc.server.app import create_app

ROW = {"facility_id": "ultium-cells-warren", "period": "2026", "metric": "capacity",
       "value": 40.0, "unit": "GWh/yr"}


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    # The session cookie is Secure: the test client must speak https to get it back.
    with TestClient(create_app(sqlite_url), base_url="https://testserver") as test_client:
        accounts = AccountStore(test_client.app.state.store.engine)  # type: ignore[attr-defined]
        accounts.add_user("member@example.org", "a long enough password", role="member",
                          organization_id="ultium-cells")
        yield test_client


def sign_in(client: TestClient) -> str:
    response = client.post("/api/v1/session", json={"email": "member@example.org",
                                                    "password": "a long enough password"})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    token: str = response.json()["csrf_token"]
    return token


def test_a_session_needs_the_csrf_header_for_changes(client: TestClient) -> None:
    csrf = sign_in(client)
    assert client.get("/api/v1/me").json()["role"] == "member"
    forged = client.post("/api/v1/submissions", json=[ROW])
    assert forged.status_code == 403 and forged.json()["type"].endswith("/csrf")
    wrong = client.post("/api/v1/submissions", json=[ROW], headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    accepted = client.post("/api/v1/submissions", json=[ROW], headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201


def test_sign_out_ends_the_session(client: TestClient) -> None:
    csrf = sign_in(client)
    secret = client.cookies.get("bmtc_session")
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").json()["role"] == "public"
    client.cookies.set("bmtc_session", secret or "", domain="testserver.local", path="/")
    stale = client.get("/api/v1/me", cookies={"bmtc_session": secret or ""})
    assert stale.status_code == 401


def test_sign_in_failures_are_rate_limited(client: TestClient) -> None:
    first = client.post("/api/v1/session", json={"email": "member@example.org",
                                                 "password": "wrong password!!"})
    assert first.status_code == 401 and first.headers["www-authenticate"] == "Bearer"
    answers = [client.post("/api/v1/session", json={"email": "member@example.org",
                                                    "password": "wrong password!!"}).status_code
               for _ in range(6)]
    assert 429 in answers
    limited = client.post("/api/v1/session", json={"email": "member@example.org",
                                                   "password": "wrong password!!"})
    assert limited.status_code == 429 and "retry-after" in limited.headers
