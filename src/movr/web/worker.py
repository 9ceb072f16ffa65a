"""MovR's gunicorn worker: gthread, plus the bounds it cannot give by itself.

- Queue time: each request is stamped when its connection is accepted or turns readable, so
  the request deadline and the access log count the wait for a free thread.
- Liveness: a `GET /healthz` arriving on a fresh connection is answered by the main loop, not a
  pool thread, so it answers while every thread is busy (on a lock, a frozen database).
- Drain: on SIGTERM the worker accepts what the kernel already queued, then closes its
  listeners, so new connections are refused (the master has closed its copy) instead of being
  accepted by the kernel and reset when the worker exits; /readyz answers 503 meanwhile.
"""

from __future__ import annotations

import json
import select
import socket
import time
from concurrent import futures
from typing import Any

from gunicorn.workers import gthread

from movr.web import serving

HEALTH_REQUEST = (b"GET /healthz ", b"GET /healthz?")
HEAD_END = b"\r\n\r\n"


class MovrWorker(gthread.ThreadWorker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's threaded worker with queue stamps, main-loop liveness and a clean drain."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: unready at once; the main loop then drains (set_accept_enabled)."""
        serving.DRAINING.set()
        super().handle_exit(sig, frame)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Stopping: take in what the kernel already accepted, then close the listeners."""
        super().set_accept_enabled(enabled)
        if enabled or self.alive:
            return
        for listener in self.sockets:
            poll = select.poll()
            poll.register(listener.fileno(), select.POLLIN)
            # Bounded: connections arriving without end must not keep the listener open.
            for _ in range(self.worker_connections):
                if not poll.poll(0):
                    break
                self.accept(listener)
            listener.close()

    def enqueue_req(self, conn: Any) -> None:
        """Wait for a new connection's first bytes in the poller, not in a thread; answer
        liveness here; stamp the rest and queue them for a thread."""
        fresh = not conn.initialized
        if fresh and not conn.data_ready and self.alive:
            # gunicorn's own path for a connection whose data is late (its _DEFER result).
            waiting: futures.Future[object] = futures.Future()
            waiting.set_result(gthread._DEFER)  # the sentinel gunicorn expects
            self.finish_request(conn, waiting)
            return
        if fresh and self._answer_health(conn):
            return
        conn.movr_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """In a pool thread: tell the app how long this request waited for it."""
        serving.queued(getattr(conn, "movr_queued_at", None))
        return super().handle(conn)

    def _answer_health(self, conn: Any) -> bool:
        """Answer a complete `GET /healthz` already received on `conn`; False to leave it."""
        try:
            head = conn.sock.recv(4096, socket.MSG_PEEK)
        except OSError:
            return False
        end = head.find(HEAD_END) + len(HEAD_END)
        # Only a whole request with nothing behind it: anything else goes the usual way.
        if not head.startswith(HEALTH_REQUEST) or end != len(head):
            return False
        body = json.dumps({"status": "ok", "region": self.app.settings.region}).encode()
        try:
            conn.sock.recv(end)  # read it: closing on unread bytes would reset the connection
            conn.sock.sendall(_health_response(body))
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.nr_conns -= 1
        conn.close()
        return True


def _health_response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body
