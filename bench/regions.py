"""Latency per client region under the real round-trip matrix: `movr global` with the primary
alone, then with a standby per region, loaded from every region's entry at once.

Writes bench/GLOBAL.md: per mode, client region and action, the count and p50/p99 that
`movr load` measured, the cross-region round trips per request that the latency proxies counted
on the region's hop to the primary, and the lower bound those round trips impose (round trips
times the round-trip time: computed, not measured). Takes about four minutes.
Usage: .venv/bin/python -m bench.regions [--duration 30] [--concurrency 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from movr.simulation.matrix import RoundTrips

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench" / "GLOBAL.md"
ACTIONS = ("browse", "history", "start_ride", "end_ride")
DRILLS = ("region-down", "replica-down", "partition", "primary-down")
DRILL_LOAD_SECONDS = 60
# Round trips each action needs to the primary (bench/RESULTS.md, API requests): a listing is
# the token check and the read; a ride action is one statement that checks the token itself.
TO_PRIMARY = {
    "single": {"browse": 2, "history": 2, "start_ride": 1, "end_ride": 1},
    "replicas": {"browse": 0, "history": 0, "start_ride": 1, "end_ride": 1},
}


def run_mode(mode: str, options: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start `movr global --database mode`, load every entry at once, stop; the figures."""
    folder = work / mode
    env = dict(os.environ, MOVR_DATA_DIR=str(folder), MOVR_RATE_LIMITS="off")
    env.pop("DATABASE_URL", None)
    log = (work / f"global-{mode}.log").open("w")
    command = [sys.executable, "-m", "movr.cli", "global", "--database", mode]
    command += ["--base-port", str(options.base_port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        endpoints = _wait_endpoints(folder / "global" / "endpoints.json", server)
        before = _hops(endpoints)
        reports = _load_every_region(endpoints, options, work / mode)
        after = _hops(endpoints)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        log.close()
    primary = next(iter(endpoints["entries"]))
    trips = {}
    for region, report in reports.items():
        hop = f"app:{region}->db:{primary}"
        crossed = after[hop]["round_trips"] - before[hop]["round_trips"] if hop in after else 0
        trips[region] = crossed / max(1, report["requests"])
    return {"reports": reports, "round_trips": trips, "measured_ms": endpoints["round_trips_ms"]}


def drills_under_load(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    """`movr global` with standbys, `movr load --client-regions all` running, and every drill
    in turn meanwhile: each drill's timeline and verdict, and what the load saw."""
    folder = work / "drills"
    env = dict(os.environ, MOVR_DATA_DIR=str(folder), MOVR_RATE_LIMITS="off")
    env.pop("DATABASE_URL", None)
    log = (work / "global-drills.log").open("w")
    command = [sys.executable, "-m", "movr.cli", "global", "--base-port", str(options.base_port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    report = work / "drills-load.json"
    try:
        _wait_endpoints(folder / "global" / "endpoints.json", server)
        load = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
            [
                sys.executable, "-m", "movr.cli", "load", "--client-regions", "all",
                "--duration", str(DRILL_LOAD_SECONDS), "--seed", "7",
                "--concurrency", str(3 * options.concurrency), "--json", str(report),
            ],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(5)
        timelines = {}
        for drill in DRILLS:
            done = subprocess.run(  # noqa: S603 -- our own interpreter and module
                [sys.executable, "-m", "movr.cli", "global", "drill", drill],
                env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            timelines[drill] = done.stdout.strip() or done.stderr.strip()[-2000:]
        load.wait(timeout=DRILL_LOAD_SECONDS + 300)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        log.close()
    return {"timelines": timelines, "load": json.loads(report.read_text())}


def _load_every_region(
    endpoints: dict[str, Any], options: argparse.Namespace, work: Path
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    loads = {}
    for seed, (region, entry) in enumerate(endpoints["entries"].items(), start=1):
        report = work / f"{region}.json"
        command = [
            sys.executable, "-m", "movr.cli", "load", "--url", entry,
            "--duration", str(options.duration), "--concurrency", str(options.concurrency),
            "--seed", str(seed), "--database-url", endpoints["databases"]["primary"]["url"],
            "--json", str(report),
        ]  # fmt: skip
        loads[region] = (
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT),  # noqa: S603
            report,
        )
    results = {}
    for region, (process, report) in loads.items():
        process.wait(timeout=options.duration + 300)
        results[region] = json.loads(report.read_text()) | {"exit": process.returncode}
    return results


def _wait_endpoints(path: Path, server: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while not path.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"movr global did not start (see {path.parents[2]})")
        time.sleep(0.5)
    time.sleep(0.5)
    endpoints: dict[str, Any] = json.loads(path.read_text())
    return endpoints


def _hops(endpoints: dict[str, Any]) -> dict[str, Any]:
    with urllib.request.urlopen(f"{endpoints['proxy_control']}/hops", timeout=10) as answer:  # noqa: S310 -- loopback
        hops: dict[str, Any] = json.loads(answer.read())
    return hops


def render_drills(drills: dict[str, Any]) -> str:
    """The drills' section of bench/GLOBAL.md."""
    load = drills["load"]
    lines = [
        "## Drills under load",
        "",
        f"`movr global` with standbys, `movr load --client-regions all` ({load['requests']} "
        f"requests over {load['elapsed_s']:.0f} s) running while each drill ran in turn. "
        "Timelines and verdicts as the drills printed them (measured):",
        "",
    ]
    for drill, timeline in drills["timelines"].items():
        lines += [f"### {drill}", "", "```", timeline, "```", ""]
    errors = load.get("errors", {})
    lines += ["What the load saw meanwhile (every unexpected answer, by action and kind):", ""]
    lines += ["| action | what | count |", "|---|---|---|"]
    for action, kinds in sorted(errors.items()):
        for what, count in sorted(kinds.items()):
            lines.append(f"| {action} | {what} | {count} |")
    if not errors:
        lines.append("| (none) | | 0 |")
    held = load.get("invariants") or []
    verdict = "every invariant holds" if held and all(c["ok"] for c in held) else "see the report"
    lines += ["", f"Invariants after the drills, checked on the primary: {verdict}.", ""]
    return "\n".join(lines)


def render(results: dict[str, dict[str, Any]], options: argparse.Namespace) -> str:
    """bench/GLOBAL.md."""
    matrix = RoundTrips.default()
    lines = [
        "# MovR in three regions: latency per client region",
        "",
        f"`python -m bench.regions --duration {options.duration} --concurrency "
        f"{options.concurrency}`: `movr global` at the real round-trip matrix (SPEC §10), "
        "loaded by one `movr load` per client region at once, each through its own region's "
        "entry. One machine of 2 cores runs everything (three apps, their databases, the "
        "proxies, HAProxy and three load generators), so CPU queueing adds to every figure.",
        "",
        "- *count, p50, p99, errors*: measured by `movr load` (milliseconds, whole request).",
        "- *round trips to the primary per request*: measured, counted by the latency proxy on "
        "the region's hop to the primary, over all the region's requests (every action).",
        "- *lower bound*: computed, the round trips the action needs to the primary times the "
        "round-trip time from the client's region to the primary's.",
        "",
        "| database | client region | action | count | p50 | p99 | errors | lower bound |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, result in results.items():
        primary = next(iter(result["reports"]))
        for region, report in result["reports"].items():
            rtt = matrix.rtt_ms(region, primary) if region != primary else 0.0
            for action in ACTIONS:
                figures = report["actions"].get(action)
                if figures is None:
                    continue
                bound = TO_PRIMARY[mode][action] * rtt
                lines.append(
                    f"| {mode} | {region} | {action} | {figures['count']} | "
                    f"{figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} | "
                    f"{figures.get('errors', 0)} | {bound:.0f} |"
                )
    lines += ["", "Round trips to the primary per request (all actions), measured:", ""]
    lines += [
        "| database | client region | round trips per request | invariants |",
        "|---|---|---|---|",
    ]
    for mode, result in results.items():
        for region, trips in result["round_trips"].items():
            verdict = "hold" if result["reports"][region]["exit"] == 0 else "see the load report"
            lines.append(f"| {mode} | {region} | {trips:.2f} | {verdict} |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--base-port", type=int, default=21000)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="movr-regions-", dir=ROOT / ".movr"))
    try:
        results = {mode: run_mode(mode, options, work) for mode in ("single", "replicas")}
        drills = drills_under_load(options, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = render(results, options) + "\n" + render_drills(drills)
    print(report)
    OUTPUT.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
