"""`movr global`: start a three-region MovR on one machine, keep it running, stop all of it.

Real processes throughout: a PostgreSQL primary (and a streaming standby per other region), the
latency proxies, one `movr serve` per region and HAProxy in front. Everything is made afresh in
`<data folder>/global` on each start, and everything this process started is stopped when it
stops, in reverse order, whatever stopped it.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import httpx

from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres, EmbeddedStandby, TcpAccess
from movr.simulation import haproxy
from movr.simulation.hops import write_hops
from movr.simulation.topology import HOST, Topology
from movr.web.server import spawn

DATABASE = "movr"
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness poll otherwise
START_TIMEOUT = 90.0


class GlobalError(RuntimeError):
    """A part of the simulation could not start (the message says which and why)."""


class Deployment:
    """The running simulation: its servers, and the controls the drills use."""

    def __init__(self, settings: Settings, topology: Topology, folder: Path) -> None:
        """Describe it; nothing starts before `start()`."""
        self.settings = settings
        self.topology = topology
        self.folder = folder
        self.password = secrets.token_urlsafe(24)
        self.primary = EmbeddedPostgres(
            folder / "primary", tcp=TcpAccess(topology.primary_port, self.password)
        )
        self.standbys = {
            region: EmbeddedStandby(
                folder / f"standby-{region}",
                self.primary,
                tcp=TcpAccess(topology.standby_port(region), self.password),
                via_port=topology.standby_source_port(region),
            )
            for region in (topology.regions if topology.has_standbys else ())
        }
        self.apps: dict[str, subprocess.Popen[bytes]] = {}
        self.measured_ms: dict[str, float] = {}
        self._proxies: subprocess.Popen[str] | None = None
        self._balancer: subprocess.Popen[bytes] | None = None

    # Start and stop

    def start(self, stack: ExitStack, prepare: Callable[[str], None]) -> None:
        """Start everything (each part registered on `stack` to be stopped)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self._start_primary(stack, prepare)
        self._start_proxies(stack)
        for region, standby in self.standbys.items():
            standby.start()
            stack.callback(standby.stop)
            _check_running(standby, region)
        for region in self.topology.regions:
            self.start_app(region)
            stack.callback(self.stop_app, region)
        for region in self.topology.regions:
            wait_http(f"{self.topology.url(self.topology.app_port(region))}/healthz", region)
        self._start_balancer(stack)

    def _start_primary(self, stack: ExitStack, prepare: Callable[[str], None]) -> None:
        self.primary.start()
        stack.callback(self.primary.stop)
        self.primary.ensure_database(DATABASE)
        prepare(self.primary.tcp_url(DATABASE))

    def _start_proxies(self, stack: ExitStack) -> None:
        hops_file = self.folder / "hops.json"
        write_hops(hops_file, self.topology.hops)
        self._proxies = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
            [
                sys.executable, "-m", "movr.simulation.latency", "--hops", str(hops_file),
                "--control-port", str(self.topology.proxy_control_port),
            ],
            stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        stack.callback(stop_process, self._proxies)
        self.measured_ms = _ready_line(self._proxies)

    def _start_balancer(self, stack: ExitStack) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(binary).exists():
            raise GlobalError(
                "HAProxy is missing: install Debian's package (apt-get install haproxy)"
            )
        config = self.folder / "haproxy.cfg"
        config.write_text(haproxy.render(self.topology, self.folder / "haproxy.sock"))
        log = (self.folder / "haproxy.log").open("wb")
        self._balancer = subprocess.Popen(  # noqa: S603 -- a fixed binary and our config
            [binary, "-db", "-f", str(config)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        stack.callback(stop_process, self._balancer)
        for region in self.topology.regions:
            wait_http(f"{self.topology.url(self.topology.entry_port(region))}/healthz", region)

    # Controls (drills)

    def start_app(self, region: str) -> None:
        """Start `region`'s MovR instance (no-op while it runs)."""
        running = self.apps.get(region)
        if running is not None and running.poll() is None:
            return
        settings = self._app_settings(region)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Each app logs to its own file: three apps' access logs would drown the console.
        with (self.folder / f"app-{region}.log").open("ab") as log:
            self.apps[region] = spawn(settings, self._primary_url(region), host=HOST, output=log)

    def stop_app(self, region: str) -> None:
        """Stop `region`'s MovR instance gracefully (no-op if it is not running)."""
        process = self.apps.get(region)
        if process is not None:
            stop_process(process)

    def endpoints(self) -> dict[str, Any]:
        """What endpoints.json holds: every URL scripts and drills need."""
        top = self.topology
        databases = {
            "primary": {"region": top.primary_region, "url": self.primary.tcp_url(DATABASE)},
            "standbys": {r: s.tcp_url(DATABASE) for r, s in self.standbys.items()},
        }
        return {
            "entries": {r: top.url(top.entry_port(r)) for r in top.regions},
            "apps": {r: top.url(top.app_port(r)) for r in top.regions},
            "databases": databases,
            "mode": top.mode.value,
            "round_trips_ms": self.round_trip_matrix(),
            "proxy_control": top.url(top.proxy_control_port),
            "drill_control": top.url(top.drill_control_port),
        }

    def round_trip_matrix(self) -> dict[str, dict[str, float]]:
        """Measured round-trip times between regions (from the client-to-app proxies)."""
        matrix: dict[str, dict[str, float]] = {}
        for client in self.topology.regions:
            row = matrix.setdefault(client, {})
            for region in self.topology.regions:
                name = f"client:{client}->app:{region}"
                row[region] = 0.0 if client == region else round(self.measured_ms[name], 1)
        return matrix

    # Details

    def _primary_url(self, region: str) -> str:
        return self.primary.tcp_url(DATABASE, port=self.topology.primary_port_for(region))

    def _app_settings(self, region: str) -> Settings:
        top = self.topology
        standby = self.standbys.get(region)
        # Without a standby of its own a region reads the primary, across its hop if remote.
        read_url = standby.tcp_url(DATABASE) if standby is not None else None
        return replace(
            self.settings,
            region=region,
            port=top.app_port(region),
            data_dir=self.folder / f"app-{region}",
            metrics_dir=self.folder / f"app-{region}" / "metrics",
            read_database_url=read_url,
            region_urls={r: top.url(top.entry_port(r)) for r in top.regions},
            # Behind HAProxy: believe its X-Forwarded-For and X-MovR-Client-Region (web/regions.py).
            proxy_hops=1,
            forwarded_for_hops=1,
            web_concurrency=2,
        )


def _ready_line(process: subprocess.Popen[str]) -> dict[str, float]:
    """The proxies' measured round trips, once they have checked themselves."""
    stdout: IO[str] | None = process.stdout
    assert stdout is not None  # noqa: S101 -- started with a pipe
    line = stdout.readline()
    if not line.startswith("ready "):
        process.wait(timeout=10)
        raise GlobalError(f"the latency proxies did not start (exit {process.returncode})")
    measured: dict[str, float] = json.loads(line.removeprefix("ready "))
    return measured


def wait_http(url: str, what: str) -> None:
    """Wait until `url` answers 200 (GlobalError naming `what` after START_TIMEOUT)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise GlobalError(f"{what}: {url} did not answer within {START_TIMEOUT:.0f} s")


def _check_running(standby: EmbeddedStandby, region: str) -> None:
    """The standby runs (start() returns once it accepts read-only connections)."""
    if not standby.is_running():
        raise GlobalError(f"the standby of {region} did not start")


def stop_process(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """SIGTERM, wait, and SIGKILL if it will not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
