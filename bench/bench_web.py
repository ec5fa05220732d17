"""Benchmark of the dashboard: the overview's server time and the map with 1,000 facilities
in headless Chromium.

Run from the project root:

    .venv/bin/python bench/bench_web.py

It loads the bundled atlas into a fresh SQLite file plus synthetic facilities (seeded, the
generator of bench_atlas.py) up to 1,000 with coordinates, then

- times the overview computation from a cold cache (what the first visitor after an import
  would wait for, before start-up warming) and the overview page as served, in process
  (ASGI, no sockets): median and p95 of 50 requests after warming;
- starts `bmtc serve` (1 worker) on a free loopback port and, in Debian's Chromium driven by
  Playwright with every request to another host refused, times /map from navigation to the
  first drawn markers, and a click on a marker to its card appearing (median of 5 loads).

Targets (reported, never enforced): overview server time under 200 ms; map interactive in
under 2 s. `--save-baseline` writes bench/web_baseline.json; figures are compared with it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_atlas import SyntheticSpec, generate_csv
from benchlib import Figure, load_baseline, print_figures

BASELINE = Path(__file__).with_name("web_baseline.json")
MAP_FACILITIES = 1000
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]
START_TIMEOUT_S = 180
# The map is interactive once plotly has drawn the facility markers.
MAP_READY = ("() => { const m = document.querySelector('[data-map-ready]');"
             " return m !== null; }")


def _fmt(value: float, unit: str) -> str:
    return f"{value * 1000:.1f} ms" if unit == "s" else f"{value:,.0f} {unit}"


def build_store(folder: Path) -> tuple[str, int]:
    """The bundled atlas plus synthetic facilities up to MAP_FACILITIES with coordinates."""
    from bmtc.service import import_path, initialise
    from bmtc.store.store import Store

    url = f"sqlite:///{folder / 'web.db'}"
    with Store(url) as store:
        initialise(store)
        present = sum(1 for f in store.load().facilities if f.latitude is not None)
        wanted = max(0, MAP_FACILITIES - present)
        raw = folder / "synthetic_raw.csv"
        generate_csv(raw, SyntheticSpec(rows=wanted * 2, seed=20261125))
        kept = folder / "synthetic.csv"
        with raw.open(encoding="utf-8", newline="") as source, \
                kept.open("w", encoding="utf-8", newline="") as target:
            reader = csv.DictReader(source)
            writer = csv.DictWriter(target, fieldnames=list(reader.fieldnames or []))
            writer.writeheader()
            rows = [r for r in reader if r["latitude"] and r["longitude"]][:wanted]
            writer.writerows(rows)
        if rows:
            import_path(store, kept, actor="system:bench")
        total = sum(1 for f in store.load().facilities if f.latitude is not None)
    return url, total


def overview_figures(url: str) -> list[Figure]:
    from fastapi.testclient import TestClient

    from bmtc.server.app import create_app
    from bmtc.store.store import Store
    from bmtc.views.overview import overview

    with Store(url) as store:
        dataset = store.load()
        started = time.perf_counter()
        overview(dataset)
        cold = time.perf_counter() - started
    timings: list[float] = []
    with TestClient(create_app(url)) as client:
        client.get("/")
        for _ in range(50):
            started = time.perf_counter()
            answer = client.get("/")
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200
    timings.sort()
    return [
        Figure("overview_cold_compute", cold, "s",
               detail={"note": "first visitor after an import, before warming"}),
        Figure("overview_server_p50", statistics.median(timings), "s", target=0.2),
        Figure("overview_server_p95", timings[int(len(timings) * 0.95) - 1], "s",
               target=0.2),
    ]


def serve(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bmtc", "serve", "--port", str(port), "--workers", "1"],
        env={**os.environ, "BMTC_DATABASE_URL": url}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("bmtc serve exited; see " + str(folder / "server.log"))
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit(f"bmtc serve did not start within {START_TIMEOUT_S} s")


def map_figures(base: str, facilities: int, loads: int) -> list[Figure]:
    from playwright.sync_api import Route, sync_playwright

    external: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    ready: list[float] = []
    clicks: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_FLAGS)
        for _ in range(loads):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", guard)
            page = context.new_page()
            started = time.perf_counter()
            page.goto(base + "/map", wait_until="commit")
            page.wait_for_function(MAP_READY, timeout=30_000)
            ready.append(time.perf_counter() - started)
            marker = page.locator("[data-map-ready] .scatterlayer .point").last
            started = time.perf_counter()
            marker.click(force=True)
            page.wait_for_selector("[data-card-loaded]", timeout=15_000)
            clicks.append(time.perf_counter() - started)
            context.close()
        browser.close()
    return [
        Figure("map_interactive_median", statistics.median(ready), "s", target=2.0,
               detail={"facilities": facilities, "loads": loads, "all_s": ready,
                       "external_requests": external}),
        Figure("map_interactive_max", max(ready), "s", target=2.0),
        Figure("map_click_to_card_median", statistics.median(clicks), "s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5, help="map loads to time (default 5)")
    parser.add_argument("--save-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bmtc-web-bench-") as name:
        folder = Path(name)
        url, facilities = build_store(folder)
        print(f"store: bundled atlas + synthetic, {facilities} facilities with coordinates")
        figures = overview_figures(url)
        process, base = serve(url, folder)
        try:
            figures += map_figures(base, facilities, max(1, min(args.loads, 20)))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    baseline = load_baseline(BASELINE)
    print_figures(figures, baseline, _fmt)
    missed = [f.name for f in figures if f.ok is False]
    print("Missed targets: " + (", ".join(missed) if missed else "none"))
    if args.save_baseline:
        BASELINE.write_text(json.dumps({
            "meta": {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "python": platform.python_version(), "cores": os.cpu_count(),
                     "facilities": facilities},
            "results": {f.name: f.as_dict() for f in figures}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
