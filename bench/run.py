"""MovR's benchmark: the ride loop under `movr load`, against the framework ceiling.

Starts `movr demo` (gunicorn + the embedded PostgreSQL) and a Flask "hello world" under the same
gunicorn settings on this machine, runs `movr load` with fixed settings three times, each run
followed by one against the hello world loaded the same way (threads, one httpx client each),
then prints medians and ratios and writes bench/RESULTS.md.
Usage: .venv/bin/python -m bench.run [--duration 30] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.cpu import cpu_split, largest_rss_mb
from bench.hot_path import compare
from bench.round_trips import BEGIN, END, RESULTS
from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres
from movr.db.engine import create_database

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
WARM_UP = 5  # seconds of each load run left out of the CPU split (riders registering)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


@contextmanager
def process(args: list[str], env: dict[str, str], health: str) -> Iterator[None]:
    """Run a server until the block ends, then SIGTERM it."""
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_until_up(health)
        yield
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)


def movr_load(
    url: str, duration: int, concurrency: int, seed: int, data_dir: Path
) -> tuple[dict[str, Any], dict[str, float]]:
    """One `movr load` run of the ride loop: its JSON figures, and the CPU split of its steady
    state (the middle of the run, after riders have registered and before they stop)."""
    out = data_dir / f"load-{seed}.json"
    child = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "movr"), "load", "--url", url,
            "--duration", f"{duration}s", "--concurrency", str(concurrency),
            "--seed", str(seed), "--mix", "ride=100", "--json", str(out),
            # Throughput of the loop itself: no think time between start and end, and no
            # deliberate crowding on popular vehicles (the default workload measures that).
            "--ride-pause", "0s", "--popular", "0",
        ],
        env=dict(os.environ, MOVR_DATA_DIR=str(data_dir)),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    margin = min(WARM_UP, duration / 4)
    time.sleep(margin)
    with cpu_split(data_dir, loadgen=child.pid) as spent:
        time.sleep(duration - 2 * margin)
    child.wait()
    return dict(json.loads(out.read_text())), spent


def hello_load(url: str, duration: int, concurrency: int) -> dict[str, float]:
    """The same client shape as movr load (a thread and an httpx client per user)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def user() -> None:
        mine: list[float] = []
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                client.get(url).raise_for_status()
                mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=user) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def hello_run(url: str, options: argparse.Namespace, work: Path) -> dict[str, float]:
    """One hello world run; this process is its client (the "load generator" CPU)."""
    with cpu_split(work, loadgen=os.getpid(), server="bench.hello") as spent:
        figures = hello_load(url, options.duration, options.concurrency)
    return figures | cpu_per_request(spent, {"throughput_rps": figures["rps"]})


def ride_figures(report: dict[str, Any]) -> dict[str, float]:
    """Start + end as one loop: their combined throughput and worst latencies."""
    start, end = report["actions"]["start_ride"], report["actions"]["end_ride"]
    return {
        "rps": start["throughput"] + end["throughput"],
        "start_p50_ms": start["p50_ms"],
        "start_p99_ms": start["p99_ms"],
        "end_p50_ms": end["p50_ms"],
        "end_p99_ms": end["p99_ms"],
        "refused": start["refused"],
        "errors": report["requests"] and sum(a["errors"] for a in report["actions"].values()),
        "retries": report["db_retries"] or 0,
        "loadgen_cpu": report["loadgen_cpu"]["share_of_one_core"],
        "ok": report["ok"],
    }


def cpu_per_request(spent: dict[str, float], report: dict[str, Any]) -> dict[str, float]:
    """Milliseconds of CPU per request in the measured window, by who spent them."""
    per_request = 1000 / max(1.0, float(report["throughput_rps"]) * spent["seconds"])
    rest = spent["machine"] - spent["server"] - spent["postgres"] - spent["loadgen"]
    return {
        "cpu_server_ms": spent["server"] * per_request,
        "cpu_postgres_ms": spent["postgres"] * per_request,
        "cpu_loadgen_ms": spent["loadgen"] * per_request,
        "cpu_rest_ms": rest * per_request,
        "cpu_busy": spent["machine"] / spent["seconds"],
    }


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(float(row[key]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=30, help="seconds per run")
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="movr-bench-"))
    port, hello_port = free_port(), free_port()
    env = dict(
        os.environ, PORT=str(port), MOVR_DATA_DIR=str(work), MOVR_RATE_LIMITS="off",
        MOVR_LOG_LEVEL="WARNING", MOVR_ENV="production", SECRET_KEY="bench-secret-key-0123456789",
    )  # fmt: skip
    env.pop("DATABASE_URL", None)
    base = f"http://127.0.0.1:{port}"
    hello_url = f"http://127.0.0.1:{hello_port}/hello"
    print(f"starting movr demo on {base} (data in {work}) and hello world on {hello_url}")
    hello_server = [sys.executable, "-m", "bench.hello", "--port", str(hello_port)]
    with (
        process([sys.executable, "-m", "movr.cli", "demo"], env, f"{base}/healthz"),
        process(hello_server, dict(os.environ, PYTHONPATH=str(ROOT)), hello_url),
    ):
        # Each ride run is paired with a hello run right after it: the machine's speed drifts
        # by tens of percent over minutes, and a ratio of neighbours cancels most of that.
        rides, hello = [], []
        for seed in range(1, RUNS + 1):
            report, spent = movr_load(base, options.duration, options.concurrency, seed, work)
            rides.append(
                ride_figures(report) | cpu_per_request(spent, report) | {"rss": largest_rss_mb()}
            )
            print(f"ride loop run {seed}: {rides[-1]}", flush=True)
            hello.append(hello_run(hello_url, options, work))
            print(f"hello run {seed}: {hello[-1]}", flush=True)
        settings = Settings.from_env(
            {"SECRET_KEY": secrets.token_urlsafe(32), "MOVR_DATA_DIR": str(work)}
        )
        database = create_database(settings, EmbeddedPostgres(work).url("movr"))
        hot = compare(database, list(settings.cities))
        with database.engine.connect() as connection:
            pg_version = connection.scalar(text("SHOW server_version"))
        database.dispose()
    write_results(options, rides, hello, hot, str(pg_version))


def write_results(
    options: argparse.Namespace,
    rides: list[dict[str, float]],
    hello: list[dict[str, float]],
    hot: dict[str, Any],
    pg_version: str,
) -> None:
    ride_rps, hello_rps = median(rides, "rps"), median(hello, "rps")
    ratios = [ride["rps"] / pair["rps"] for ride, pair in zip(rides, hello, strict=True)]
    lines = [
        "# MovR benchmark results",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {pg_version} (embedded), {platform.platform()}. MovR (gunicorn, "
        f"{os.environ.get('WEB_CONCURRENCY') or 2 * (os.cpu_count() or 1)} workers x 4 threads), "
        "its database and the load generator share the machine.",
        f"Settings: `movr load --mix ride=100 --ride-pause 0s --popular 0 --concurrency "
        f"{options.concurrency} --duration {options.duration}s`, {RUNS} runs, medians reported.",
        "",
        "| figure | median | runs |",
        "|---|---|---|",
        f"| ride loop (start + end) req/s | {ride_rps:.1f} | "
        + ", ".join(f"{r['rps']:.1f}" for r in rides)
        + " |",
        f"| hello world req/s (same gunicorn, same client) | {hello_rps:.1f} | "
        + ", ".join(f"{h['rps']:.1f}" for h in hello)
        + " |",
        f"| ride loop / hello world (each run over the hello run right after it) | "
        f"{statistics.median(ratios):.0%} | "
        + ", ".join(f"{ratio:.0%}" for ratio in ratios)
        + " |",
        f"| start ride p50 / p99 ms | {median(rides, 'start_p50_ms'):.1f} / "
        f"{median(rides, 'start_p99_ms'):.1f} | |",
        f"| end ride p50 / p99 ms | {median(rides, 'end_p50_ms'):.1f} / "
        f"{median(rides, 'end_p99_ms'):.1f} | |",
        f"| hello p50 / p99 ms | {median(hello, 'p50_ms'):.1f} / {median(hello, 'p99_ms'):.1f} | |",
        f"| refused starts (vehicle taken) per run | {median(rides, 'refused'):.0f} | |",
        f"| unexpected errors per run | {median(rides, 'errors'):.0f} | |",
        f"| database retries per run | {median(rides, 'retries'):.0f} | |",
        f"| load generator CPU (share of one core) | {median(rides, 'loadgen_cpu'):.2f} | |",
        "| CPU ms per request, steady state: MovR workers / PostgreSQL / load generator / rest "
        f"(kernel, other processes) | {median(rides, 'cpu_server_ms'):.2f} / "
        f"{median(rides, 'cpu_postgres_ms'):.2f} / {median(rides, 'cpu_loadgen_ms'):.2f} / "
        f"{median(rides, 'cpu_rest_ms'):.2f} | |",
        f"| cores busy, steady state (of {os.cpu_count()}) | {median(rides, 'cpu_busy'):.2f} | |",
        "| largest MovR worker's memory (RSS MB) after each run | | "
        + ", ".join(f"{r['rss']:.0f}" for r in rides)
        + " |",
        "| hello world, CPU ms per request: server / client / rest | "
        f"{median(hello, 'cpu_server_ms'):.2f} / {median(hello, 'cpu_loadgen_ms'):.2f} / "
        f"{median(hello, 'cpu_rest_ms'):.2f} (cores busy {median(hello, 'cpu_busy'):.2f}) | |",
        "",
        "CPU figures come from /proc over the middle of each run. A process that exits inside"
        " that window counts as rest (neither gunicorn here recycles its workers).",
        "",
        f"Hot path, every way it was built (same run, {hot['rounds']} start+end cycles each, "
        "in-process, no HTTP; interleaved blocks, medians):",
        "",
        "| start + end | ms per cycle | client CPU ms per cycle |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {wall:.2f} | {cpu:.2f} |" for label, wall, cpu in hot["rows"]]
    lines += ["", _round_trips_section()]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.write_text(report, encoding="utf-8")


def _round_trips_section() -> str:
    """The round-trip table `python -m bench.round_trips` last wrote (kept as it is)."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if BEGIN not in current:
        return "Round trips per request: run `python -m bench.round_trips`."
    return BEGIN + current.partition(BEGIN)[2].partition(END)[0] + END


if __name__ == "__main__":
    main()
