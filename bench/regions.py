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
import re
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
READS = ("browse", "history")
DRILLS = ("region-down", "replica-down", "partition", "primary-down")
# Each drill runs inside its own load: started DRILL_LEAD_SECONDS in, over well before the end.
DRILL_LOAD_SECONDS = 25
DRILL_LEAD_SECONDS = 5
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
    """`movr global` with standbys; for each drill in turn, a fresh `movr load --client-regions
    all` with the drill run inside it, so that every failure the load saw belongs to one drill.
    Each drill's timeline and verdict, and its load's report."""
    folder = work / "drills"
    env = dict(os.environ, MOVR_DATA_DIR=str(folder), MOVR_RATE_LIMITS="off")
    env.pop("DATABASE_URL", None)
    log = (work / "global-drills.log").open("w")
    command = [sys.executable, "-m", "movr.cli", "global", "--base-port", str(options.base_port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    results = {}
    try:
        _wait_endpoints(folder / "global" / "endpoints.json", server)
        for seed, drill in enumerate(DRILLS, start=7):
            results[drill] = _drill_under_load(drill, seed, options, env, work)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        log.close()
    return results


def _drill_under_load(
    drill: str, seed: int, options: argparse.Namespace, env: dict[str, str], work: Path
) -> dict[str, Any]:
    report = work / f"drill-{drill}.json"
    load = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [
            sys.executable, "-m", "movr.cli", "load", "--client-regions", "all",
            "--duration", str(DRILL_LOAD_SECONDS), "--seed", str(seed),
            "--concurrency", str(3 * options.concurrency), "--json", str(report),
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    time.sleep(DRILL_LEAD_SECONDS)
    done = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "movr.cli", "global", "drill", drill],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    load.wait(timeout=DRILL_LOAD_SECONDS + 300)
    timeline = done.stdout.strip() or done.stderr.strip()[-2000:]
    return {"timeline": timeline, "load": json.loads(report.read_text())}


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
    lines = [
        "## Drills under load",
        "",
        "`movr global` with standbys. Each drill ran inside its own `movr load --client-regions "
        f"all` of {DRILL_LOAD_SECONDS} s (the drill starting {DRILL_LEAD_SECONDS} s in), so "
        "every failure below belongs to one drill (measured):",
        "",
        "| drill | verdict | requests | failed | failed share | what failed | invariants |",
        "|---|---|---|---|---|---|---|",
    ]
    for drill, result in drills.items():
        load = result["load"]
        errors = load.get("errors", {})
        failed = _failed(load)
        what = "; ".join(
            f"{action} {label}: {count}"
            for action, kinds in sorted(errors.items())
            for label, count in sorted(kinds.items())
        )
        held = load.get("invariants") or []
        invariants = "hold" if held and all(c["ok"] for c in held) else "see the report"
        verdict = _verdict(result["timeline"])
        share = failed / max(1, load["requests"])
        lines.append(
            f"| {drill} | {verdict} | {load['requests']} | {failed} | {share:.2%} | "
            f"{what or 'none'} | {invariants} |"
        )
    lines += ["", "Timelines and verdicts as the drills printed them:", ""]
    for drill, result in drills.items():
        lines += [f"### {drill}", "", "```", result["timeline"], "```", ""]
    return "\n".join(lines)


def render_targets(results: dict[str, dict[str, Any]], drills: dict[str, Any]) -> str:
    """Issue 14's targets, each judged from the figures above (computed from measured ones)."""
    replicas = results["replicas"]["reports"]
    primary = next(iter(replicas))
    matrix = RoundTrips.default()
    lines = ["## Targets", "", "| target | figure | met |", "|---|---|---|"]

    def row(target: str, figure: str, met: bool) -> None:
        lines.append(f"| {target} | {figure} | {'yes' if met else '**no**'} |")

    for region, report in replicas.items():
        if region == primary:
            continue
        rtt = matrix.rtt_ms(region, primary)
        for action in ACTIONS:
            here = report["actions"].get(action)
            there = replicas[primary]["actions"].get(action)
            if here is None or there is None:
                continue
            allowed = there["p50_ms"] + (5 if action in READS else rtt + 10)
            row(
                f"{region} {action} p50 ≤ {allowed:.1f} ms",
                f"{here['p50_ms']:.1f} ms",
                here["p50_ms"] <= allowed,
            )
    region_down = drills["region-down"]
    failover = re.search(r"failover s ([0-9.]+)", region_down["timeline"])
    seconds = float(failover.group(1)) if failover else float("inf")
    row("region-down: failover ≤ 3 s", f"{seconds:.2f} s", seconds <= 3)
    share = _failed(region_down["load"]) / max(1, region_down["load"]["requests"])
    row("region-down: under 1% of requests fail", f"{share:.2%}", share < 0.01)
    outage = drills["primary-down"]
    kinds = {label for kinds in outage["load"].get("errors", {}).values() for label in kinds}
    row(
        "primary-down: no 5xx other than 503",
        ", ".join(sorted(kinds)) or "no failure",
        all(label.startswith("503 ") for label in kinds),
    )
    lost = "lost rides 0" in outage["timeline"]
    row("primary-down: 0 acknowledged writes lost", "0" if lost else "see timeline", lost)
    held = [result["load"] for result in drills.values()]
    held += [r for result in results.values() for r in result["reports"].values()]
    every = all(all(check["ok"] for check in r.get("invariants") or [{"ok": False}]) for r in held)
    row("zero invariant violations after every run and drill", f"{len(held)} runs", every)
    lines.append("")
    return "\n".join(lines)


def _failed(load: dict[str, Any]) -> int:
    return sum(sum(kinds.values()) for kinds in load.get("errors", {}).values())


def _verdict(timeline: str) -> str:
    for line in reversed(timeline.splitlines()):
        if line.startswith("verdict:"):
            return line.removeprefix("verdict:").strip().split(" ", 1)[0]
    return "none printed"


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
    (ROOT / ".movr").mkdir(exist_ok=True)  # absent in a fresh clone
    work = Path(tempfile.mkdtemp(prefix="movr-regions-", dir=ROOT / ".movr"))
    try:
        results = {mode: run_mode(mode, options, work) for mode in ("single", "replicas")}
        drills = drills_under_load(options, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(
        (render(results, options), render_targets(results, drills), render_drills(drills))
    )
    print(report)
    OUTPUT.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
