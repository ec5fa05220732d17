"""Benchmark of the REST API under an open-loop load of facility searches.

Run from the project root:

    .venv/bin/python bench/bench_api.py            # 500 req/s for 20 s, SQLite and PostgreSQL

For each backend it

- starts `bmtc serve` (2 workers by default) as a subprocess on a free loopback port, on a
  fresh SQLite file or on a fresh PostgreSQL schema (created here and dropped at the end,
  server at 127.0.0.1:5432, database `test`), and waits a bounded time for /healthz and for
  every worker to finish starting up;
- times searches one at a time, on new connections and on one reused connection;
- sends a short, unrecorded warm-up, then GET /api/v1/facilities requests with varied filters
  (stage, country, status, sort, page, page size; seeded, so the same on every run) at a fixed
  rate for a fixed time from one asyncio process (httpx, at most 64 connections in clients of
  8). The load is open-loop: request i is sent at start + i / rate whether or not earlier ones
  have been answered, so a slow server cannot slow the load down;
- records each request's latency (from the moment it is sent, including any wait for a free
  connection, to the end of its response body), its status and how late the generator sent
  it, and the CPU the server, the generator and everything else on the machine used;
- stops the server with SIGTERM (SIGKILL for its process group if it has not exited within
  20 s).

It prints the requests/s served, errors, p50/p90/p99/max latency, the generator's send lag and
the CPU figures against the target (500 req/s with p99 under 100 ms), and, when
bench/api_baseline.json exists, each figure's ratio to it (`--save-baseline` writes that
file). Targets are reported, never enforced. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import numpy.typing as npt

from benchlib import (
    Figure,
    load_baseline,
    postgres_reachable,
    postgres_schema,
    print_figures,
)
from bmtc.domain.vocab import Stage, Status

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_PATH = BENCH_DIR / "api_baseline.json"

HOST = "127.0.0.1"
SEARCH_PATH = "/api/v1/facilities"
BACKENDS = ("sqlite", "postgres")
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

DEFAULT_DURATION_S = 20.0
QUICK_DURATION_S = 3.0
DEFAULT_RATE = 500.0
DEFAULT_WORKERS = 2
DEFAULT_CONNECTIONS = 64
CONNECTIONS_PER_CLIENT = 8
DEFAULT_SEED = 20_260_101
WARMUP_S = 1.0
QUICK_WARMUP_S = 0.5

TARGET_RATE = 500.0
# The last requests of the window are still in flight when it closes, so a server that keeps
# up serves a little under the offered rate over the whole span; 1% absorbs that.
RATE_TOLERANCE = 0.01
TARGET_P99_S = 0.100
# A request sent this much after its slot means the generator, not the server, set the pace.
TARGET_LAG_S = 0.005
# One event loop on one core: above this share of a core the generator is near saturation.
GENERATOR_BUSY_CORES = 0.9
# Cores used by processes other than the server and the generator above which the machine was
# shared during the run.
OTHERS_BUSY_CORES = 0.2

# Requests one at a time before the load: on one reused connection, and on new ones.
PROBE_REUSED = 20
PROBE_FRESH = 10
# A reused connection this much slower than a new one points at a delayed-ACK stall (40 ms
# on Linux), not at the server's work.
NAGLE_GAP_S = 0.030

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0
REQUEST_TIMEOUT_S = 5.0
DRAIN_TIMEOUT_S = REQUEST_TIMEOUT_S + 2.0
# Requests in flight (sent, or waiting for a connection) beyond this many are not sent: an
# overwhelmed server must not make the generator's memory and task count grow without bound.
MAX_IN_FLIGHT = 1_000

SORTS = ["name", "-name", "country", "stage", "status", "capacity_value", "-capacity_value",
         "start_year", "-start_year"]
COUNTRIES = ["US", "CA", "MX"]


# --- measuring ----------------------------------------------------------------------------


def cores() -> int:
    # The CPUs this process may run on, which a container can set below the machine's count.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def group_cpu_s(pgid: int) -> float | None:
    """CPU seconds (user + system) of the live processes in a process group, from /proc; None
    where /proc is not available. The server runs in a session of its own, so its group is
    the uvicorn parent and its workers."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while being read
        # The command name may hold spaces and parentheses; the fields after its ")" are fixed.
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_s() -> float | None:
    """CPU seconds all processes on the machine have used since boot (every state but idle
    and I/O wait), from /proc/stat; None where it is not available."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    # cpu user nice system idle iowait irq softirq steal ...
    ticks = [int(v) for v in first[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def percentile(values: npt.NDArray[np.float64], q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


# --- the server ---------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    startup_s: float
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(process: subprocess.Popen[bytes], base_url: str, log: Path,
               workers: int) -> None:
    """Until /healthz answers and every worker has logged the end of its startup, within
    READY_TIMEOUT_S (the first start loads the bundled atlas)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=1.0, trust_env=False) as client:
        for _attempt in range(int(READY_TIMEOUT_S / 0.1) + 1):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with status {process.returncode}:\n"
                                   f"{log_tail(log)}")
            if time.monotonic() > deadline:
                break
            with suppress(httpx.HTTPError):
                healthy = client.get("/healthz").status_code == 200
                started = log.read_text(errors="replace").count("Application startup complete")
                if healthy and started >= workers:
                    return
            time.sleep(0.1)
    raise RuntimeError(f"the server was not ready within {READY_TIMEOUT_S:g} s:\n"
                       f"{log_tail(log)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"  the server did not stop within {STOP_TIMEOUT_S:g} s; killing it")
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5.0)
    # A worker that outlived its parent is still in the server's process group.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def running_server(db_url: str, workers: int, log: Path) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-c", "from bmtc.cli import main; main()", "serve",
               "--host", HOST, "--port", str(port), "--workers", str(workers), "--db", db_url]
    started = time.perf_counter()
    # The log goes to a file: a pipe nobody reads would fill and stall the server.
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(process, f"http://{HOST}:{port}", log, workers)
        yield Server(process, port, time.perf_counter() - started, log)
    finally:
        stop(process)


# --- the load -----------------------------------------------------------------------------


def search_paths(count: int, seed: int) -> list[str]:
    """Facility searches, each filter present on some requests only, as ready-encoded paths
    so the generator spends nothing on them while sending."""
    rng = random.Random(seed)
    stages = [s.value for s in Stage]
    statuses = [s.value for s in Status]
    paths: list[str] = []
    for _ in range(count):
        query: dict[str, str | int] = {}
        if rng.random() < 0.6:
            query["stage"] = rng.choice(stages)
        if rng.random() < 0.6:
            query["country"] = rng.choice(COUNTRIES)
        if rng.random() < 0.5:
            query["status"] = rng.choice(statuses)
        query["sort"] = rng.choice(SORTS)
        query["page"] = rng.choices([1, 2, 3], weights=[7, 2, 1])[0]
        query["page_size"] = rng.choices([20, 50, 100], weights=[2, 6, 2])[0]
        paths.append(f"{SEARCH_PATH}?{urlencode(query)}")
    return paths


@dataclass
class Load:
    """One open-loop run; times are perf_counter seconds, arrays indexed by request (NaN, or
    -1 for the status, where a request was not sent or not answered)."""

    rate: float
    planned: int
    lag: npt.NDArray[np.float64]
    waited: npt.NDArray[np.float64]
    latency: npt.NDArray[np.float64]
    done_at: npt.NDArray[np.float64]
    status: npt.NDArray[np.int32]
    start: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    not_sent: int = 0
    cancelled: int = 0
    wall_s: float = 0.0
    generator_cpu_s: float = 0.0

    @classmethod
    def planning(cls, rate: float, planned: int) -> Load:
        def unset() -> npt.NDArray[np.float64]:
            return np.full(planned, np.nan)

        return cls(rate, planned, unset(), unset(), unset(), unset(),
                   np.full(planned, -1, dtype=np.int32))

    @property
    def sent(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.lag)))

    @property
    def ok(self) -> int:
        return int(np.count_nonzero(self.status == 200))

    @property
    def errors(self) -> int:
        answered_badly = np.count_nonzero((self.status != 200) & (self.status > 0))
        return int(answered_badly) + sum(self.failures.values()) + self.cancelled

    @property
    def served_rate(self) -> float:
        """Successful responses per second over the offered window, or over the time to the
        last response when that is longer (a server falling behind answers late)."""
        window = self.planned / self.rate
        finished = self.done_at[~np.isnan(self.done_at)]
        span = max(window, float(finished.max()) - self.start) if finished.size else window
        return self.ok / span


async def one_request(slots: asyncio.Queue[httpx.AsyncClient], path: str, index: int,
                      load: Load) -> None:
    sent = time.perf_counter()
    load.lag[index] = sent - (load.start + index / load.rate)
    try:
        # The wait for a free connection counts: in an open loop it is the server's backlog.
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            client = await slots.get()
            try:
                load.waited[index] = time.perf_counter() - sent
                response = await client.get(path)
            finally:
                slots.put_nowait(client)
    except TimeoutError:
        load.failures["timed out"] += 1
        load.status[index] = 0
    except httpx.HTTPError as exc:
        load.failures[type(exc).__name__] += 1
        load.status[index] = 0
    else:
        load.status[index] = response.status_code
    done = time.perf_counter()
    load.latency[index] = done - sent
    load.done_at[index] = done


async def open_loop(clients: list[httpx.AsyncClient], paths: list[str], rate: float,
                    connections: int) -> Load:
    """Send paths[i] at start + i / rate, never waiting for answers, then wait a bounded time
    for the ones still in flight."""
    planned = len(paths)
    load = Load.planning(rate, planned)
    in_flight: set[asyncio.Task[None]] = set()
    # One slot per connection, each naming the client it belongs to: requests queue here (a
    # plain FIFO) and never inside httpx's pool, whose bookkeeping grows with its queue.
    slots: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
    for number in range(connections):
        slots.put_nowait(clients[number % len(clients)])
    cpu_start = time.process_time()
    load.start = time.perf_counter()
    deadline = load.start + planned / rate + 1.0
    index = 0
    # Each pass sends at least one request unless it wakes a little early; the count bound
    # only guards against a clock that never advances.
    for _pass in range(4 * planned + 1_000):
        if index >= planned:
            break
        now = time.perf_counter()
        if now > deadline:
            break
        # Every request whose slot has come goes now, so a late wake-up catches up at once.
        due = min(planned, int((now - load.start) * rate) + 1)
        while index < due:
            if len(in_flight) >= MAX_IN_FLIGHT:
                load.not_sent += 1
            else:
                task = asyncio.create_task(one_request(slots, paths[index], index, load))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            index += 1
        await asyncio.sleep(max(0.0, load.start + index / rate - time.perf_counter()))
    load.not_sent += planned - index
    if in_flight:
        _done, pending = await asyncio.wait(set(in_flight), timeout=DRAIN_TIMEOUT_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        load.cancelled = len(pending)
    load.wall_s = time.perf_counter() - load.start
    load.generator_cpu_s = time.process_time() - cpu_start
    return load


async def unloaded(base_url: str, paths: list[str]) -> tuple[float, float]:
    """Median latency of one request at a time, on new connections and on one reused
    connection, before any load."""
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    fresh: list[float] = []
    reused: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, trust_env=False,
                                 limits=httpx.Limits(max_connections=1)) as client:
        await client.get(paths[0])
        for path in paths:
            started = time.perf_counter()
            await client.get(path)
            reused.append(time.perf_counter() - started)
        for path in paths[:PROBE_FRESH]:
            started = time.perf_counter()
            # The server closes the connection after answering, so each request opens one.
            await client.get(path, headers={"Connection": "close"})
            fresh.append(time.perf_counter() - started)
    return float(np.median(fresh)), float(np.median(reused))


async def drive(server: Server, paths: list[str], warmup: list[str], probes: list[str],
                rate: float, connections: int) -> tuple[Load, Cpu, tuple[float, float]]:
    # httpx's pool checks each of its connections (a few system calls each) every time it
    # hands one out, so one client with 64 connections costs milliseconds of CPU a request;
    # several small clients keep that check short.
    per_client = min(connections, CONNECTIONS_PER_CLIENT)
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    idle = await unloaded(server.base_url, probes)
    async with AsyncExitStack() as stack:
        # trust_env=False: a proxy from the environment must not sit between client and server.
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(
                base_url=server.base_url, limits=limits, timeout=timeout, trust_env=False))
            for _ in range(-(-connections // per_client))
        ]
        # Opens the connections and warms each worker's first queries; not recorded.
        await open_loop(clients, warmup, rate, connections)
        cpu = Cpu(group_cpu_s(server.process.pid), machine_busy_s())
        load = await open_loop(clients, paths, rate, connections)
        cpu.close(group_cpu_s(server.process.pid), machine_busy_s(), load)
        return load, cpu, idle


def skip_sniffio_probe() -> None:
    """httpcore imports sniffio afresh for every lock it creates, to tell asyncio from trio;
    when sniffio is not installed, each failing import searches sys.path again (about 0.3 ms
    of the generator's CPU a request). Marking it absent makes the same ImportError
    immediate, and httpcore falls back to asyncio as before."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


@dataclass
class Cpu:
    """CPU seconds at the start of the recorded load, then cores used over it."""

    server_start: float | None
    machine_start: float | None
    server_cores: float | None = None
    other_cores: float | None = None

    def close(self, server_end: float | None, machine_end: float | None, load: Load) -> None:
        if self.server_start is not None and server_end is not None:
            self.server_cores = (server_end - self.server_start) / load.wall_s
        if (self.machine_start is not None and machine_end is not None
                and self.server_cores is not None):
            machine = (machine_end - self.machine_start) / load.wall_s
            generator = load.generator_cpu_s / load.wall_s
            self.other_cores = max(0.0, machine - self.server_cores - generator)


# --- one backend --------------------------------------------------------------------------


@dataclass
class Outcome:
    figures: list[Figure]
    met: bool


def bench_backend(backend: str, db_url: str, args: argparse.Namespace,
                  workdir: Path) -> Outcome:
    planned = round(args.rate * args.duration)
    paths = search_paths(planned, args.seed)
    warmup = search_paths(max(1, round(args.rate * args.warmup)), args.seed + 1)
    probes = search_paths(PROBE_REUSED, args.seed + 2)
    with running_server(db_url, args.workers, workdir / f"server_{backend}.log") as server:
        print(f"  server ready in {server.startup_s:.1f} s (pid {server.process.pid}, "
              f"port {server.port}, {args.workers} workers)")
        load, cpu, idle = asyncio.run(
            drive(server, paths, warmup, probes, args.rate, args.connections))
    return report(backend, load, server.startup_s, cpu, idle)


def report(backend: str, load: Load, startup_s: float, cpu: Cpu,
           idle: tuple[float, float]) -> Outcome:
    answered = load.latency[~np.isnan(load.latency)]
    lag = load.lag[~np.isnan(load.lag)]
    waited = load.waited[~np.isnan(load.waited)]
    codes = Counter(int(c) for c in load.status if c > 0)
    p50, p90, p99 = (percentile(answered, q) for q in (50, 90, 99))
    peak = float(answered.max()) if answered.size else float("nan")
    lag_p99 = percentile(lag, 99)
    lag_max = float(lag.max()) if lag.size else float("nan")
    generator_cores = load.generator_cpu_s / load.wall_s
    server_cores = cpu.server_cores
    served = load.served_rate
    fresh, reused = idle
    print(f"  one request at a time before the load: median {fresh * 1000:.1f} ms on a new "
          f"connection, {reused * 1000:.1f} ms on a reused one")
    if reused - fresh >= NAGLE_GAP_S:
        # Kludex/uvicorn#3149: with --workers > 1 uvicorn binds the listening socket itself
        # and asyncio never sets TCP_NODELAY on the connections it accepts.
        print("  a reused connection waits about 40 ms a request longer: the delayed-ACK "
              "stall of a server socket without TCP_NODELAY")
    print(f"  offered {load.rate:,.0f} req/s for {load.planned / load.rate:g} s: sent "
          f"{load.sent:,} of {load.planned:,}, answered {answered.size:,} "
          f"({', '.join(f'{c}: {n:,}' for c, n in sorted(codes.items())) or 'none'})")
    failures = dict(load.failures)
    if load.cancelled:
        failures["still in flight after the drain"] = load.cancelled
    print(f"  errors {load.errors:,}"
          + (f" ({', '.join(f'{k}: {n:,}' for k, n in failures.items())})" if failures else "")
          + (f"; not sent (over {MAX_IN_FLIGHT:,} in flight, or the window closed first): "
             f"{load.not_sent:,}" if load.not_sent else ""))
    wait_p99 = percentile(waited, 99)
    print(f"  served {served:,.1f} req/s; latency p50 {p50 * 1000:.1f} ms, p90 "
          f"{p90 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {peak * 1000:.1f} ms (of which "
          f"waiting for a free connection: p99 {wait_p99 * 1000:.1f} ms)")
    server_text = f"{server_cores:.2f}" if server_cores is not None else "n/a"
    others = (f", other processes {cpu.other_cores:.2f}" if cpu.other_cores is not None
              else "")
    print(f"  CPU over the run: generator {generator_cores:.2f} cores, server "
          f"{server_text}{others}, of {cores()}")
    if cpu.other_cores is not None and cpu.other_cores >= OTHERS_BUSY_CORES:
        print("  other processes were using the CPU during the run: the figures are low")
    behind = load.not_sent > 0 or not lag_p99 <= TARGET_LAG_S
    if behind:
        why = ("its own core was saturated" if generator_cores >= GENERATOR_BUSY_CORES
               else "it was waiting for a CPU, not for its own core")
        print(f"  the generator fell behind: send lag p99 {lag_p99 * 1000:.1f} ms, max "
              f"{lag_max * 1000:.1f} ms (limit {TARGET_LAG_S * 1000:g} ms); {why}. The server "
              f"saw the requests later and more bunched than planned")
    else:
        print(f"  the generator kept up: send lag p99 {lag_p99 * 1000:.2f} ms, max "
              f"{lag_max * 1000:.1f} ms")
    met = served >= TARGET_RATE * (1 - RATE_TOLERANCE) and p99 < TARGET_P99_S
    print(f"  target {TARGET_RATE:,.0f} req/s with p99 < {TARGET_P99_S * 1000:g} ms: "
          f"{'met' if met else 'missed'}")
    detail: dict[str, Any] = {
        "offered_rate": load.rate,
        "planned": load.planned,
        "sent": load.sent,
        "answered": int(answered.size),
        "status_codes": {str(c): n for c, n in sorted(codes.items())},
        "failures": failures,
        "not_sent": load.not_sent,
        "generator_behind": behind,
    }
    sent_or_one = max(load.sent, 1)
    b = backend
    figures = [
        Figure(f"{b}_startup", startup_s, "s"),
        Figure(f"{b}_unloaded_new_connection", fresh, "s"),
        Figure(f"{b}_unloaded_reused_connection", reused, "s"),
        Figure(f"{b}_served_rate", served, "req/s", TARGET_RATE * (1 - RATE_TOLERANCE),
               higher_is_better=True, detail=detail),
        Figure(f"{b}_errors", load.errors, "requests", 0.0, detail=failures),
        Figure(f"{b}_latency_p50", p50, "s"),
        Figure(f"{b}_latency_p90", p90, "s"),
        Figure(f"{b}_latency_p99", p99, "s", TARGET_P99_S,
               detail={"connection_wait_p99_s": round(wait_p99, 6)}),
        Figure(f"{b}_latency_max", peak, "s"),
        Figure(f"{b}_send_lag_p99", lag_p99, "s", TARGET_LAG_S,
               detail={"max_s": round(lag_max, 6), "not_sent": load.not_sent}),
        Figure(f"{b}_generator_cpu", generator_cores, "cores"),
        Figure(f"{b}_generator_cpu_per_request", load.generator_cpu_s / sent_or_one, "s"),
    ]
    if server_cores is not None:
        # Per request, the server's cost hardly depends on what else the machine runs.
        figures.append(Figure(f"{b}_server_cpu", server_cores, "cores"))
        figures.append(Figure(f"{b}_server_cpu_per_request",
                              server_cores * load.wall_s / sent_or_one, "s"))
    if cpu.other_cores is not None:
        figures.append(Figure(f"{b}_other_cpu", cpu.other_cores, "cores"))
    return Outcome(figures, met)


# --- reporting ----------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN: nothing was answered
        return "n/a"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "req/s":
        return f"{value:,.1f} req/s"
    if unit == "cores":
        return f"{value:.2f} cores"
    return f"{value:,.0f} {unit}"


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=None,
                        help=f"seconds of recorded load (default {DEFAULT_DURATION_S:g}, "
                             f"--quick {QUICK_DURATION_S:g})")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE,
                        help=f"requests per second offered (default {DEFAULT_RATE:g})")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help=f"server worker processes (default {DEFAULT_WORKERS})")
    parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS,
                        help=f"client connections at most (default {DEFAULT_CONNECTIONS})")
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both",
                        help="store behind the server (default both)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the searches")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_DURATION_S:g} s unless --duration is given")
    parser.add_argument("--save-baseline", action="store_true",
                        help="write bench/api_baseline.json")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = QUICK_DURATION_S if args.quick else DEFAULT_DURATION_S
    args.warmup = QUICK_WARMUP_S if args.quick else WARMUP_S
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be between 1 and 600 seconds")
    if not 1 <= args.rate <= 5_000:
        parser.error("--rate must be between 1 and 5,000 requests/s")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be between 1 and 16")
    if not 1 <= args.connections <= 256:
        parser.error("--connections must be between 1 and 256")
    if args.quick and args.save_baseline:
        parser.error("a --quick run is not a baseline; drop one of --quick, --save-baseline")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Progress lines should show up as they happen when the output goes to a file.
        sys.stdout.reconfigure(line_buffering=True)
    started = time.perf_counter()
    skip_sniffio_probe()
    chosen = list(BACKENDS) if args.backend == "both" else [args.backend]
    figures: list[Figure] = []
    verdicts: dict[str, str] = {}
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bmtc_bench_api_") as tmp:
        workdir = Path(tmp)
        for backend in chosen:
            print(f"{LABELS[backend]}: facility searches, {args.rate:,.0f} req/s for "
                  f"{args.duration:g} s after a {args.warmup:g} s warm-up, {args.workers} "
                  f"workers, at most {args.connections} connections")
            try:
                if backend == "sqlite":
                    outcome = bench_backend(backend, f"sqlite:///{workdir / 'store.sqlite'}",
                                            args, workdir)
                else:
                    unreachable = postgres_reachable()
                    if unreachable:
                        notes[backend] = (f"skipped (server at 127.0.0.1:5432 unreachable: "
                                          f"{unreachable})")
                        print(f"  {notes[backend]}\n")
                        continue
                    with postgres_schema() as url:
                        outcome = bench_backend(backend, url, args, workdir)
            except RuntimeError as exc:
                notes[backend] = f"not measured: {exc}"
                print(f"  {notes[backend]}\n")
                continue
            figures += outcome.figures
            verdicts[backend] = "met" if outcome.met else "missed"
            print()

    size = {"duration_s": args.duration, "rate": args.rate, "workers": args.workers,
            "connections": args.connections, "seed": args.seed}
    baseline = load_baseline(BASELINE_PATH)
    if baseline is not None:
        base_size = baseline.get("meta", {}).get("size")
        if base_size != size:
            print(f"Note: the baseline was measured with {base_size}, this run with {size}; "
                  "its ratios are not comparable.\n")
    if figures:
        print_figures(figures, baseline, _fmt)
    for backend, verdict in verdicts.items():
        print(f"\n{LABELS[backend]}: target {TARGET_RATE:,.0f} req/s with p99 < "
              f"{TARGET_P99_S * 1000:g} ms {verdict}", end="")
    print()
    results = {
        "meta": {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "fastapi": version("fastapi"),
            "uvicorn": version("uvicorn"),
            "httpx": version("httpx"),
            "platform": platform.platform(),
            "cores": cores(),
            "size": size,
            "backends": {b: notes.get(b, "measured") for b in chosen},
        },
        "results": {fig.name: fig.as_dict() for fig in figures},
    }
    if args.save_baseline:
        if figures:
            BASELINE_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
            print(f"\nBaseline written to {BASELINE_PATH}")
        else:
            print("\nNothing was measured; no baseline written.")
    elif baseline is None:
        print("\nNo baseline (bench/api_baseline.json); --save-baseline writes one.")
    print(f"\nTotal benchmark time {time.perf_counter() - started:.1f} s")
    missed = [f.name for f in figures if f.ok is False]
    if missed:
        print(f"Missed targets: {', '.join(missed)}")
    return 0 if figures else 1


if __name__ == "__main__":
    raise SystemExit(main())
