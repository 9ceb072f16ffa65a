"""The buffering front's HAProxy configuration: valid for HAProxy, and guarded against slow
clients; `movr global`'s balancer carries the same guards."""

from __future__ import annotations

import subprocess
from pathlib import Path

from movr.front import GUARDS, HAPROXY, render_front
from movr.simulation import haproxy
from tests.unit.test_global_layout import plan


def test_the_front_reads_whole_requests_and_bounds_every_wait(tmp_path: Path) -> None:
    config = render_front(
        "127.0.0.1:8080", ["10.0.0.1:8000", "10.0.0.2:8000"], per_server=16, request_ms=10_000
    )
    for guard in GUARDS:
        assert guard in config
    assert "    timeout queue 5s" in config
    assert "    timeout server 15s" in config  # MovR's own 503 comes first
    assert "    server movr2 10.0.0.2:8000 check maxconn 16" in config
    path = tmp_path / "front.cfg"
    path.write_text(config)
    checked = subprocess.run(  # noqa: S603 -- HAProxy checking our file
        [HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_global_balancer_has_the_same_guards() -> None:
    config = haproxy.render(plan(), Path("/run/haproxy.sock"))
    for guard in GUARDS:
        assert guard in config
