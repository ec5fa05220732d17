"""Real-browser fixtures: the platform served by `bmtc serve` on a free loopback port, and a
headless Debian Chromium driven by Playwright in which every request to another host is
refused and recorded, so a test can assert that a page loaded nothing from elsewhere.

Chromium is Debian's package (/usr/bin/chromium). When it is missing the fixture installs it
with apt-get if it can (root, apt available); otherwise the browser tests are skipped, unless
BMTC_REQUIRE_BROWSER is set (as in CI), when they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]
START_TIMEOUT_S = 120


def ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    required = bool(os.environ.get("BMTC_REQUIRE_BROWSER"))
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        subprocess.run([apt, "install", "-y", "-q", "chromium"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                       stdout=subprocess.DEVNULL, timeout=900)
    if CHROMIUM.exists():
        return CHROMIUM
    message = "Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
    if required:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


# Accounts the live server is given: email -> (role, organization).
ACCOUNTS = {"member@example.org": ("member", "tesla"), "admin@example.org": ("admin", None)}
PASSWORD = "a long enough password"


def _add_accounts(database_url: str) -> None:
    for email, (role, org) in ACCOUNTS.items():
        command = [sys.executable, "-m", "bmtc", "users", "add", email, "--role", role,
                   "--password-stdin", "--db", database_url]
        if org:
            command += ["--org", org]
        subprocess.run(command, input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    port = free_port()
    log = folder / "server.log"
    database_url = f"sqlite:///{folder / 'live.db'}"
    env = {**os.environ, "BMTC_DATABASE_URL": database_url}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bmtc", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"bmtc serve exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"bmtc serve did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.3)
        _add_accounts(database_url)
        yield LiveServer(base, process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Traffic:
    """What the page asked for: requests to other hosts (refused), failed requests,
    console errors and uncaught page errors."""

    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.external == [], f"requests left the machine: {self.external}"
        assert self.failed == [], f"requests failed: {self.failed}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable),
                                              args=CHROMIUM_FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def watched_page(browser: object) -> Iterator[tuple[object, Traffic]]:
    from playwright.sync_api import Browser, ConsoleMessage, Request, Route

    assert isinstance(browser, Browser)
    traffic = Traffic()
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def guard(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in LOCAL_HOSTS or request.url.startswith(
                ("data:", "blob:")):
            route.continue_()
        else:
            traffic.external.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            traffic.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: traffic.console_errors.append(str(error)))
    page.on("requestfailed", lambda request: traffic.failed.append(request.url))
    page.on("response", lambda response: traffic.failed.append(
        f"{response.status} {response.url}") if response.status >= 400 else None)
    yield page, traffic
    context.close()
