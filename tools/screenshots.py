"""Regenerate the dashboard screenshots in docs/screenshots/ from a fresh embedded store.

    .venv/bin/python tools/screenshots.py

Starts `bmtc serve` on a free loopback port with a temporary SQLite file (the bundled atlas
is loaded on start), opens each main page in Debian's headless Chromium and saves a PNG.
Requests to any other host are refused.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Route, sync_playwright

PAGES = {
    "overview": "/",
    "map": "/map",
    "stages": "/stages",
    "control": "/control",
    "network": "/network",
    "flows": "/flows",
    "scenario": "/scenario",
    "screening": "/screening?org=Gotion+High-Tech&ruleset=feoc-doe-2024",
    "compliance": "/compliance",
    "funding": "/funding",
}
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        env = {**os.environ, "BMTC_DATABASE_URL": f"sqlite:///{folder}/shots.db"}
        server = subprocess.Popen([sys.executable, "-m", "bmtc", "serve", "--port", str(port),
                                   "--workers", "1"], env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            shoot(base)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def shoot(base: str) -> None:
    def local_only(route: Route) -> None:
        if route.request.url.startswith((base, "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", local_only)
        page = context.new_page()
        for name, path in PAGES.items():
            page.goto(base + path, wait_until="networkidle")
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
            print(f"{name}: {OUT / (name + '.png')}")
        browser.close()


if __name__ == "__main__":
    main()
