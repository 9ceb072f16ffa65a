"""`python -m movr.simulation.latency`: ready line, control API, refusals, clean stop."""

from __future__ import annotations

import json
import selectors
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from movr.simulation.hops import Hop, write_hops
from movr.simulation.latency_client import ControlError, ProxyControl
from tests.processes import free_port
from tests.simulation.support import SLACK


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_address() -> Iterator[tuple[str, int]]:
    """A threaded echo server: the hops' real target, outside the proxies' process."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield server.server_address[0], server.server_address[1]
        server.shutdown()


def _start(hops_file: Path, control_port: int, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [
            sys.executable,
            "-m",
            "movr.simulation.latency",
            "--hops",
            str(hops_file),
            "--control-port",
            str(control_port),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_line(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The process's first line of stdout, or a failure with its stderr."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            pytest.fail(f"no line within {timeout}s; stderr: {process.communicate()[1]}")
    return process.stdout.readline()


def _exchange(port: int, payload: bytes) -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        start = time.monotonic()
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            received += sock.recv(65536)
        elapsed = time.monotonic() - start
    assert received == payload
    return elapsed


def _closed_by_proxy(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            return sock.recv(1) == b""
        except ConnectionResetError:
            return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _hops(tmp_path: Path, target: tuple[str, int], *rtts_ms: float) -> list[Hop]:
    hops = [
        Hop(f"hop{i}->echo", ("127.0.0.1", free_port()), target, ms) for i, ms in enumerate(rtts_ms)
    ]
    write_hops(tmp_path / "hops.json", hops)
    return hops


def test_the_process_measures_itself_serves_control_and_stops_on_sigterm(
    tmp_path: Path, echo_address: tuple[str, int]
) -> None:
    hops = _hops(tmp_path, echo_address, 20, 40)
    control_port = free_port()
    process = _start(tmp_path / "hops.json", control_port)
    try:
        line = _first_line(process)
        assert line.startswith("ready ")
        measured: dict[str, Any] = json.loads(line.removeprefix("ready "))
        assert set(measured) == {"hop0->echo", "hop1->echo"}
        assert abs(measured["hop1->echo"] - 40) <= 5

        first = hops[0].listen[1]
        assert 0.020 <= _exchange(first, b"hello") <= 0.020 + SLACK
        control = ProxyControl(control_port)
        stats = control.hops()["hop0->echo"]
        assert stats["round_trips"] == 1
        assert stats["bytes_client_to_server"] == stats["bytes_server_to_client"] == 5
        assert stats["cut"] is False
        assert stats["measured_rtt_ms"] == measured["hop0->echo"]

        assert control.cut("hop0->echo")["cut"] is True
        assert _closed_by_proxy(first)
        assert control.hop("hop0->echo")["connections_refused"] == 1
        assert control.restore("hop0->echo")["cut"] is False
        _exchange(first, b"again")
        with pytest.raises(ControlError) as unknown:
            control.cut("nope")
        assert unknown.value.status == 404

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.communicate()
    assert not any(_listening(port) for port in (control_port, *(h.listen[1] for h in hops)))


def test_the_process_refuses_to_run_when_a_hop_is_off(
    tmp_path: Path, echo_address: tuple[str, int]
) -> None:
    _hops(tmp_path, echo_address, 20, 30)
    # No measurement matches to the nanosecond: every hop fails.
    process = _start(tmp_path / "hops.json", free_port(), "--tolerance-ms", "0")
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("latency proxies: self-check failed: hop0->echo: measured")
    assert lines[1].startswith("latency proxies: self-check failed: hop1->echo: measured")


def test_the_process_refuses_a_bad_hops_file(tmp_path: Path) -> None:
    path = tmp_path / "hops.json"
    path.write_text("[]")
    process = _start(path, free_port())
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"hops file {path}" in stderr


def test_the_process_refuses_a_control_port_in_use(
    tmp_path: Path, echo_address: tuple[str, int]
) -> None:
    _hops(tmp_path, echo_address, 20)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = _start(tmp_path / "hops.json", taken.getsockname()[1])
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "cannot start" in stderr


def test_the_proxies_import_nothing_but_the_standard_library() -> None:
    """They run beside the apps as their own light process: no Flask, SQLAlchemy or MovR app."""
    modules = "process, matrix, latency_client"
    probe = (
        f"import sys; from movr.simulation import {modules}; "
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in "
        "{'flask', 'sqlalchemy', 'pydantic', 'httpx', 'psycopg'} "
        "or (m.startswith('movr.') and not m.startswith('movr.simulation'))))"
    )
    found = subprocess.run(  # noqa: S603 -- our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
