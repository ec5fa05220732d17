"""The dashboard's frame: the overview, signing in and out, member and admin pages, page
security headers and errors as pages (SQLite; the API tests cover PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bmtc.accounts.store import AccountStore
from bmtc.server.app import create_app
from bmtc.views.overview import overview
from tests.web_support import figures

ORIGIN = "https://testserver.local"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("web")
    with TestClient(create_app(f"sqlite:///{folder / 'web.db'}"), base_url=ORIGIN) as test:
        accounts = AccountStore(test.app.state.store.engine)  # type: ignore[attr-defined]
        accounts.add_user("tesla@example.org", PASSWORD, role="member",
                          organization_id="tesla")
        accounts.add_user("admin@example.org", PASSWORD, role="admin")
        accounts.add_user("analyst@example.org", PASSWORD, role="analyst")
        yield test


def sign_in(client: TestClient, email: str) -> str:
    client.cookies.clear()
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/"},
                         headers={"Origin": ORIGIN}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    page = client.get("/submit" if "tesla" in email else "/").text
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page)
    assert match is not None
    return match.group(1)


def test_overview_shows_the_engine_figures_with_drawable_charts(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "script-src 'self';" in page.headers["content-security-policy"]
    charts = figures(page.text)
    assert {"facilities-by-stage", "cell-capacity", "self-sufficiency"} <= set(
        charts)
    assert all(chart["data"] for chart in charts.values())
    view = overview(client.app.state.store.load())  # type: ignore[attr-defined]
    operating = view.cell_gwh["operating"]
    assert f"{operating:,.0f} GWh" in page.text
    assert view.covered_cell_share is not None
    assert f"{view.covered_cell_share:.1%}" in page.text
    bars = charts["cell-capacity"]["data"][0]
    assert operating in bars["x"]
    assert 'role="group" aria-describedby="cell-capacity-caption"' in page.text
    assert '<figcaption id="cell-capacity-caption">Cell capacity' in page.text
    assert "<details>" in page.text
    assert 'src="/static/plotly/plotly.min.js"' in page.text
    assert "https://cdn" not in page.text


def test_pages_load_nothing_from_other_sites(client: TestClient) -> None:
    html = client.get("/").text
    for reference in re.findall(r'(?:src|href)="([^"]+)"', html):
        if reference.startswith("http"):
            # Only source links leave the site, and only when a reader follows them.
            assert re.search(rf'<a class="source" href="{re.escape(reference)}"', html) or \
                'href="' + reference + '" rel="noopener' in html
    assert client.get("/static/plotly/plotly.min.js").status_code == 200


def test_errors_are_pages_and_api_errors_stay_problem_documents(client: TestClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "Page not found" in missing.text
    bad = client.get("/", params={"year": "<script>"})
    assert bad.status_code == 422 and "<script>" not in bad.text
    beyond = client.get("/", params={"year": 2034})  # past the default scenario's demand
    assert beyond.status_code == 422 and "covers 2025-2030" in beyond.text
    api = client.get("/api/v1/no-such")
    assert api.headers["content-type"] == "application/problem+json"


def test_member_pages_ask_for_sign_in_and_refuse_other_roles(client: TestClient) -> None:
    client.cookies.clear()
    answer = client.get("/submit", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/submit"
    sign_in(client, "analyst@example.org")
    assert client.get("/submit").status_code == 403
    assert client.get("/admin").status_code == 403


def test_sign_in_needs_this_site_and_the_right_password(tmp_path: Path) -> None:
    with TestClient(create_app(f"sqlite:///{tmp_path / 'signin.db'}"),
                    base_url=ORIGIN) as client:
        AccountStore(client.app.state.store.engine).add_user(  # type: ignore[attr-defined]
            "tesla@example.org", PASSWORD, role="member", organization_id="tesla")
        form = {"email": "tesla@example.org", "password": PASSWORD, "next": "//evil.example"}
        cross = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403 and "set-cookie" not in cross.headers
        wrong = client.post("/login", data={**form, "password": "not the password at all"},
                            headers={"Origin": ORIGIN})
        assert wrong.status_code == 401 and "Unknown email or wrong password" in wrong.text
        right = client.post("/login", data=form, headers={"Origin": ORIGIN},
                            follow_redirects=False)
        assert right.headers["location"] == "/"  # never off the site
        for _ in range(5):
            client.post("/login", data={**form, "password": "x" * 12},
                        headers={"Origin": ORIGIN})
        limited = client.post("/login", data=form, headers={"Origin": ORIGIN})
        assert limited.status_code == 429 and "text/html" in limited.headers["content-type"]
        assert int(limited.headers["retry-after"]) >= 1


def test_a_member_submits_a_figure_from_the_page(client: TestClient) -> None:
    csrf = sign_in(client, "tesla@example.org")
    form = {"facility_id": "tesla-nevada-lfp-cells", "period": "2026", "metric": "capacity",
            "value": "9.5", "unit": "GWh/yr"}
    forged = client.post("/submit", data={**form, "csrf_token": "0" * 64})
    assert forged.status_code == 403
    saved = client.post("/submit", data={**form, "csrf_token": csrf})
    assert saved.status_code == 200 and "Saved as" in saved.text
    assert "tesla-nevada-lfp-cells" in saved.text and "9.5" in saved.text
    other = client.post("/submit", data={**form, "facility_id": "panasonic-energy-nevada",
                                         "csrf_token": csrf})
    assert other.status_code == 403
    bad = client.post("/submit", data={**form, "period": "26", "csrf_token": csrf})
    assert bad.status_code == 422 and "period" in bad.text


def test_admin_sees_the_audit_log_and_signs_out(client: TestClient) -> None:
    csrf = sign_in(client, "admin@example.org")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "atlas.import" in page.text and "system:bundled-atlas" in page.text
    assert "tesla@example.org" in page.text
    refused = client.post("/logout", data={"csrf_token": "x"})
    assert refused.status_code == 403
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_text_for_chart_labels_cannot_become_markup() -> None:
    from bmtc.web.figures import plot_text

    assert plot_text('<a href="https://x">CATL</a> & co') == (
        '&lt;a href="https://x"&gt;CATL&lt;/a&gt; &amp; co')


def test_new_computations_are_rationed_per_client_and_per_process() -> None:
    import threading

    from bmtc.server.auth import AuthError
    from bmtc.web.compute import ComputeGate

    gate = ComputeGate(slots=1)
    started, release = threading.Event(), threading.Event()

    def long_analysis() -> None:
        with gate.admit("10.0.0.1"):
            started.set()
            release.wait(5)

    worker = threading.Thread(target=long_analysis)
    worker.start()
    assert started.wait(5)
    # The same client asks for another new analysis meanwhile.
    with pytest.raises(AuthError) as second, gate.admit("10.0.0.1"):
        pass
    assert second.value.status == 429 and second.value.headers["Retry-After"]
    waited: list[bool] = []
    other = threading.Thread(target=lambda: waited.append(gate.admit("10.0.0.2").__enter__()
                                                          is None))
    other.start()
    other.join(0.3)
    assert other.is_alive()  # another client waits for the only slot...
    release.set()
    worker.join(5)
    other.join(5)
    assert waited == [True]  # ...and gets it once the first analysis ends
