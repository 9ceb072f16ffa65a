"""`movr global`: MovR in three regions on one machine; `movr global drill NAME`: a failure."""

from __future__ import annotations

import json
import signal
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import click

from movr.config import ConfigError, Settings
from movr.seeding import demo_logins, prepare_database
from movr.simulation import control, drills
from movr.simulation.matrix import RoundTrips
from movr.simulation.supervisor import Deployment, GlobalError
from movr.simulation.topology import DatabaseMode, Topology

ENDPOINTS = "endpoints.json"


class Stopped(Exception):
    """SIGINT or SIGTERM arrived: unwind, stopping everything that was started."""


@click.group("global", invoke_without_command=True)
@click.option(
    "--database",
    type=click.Choice([mode.value for mode in DatabaseMode]),
    default=DatabaseMode.REPLICAS.value,
    show_default=True,
    help="A hot standby in every other region, or the primary alone.",
)
@click.option(
    "--latency",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON round-trip matrix in ms (default: the tutorial's, SPEC §10).",
)
@click.option(
    "--latency-scale",
    type=click.FloatRange(0, 10),
    default=1.0,
    show_default=True,
    help="Multiply every round trip (tests use a small one).",
)
@click.option(
    "--base-port",
    type=click.IntRange(1024, 65000),
    help="First port (default: $PORT or 8000): entries N.., apps N+10.., databases N+20...",
)
@click.pass_context
def global_command(
    context: click.Context,
    database: str,
    latency: Path | None,
    latency_scale: float,
    base_port: int | None,
) -> None:
    """Start MovR in three regions on this machine: a PostgreSQL primary (and a standby per
    other region), latency proxies between regions, one MovR per region and HAProxy in front.
    Stops everything on Ctrl-C or SIGTERM."""
    if context.invoked_subcommand is not None:
        return
    try:
        settings = Settings.from_env(development=True)
        round_trips = RoundTrips.from_file(latency) if latency else RoundTrips.default()
    except (ConfigError, ValueError) as error:
        raise click.ClickException(f"configuration error: {error}") from None
    topology = Topology.plan(
        settings.region_map.regions,
        round_trips.scaled(latency_scale),
        base_port or settings.port,
        DatabaseMode(database),
    )
    _run(settings, topology)


def _run(settings: Settings, topology: Topology) -> None:
    folder = settings.data_dir / "global"
    deployment = Deployment(settings, topology, folder)
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Only a flag and a raise here: taking a lock that the interrupted code may hold
        # (threading.Event's) would deadlock. Further signals are ignored while stopping.
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as running:
            try:
                deployment.start(running, _prepare(settings))
                server = control.serve(deployment)
                running.callback(server.shutdown)
                endpoints = deployment.endpoints()
                (folder / ENDPOINTS).write_text(json.dumps(endpoints, indent=2))
                click.echo(_banner(settings, endpoints, folder / ENDPOINTS))
                while True:
                    time.sleep(3600)  # until a signal raises Stopped
            except Stopped:
                click.echo("stopping every region…")
            except GlobalError as error:
                raise click.ClickException(str(error)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("MovR global stopped: apps, load balancer, proxies and databases.")


def _prepare(settings: Settings) -> Any:
    def prepare(url: str) -> None:
        prepare_database(settings, url, seed_data=True, progress=click.echo)

    return prepare


def _banner(settings: Settings, endpoints: dict[str, Any], written: Path) -> str:
    regions = list(endpoints["entries"])
    lines = ["", "MovR is running in three regions on this machine.", ""]
    lines.append(
        "Entries (one per client region; HAProxy sends you to the nearest healthy region):"
    )
    lines += [f"  {region:<20} {url}/" for region, url in endpoints["entries"].items()]
    lines.append("Apps (one `movr serve` per region):")
    lines += [f"  {region:<20} {url}/" for region, url in endpoints["apps"].items()]
    lines.append("Databases (superuser password in the endpoints file):")
    primary = endpoints["databases"]["primary"]
    lines.append(f"  {primary['region']:<20} primary  {primary['url'].rpartition('@')[2]}")
    for region, url in endpoints["databases"]["standbys"].items():
        lines.append(f"  {region:<20} standby  {url.rpartition('@')[2]}")
    lines.append("Round trips between regions, as measured through the latency proxies (ms):")
    lines.append(" " * 22 + "".join(f"{r:>20}" for r in regions))
    for client, row in endpoints["round_trips_ms"].items():
        lines.append(f"  {client:<20}" + "".join(f"{row[r]:>20.1f}" for r in regions))
    login = demo_logins(settings.region_map)[0]
    lines += [
        "",
        f"Demo logins: demo-<city> (e.g. {login.username}), password {login.password}.",
        f"Endpoints for scripts: {written}; logs: {written.parent}/*.log",
        "Drills (while `movr load` runs): movr global drill region-down|replica-down|"
        "primary-down|partition",
        "Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


@global_command.command("drill")
@click.argument("name", type=click.Choice(sorted(drills.DRILLS)))
@click.option("--region", help="The region to fail (default: the drill's own choice).")
def drill_command(name: str, region: str | None) -> None:
    """Run a failure drill against the running `movr global` and print its timeline."""
    settings = replace(Settings.from_env(development=True))
    written = settings.data_dir / "global" / ENDPOINTS
    if not written.exists():
        raise click.ClickException(f"no running `movr global` ({written} is missing)")
    endpoints = json.loads(written.read_text())
    verdict = drills.DRILLS[name](endpoints, region, click.echo)
    if not verdict.passed:
        raise SystemExit(1)
