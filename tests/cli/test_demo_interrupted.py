"""`movr demo` stopped before it serves: nothing left running, no half-seeded demo, one demo per
data folder."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from movr.db.embedded import EmbeddedPostgres
from tests.cli.test_demo import assert_nothing_left_running
from tests.processes import free_port, start_demo, wait_for

SEEDED_FIRST_CITY = re.compile(r"^\s+seeded ")


class Lines:
    """A process's output, line by line as it comes, kept whole for the assertions."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self._lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 120) -> None:
        """Read up to the first line matching `pattern`; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if not self._reader.is_alive() and self._lines.empty():
                    pytest.fail(f"exited {self.process.returncode} first:\n{self.text()}")
                continue
            self.seen.append(line)
            if pattern.search(line):
                return
        pytest.fail(f"no line matching {pattern.pattern!r} in {timeout}s:\n{self.text()}")

    def finish(self, timeout: float = 60) -> str:
        """Wait for the process to end and return everything it printed."""
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)  # it reads up to the end of the output
        while not self._lines.empty():
            self.seen.append(self._lines.get())
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.text()

    def text(self) -> str:
        return "".join(self.seen)


def stop_demo_at(
    data: Path, stage: re.Pattern[str], stop_signal: int, *, again_after: float | None = None
) -> str:
    """Start `movr demo` on `data`, send `stop_signal` once it prints `stage` (and again
    `again_after` seconds later, if given), return its output (it must have ended)."""
    process = start_demo(free_port(), data, stdout=subprocess.PIPE)
    lines = Lines(process)
    try:
        lines.wait_for(stage)
        process.send_signal(stop_signal)
        if again_after is not None:
            time.sleep(again_after)
            if process.poll() is None:
                process.send_signal(stop_signal)
        return lines.finish()
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize(
    ("stage", "stop_signal", "again_after"),
    [
        (re.compile("migrating"), signal.SIGTERM, None),
        (SEEDED_FIRST_CITY, signal.SIGTERM, None),
        (SEEDED_FIRST_CITY, signal.SIGHUP, None),
        # A second signal while it cleans up must not cut the clean-up short.
        (SEEDED_FIRST_CITY, signal.SIGTERM, 0.2),
    ],
    ids=["sigterm-migrating", "sigterm-seeding", "sighup-seeding", "sigterm-twice-seeding"],
)
def test_a_stop_signal_before_serving_stops_the_embedded_database(
    tmp_path: Path, stage: re.Pattern[str], stop_signal: int, again_after: float | None
) -> None:
    output = stop_demo_at(tmp_path / "data", stage, stop_signal, again_after=again_after)
    assert not EmbeddedPostgres(tmp_path / "data").is_running(), output
    assert_nothing_left_running(tmp_path)
    assert "the embedded database is stopped too" in output


@dataclass
class Demo:
    """A `movr demo` process serving on `port`; `output` once it has stopped."""

    port: int
    process: Any
    output: str = ""


@contextmanager
def serving_demo(data: Path) -> Iterator[Demo]:
    """`movr demo` on `data`, serving; stopped with SIGTERM at the end."""
    port = free_port()
    demo = Demo(port, start_demo(port, data, stdout=subprocess.PIPE))
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", demo.process)
        yield demo
    finally:
        demo.process.send_signal(signal.SIGTERM)
        demo.output, _ = demo.process.communicate(timeout=60)


def assert_stopped_with_its_database(demo: Demo, data: Path) -> None:
    assert demo.process.returncode == 0, demo.output
    assert "the embedded database is stopped too" in demo.output
    assert not EmbeddedPostgres(data).is_running()
    assert_nothing_left_running(data.parent)


def test_a_seed_interrupted_after_the_first_city_is_completed_at_the_next_start(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    stop_demo_at(data, SEEDED_FIRST_CITY, signal.SIGTERM)
    logins = []
    with serving_demo(data) as demo, httpx.Client(timeout=30) as client:
        api = f"http://127.0.0.1:{demo.port}/api/v1"
        for city in client.get(f"{api}/cities").json()["items"]:
            username = "demo-" + city["id"].replace(" ", "-")
            answer = client.post(
                f"{api}/auth/token", json={"username": username, "password": "movr-demo-2026"}
            )
            logins.append((username, answer.status_code))
    printed = re.findall(r"^\s+(demo-\S+)\s+home city", demo.output, flags=re.MULTILINE)
    assert len(printed) == 9, demo.output
    assert sorted(logins) == sorted((username, 201) for username in printed), demo.output
    assert_stopped_with_its_database(demo, data)


def test_a_second_demo_on_the_same_data_folder_refuses_and_leaves_the_first_serving(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with serving_demo(data) as first:
        second = start_demo(free_port(), data, stdout=subprocess.PIPE)
        try:
            output, _ = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            second.send_signal(signal.SIGTERM)  # it serves too: stop it, or it outlives the test
            pytest.fail(f"the second demo did not refuse:\n{second.communicate(timeout=60)[0]}")
        assert second.returncode == 1, output
        assert "MOVR_DATA_DIR" in output
        assert "another `movr demo`" in output
        assert "Traceback" not in output
        answer = httpx.get(f"http://127.0.0.1:{first.port}/healthz", timeout=5)
        assert answer.status_code == 200
        assert EmbeddedPostgres(data).is_running()
    assert_stopped_with_its_database(first, data)


def test_a_server_left_by_a_dead_demo_is_stopped_when_the_next_demo_stops(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    # A demo killed outright (SIGKILL: no clean-up possible) leaves its server running.
    process = start_demo(free_port(), data, stdout=subprocess.PIPE)
    lines = Lines(process)
    lines.wait_for(SEEDED_FIRST_CITY)
    process.kill()
    lines.finish()
    assert EmbeddedPostgres(data).is_running()

    with serving_demo(data) as demo:
        pass
    assert_stopped_with_its_database(demo, data)


def test_a_demo_on_a_server_a_live_process_runs_leaves_it_running_and_says_so(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    server = EmbeddedPostgres(data)  # this test's process started it: it stops it
    server.start()
    try:
        with serving_demo(data) as demo:
            pass
        assert demo.process.returncode == 0, demo.output
        assert "the embedded database keeps running" in demo.output
        assert server.is_running()
    finally:
        server.stop()
