"""The dashboard in a real headless Chromium: every page loads with nothing fetched from
another host and no script errors, charts are drawn, and the main interactions work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import LiveServer, Traffic, browser, live_server, watched_page

__all__ = ["browser", "live_server", "watched_page"]

PUBLIC_PAGES = ["/", "/map", "/stages", "/control", "/network", "/flows", "/scenario",
                "/screening", "/compliance", "/funding", "/login"]


def _page(watched: tuple[object, Traffic]) -> tuple[object, Traffic]:
    return watched


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_loads_offline(live_server: LiveServer,
                                         watched_page: tuple[object, Traffic], path: str,
                                         tmp_path: Path) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    response = page.goto(live_server.base_url + path, wait_until="networkidle")
    assert response is not None and response.status == 200
    assert page.locator("h1").first.is_visible()
    for chart in page.locator("[data-figure]").all():
        # plotly marks a drawn chart with its own class and an SVG.
        chart.locator(".main-svg").first.wait_for(state="attached", timeout=15_000)
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    traffic.assert_clean()


def test_keyboard_reaches_the_content_first(live_server: LiveServer,
                                            watched_page: tuple[object, Traffic]) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    page.goto(live_server.base_url + "/", wait_until="networkidle")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    traffic.assert_clean()


def test_the_overview_reads_at_phone_width(live_server: LiveServer,
                                          watched_page: tuple[object, Traffic]) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.base_url + "/", wait_until="networkidle")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
    traffic.assert_clean()


def test_member_pages_send_visitors_to_sign_in(live_server: LiveServer,
                                               watched_page: tuple[object, Traffic]) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    page.goto(live_server.base_url + "/submit", wait_until="networkidle")
    assert page.url.endswith("/login?next=/submit")
    page.fill("input[name=email]", "nobody@example.org")
    page.fill("input[name=password]", "not a real password")
    page.click("button[type=submit] >> text=Sign in")
    assert page.locator(".error").inner_text().startswith("Unknown email")
    # The refused sign-in answers 401 by design; nothing else may fail.
    traffic.failed = [f for f in traffic.failed if not f.startswith("401 ")]
    traffic.console_errors = [e for e in traffic.console_errors if "status of 401" not in e]
    traffic.assert_clean()


TEMPLATES = Path(__file__).resolve().parents[1] / "docs" / "templates" / "compliance"


def test_map_filters_and_a_marker_opens_its_card(live_server: LiveServer,
                                                 watched_page: tuple[object, Traffic],
                                                 tmp_path: Path) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    page.goto(live_server.base_url + "/map", wait_until="networkidle")
    page.wait_for_selector("[data-map-ready]")
    page.select_option("select[name=stage]", "cell")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("[data-map-ready]")
    assert "stage=cell" in page.url
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    assert all("cell" in text for text in rows.all_inner_texts())
    single = page.locator("#atlas-map .scatterlayer .trace:not(:first-child) .point").last
    single.click(force=True)
    page.wait_for_selector("#map-card[data-card-loaded]")
    card = page.locator("#map-card")
    assert card.locator("h2").inner_text()
    assert card.locator("a.source, a[href^='http']").count() > 0
    page.screenshot(path=str(tmp_path / "map.png"))
    traffic.assert_clean()


def test_a_screening_explains_its_verdict(live_server: LiveServer,
                                          watched_page: tuple[object, Traffic]) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    page.goto(live_server.base_url + "/screening", wait_until="networkidle")
    page.fill("input[name=org]", "Gotion High-Tech")
    page.select_option("select[name=ruleset]", "feoc-doe-2024")
    page.fill("input[name=as_of]", "2026-06-30")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#verdict-heading .badge").inner_text().strip() == "feoc"
    page.locator("[data-figure] .main-svg").first.wait_for(state="attached")
    traffic.assert_clean()


def test_a_bill_upload_gives_the_ratio_and_verdict(live_server: LiveServer,
                                                   watched_page: tuple[object, Traffic]) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    page.goto(live_server.base_url + "/compliance", wait_until="networkidle")
    page.set_input_files("input[name=bill]", str(TEMPLATES / "module-45x.xlsx"))
    page.select_option("select[name=year]", "2026")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "76.0%" in page.locator(".cards").first.inner_text()
    assert page.locator("h2 .badge").first.inner_text().strip() == "PASS"
    traffic.assert_clean()


def _sign_in(page: object, base: str, email: str, next_path: str) -> None:
    from playwright.sync_api import Page

    from tests.browser import PASSWORD

    assert isinstance(page, Page)
    page.goto(f"{base}/login?next={next_path}", wait_until="networkidle")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url == base + next_path


def test_a_member_submits_and_an_admin_sees_the_audit_log(
        live_server: LiveServer, watched_page: tuple[object, Traffic], tmp_path: Path) -> None:
    from playwright.sync_api import Page

    page, traffic = watched_page
    assert isinstance(page, Page)
    base = live_server.base_url
    _sign_in(page, base, "member@example.org", "/submit")
    page.fill("input[name=facility_id]", "tesla-nevada-lfp-cells")
    page.fill("input[name=period]", "2026")
    page.select_option("select[name=metric]", "capacity")
    page.fill("input[name=value]", "9.5")
    page.fill("input[name=unit]", "GWh/yr")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Saved as" in page.locator("[role=status]").inner_text()
    page.screenshot(path=str(tmp_path / "submit.png"), full_page=True)
    page.click("header.site button[type=submit] >> text=Sign out")
    page.wait_for_load_state("networkidle")
    _sign_in(page, base, "admin@example.org", "/admin")
    assert "atlas.import" in page.locator("main").inner_text()
    assert "submission" in page.locator("main").inner_text()
    traffic.assert_clean()
