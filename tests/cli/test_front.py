"""`movr front`: HAProxy in front of a real `movr serve` keeps slow clients away from MovR's
threads. A thousand connections sending their headers slowly leave normal requests fast."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.cli.serving import Served, serve_movr
from tests.processes import free_port, wait_for

SLOW_CLIENTS = 1000


@pytest.fixture
def fronted(tmp_path: Path) -> Iterator[tuple[Served, str]]:
    """`movr serve` (2 workers, 4 threads each) and `movr front` before it."""
    with serve_movr(tmp_path) as served:
        listen = f"127.0.0.1:{free_port()}"
        backend = str(urlsplit(served.url).netloc)
        log = tmp_path / "front.log"
        env = dict(os.environ, MOVR_DATA_DIR=str(tmp_path), WEB_CONCURRENCY="2")
        with log.open("w") as output:
            front = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "movr.cli",
                    "front",
                    "--listen",
                    listen,
                    "--backend",
                    backend,
                ],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(f"http://{listen}/healthz", front, timeout=30, log=log)
                yield served, f"http://{listen}"
            finally:
                front.send_signal(signal.SIGTERM)
                front.wait(timeout=10)


class SlowClients:
    """Connections that send a request head one header line a second, in a thread's loop."""

    def __init__(self, url: str, count: int) -> None:
        address = urlsplit(url)
        self.host, self.port = str(address.hostname), int(address.port or 0)
        self.count = count
        self.sending = 0  # connections open and still sending
        self.opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> SlowClients:
        self._thread.start()
        assert self.opened.wait(timeout=20), f"only {self.sending} slow connections opened"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=20)

    async def _run(self) -> None:
        await asyncio.gather(*(self._client() for _ in range(self.count)))

    async def _client(self) -> None:
        _, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(b"GET /api/v1/cities HTTP/1.1\r\nHost: movr\r\n")
            await writer.drain()
            self.sending += 1
            if self.sending == self.count:
                self.opened.set()
            while not self._stop.is_set():
                await asyncio.sleep(1)
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
        except ConnectionError:
            pass  # the front gave up on it (timeout http-request): as it should
        finally:
            self.sending -= 1
            writer.close()


def test_a_thousand_slow_clients_leave_normal_requests_fast_through_the_front(
    fronted: tuple[Served, str],
) -> None:
    _, front = fronted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SLOW_CLIENTS + 200:  # one descriptor per slow connection, in this process
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with httpx.Client(base_url=front, timeout=10) as client:
        client.get("/api/v1/cities").raise_for_status()  # warm: a connection to the front
        with SlowClients(front, SLOW_CLIENTS) as slow:
            time.sleep(0.5)
            seconds = []
            for _ in range(20):
                begin = time.monotonic()
                response = client.get("/api/v1/cities")
                seconds.append(time.monotonic() - begin)
                assert response.status_code == 200
                time.sleep(0.05)
            still_sending = slow.sending
    assert still_sending == SLOW_CLIENTS, "the slow clients were still at it while measured"
    assert max(seconds) < 0.1, f"slowest normal request {max(seconds) * 1000:.0f} ms"
