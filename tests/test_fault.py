"""PostgreSQL restarted in the middle of a write load: the server recovers by itself, answers
503 (retry) while the database is away, and every write it acknowledged is there afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bmtc.accounts.store import AccountStore
from bmtc.server.app import create_app
from bmtc.store.schema import submissions

pytestmark = pytest.mark.postgres
WRITES = 240  # bounded: the load stops after this many acknowledged writes or 120 s


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart",
                    "-m", "fast"], check=True, timeout=120, capture_output=True)


@pytest.fixture
def served(postgres_url: str) -> Iterator[tuple[TestClient, str]]:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.fail("the fault test restarts the local PostgreSQL with pg_ctlcluster")
    with TestClient(create_app(postgres_url)) as client:
        accounts = AccountStore(client.app.state.store.engine)  # type: ignore[attr-defined]
        accounts.add_user("writer@example.org", "a long enough password", role="member",
                          organization_id="ultium-cells")
        token = accounts.create_token("writer@example.org", scopes=("read", "submit")).secret
        yield client, token


def test_acknowledged_writes_survive_a_restart(served: tuple[TestClient, str]) -> None:
    client, token = served
    headers = {"Authorization": f"Bearer {token}"}
    acknowledged: list[str] = []
    refused: list[int] = []
    restarted = threading.Event()

    def restart_midway() -> None:
        while len(acknowledged) < WRITES // 3:
            time.sleep(0.01)
        _restart_postgres()
        restarted.set()

    killer = threading.Thread(target=restart_midway, daemon=True)
    killer.start()
    deadline = time.monotonic() + 120
    index = 0
    while len(acknowledged) < WRITES and time.monotonic() < deadline:
        # Distinct keys (value index) so every acknowledged write stays a current row.
        row = {"facility_id": "ultium-cells-warren", "period": str(2000 + index % 100),
               "metric": "capacity" if index < 100 else "production",
               "value": float(index), "unit": "GWh/yr"}
        if index >= 200:
            row["metric"], row["country"] = "sourcing_share", ("US", "CA", "MX", "KR")[
                index % 4]
            row["period"], row["unit"], row["value"] = str(2000 + index), "share", 0.25
        response = client.post("/api/v1/submissions", headers=headers, json=[row])
        if response.status_code == 201:
            acknowledged.extend(response.json()["ids"])
            index += 1
        else:
            refused.append(response.status_code)
            if response.status_code != 503:
                break  # anything but "retry" is a failure; no point waiting out the clock
            time.sleep(0.05)
    killer.join(timeout=150)
    assert restarted.is_set(), "PostgreSQL was not restarted during the load"
    assert len(acknowledged) == WRITES, f"only {len(acknowledged)} writes in 120 s"
    assert set(refused) <= {503}, f"unexpected answers while the database was away: {refused}"
    engine = client.app.state.store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = conn.execute(select(submissions.c.id)).scalars().all()
        count = conn.execute(select(func.count()).select_from(submissions)).scalar_one()
    assert set(acknowledged) <= set(stored)
    assert count == len(acknowledged)
