"""The latency proxies' control API: a tiny HTTP/1.1 server on asyncio streams.

    GET  /hops                  every hop's stats by name
    GET  /hops/<name>           one hop's stats
    POST /hops/<name>/cut       partition the hop; its stats
    POST /hops/<name>/restore   end the partition; its stats

Answers are JSON; an unknown hop is 404. One request per connection (`Connection: close`):
the callers are test drivers and drills, for which keep-alive buys nothing.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from movr.simulation.hops import ProxySet

_READ_TIMEOUT = 5.0  # a client that stalls mid-request must not hold a connection forever
_MAX_BODY = 64 * 1024
_ACTIONS = frozenset({"cut", "restore"})


class ControlServer:
    """Serves the control API for a ProxySet on one address."""

    def __init__(self, proxies: ProxySet) -> None:
        self._proxies = proxies
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        """Start listening (OSError if the address is taken)."""
        self._server = await asyncio.start_server(self._handle, host, port)

    @property
    def port(self) -> int:
        """The port listened on (useful when started on port 0)."""
        if self._server is None:
            raise RuntimeError("the control server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def answer(self, method: str, target: str) -> tuple[int, Any]:
        """The status and JSON body for one request (no I/O: the routing, testable alone)."""
        parts = [unquote(part) for part in urlsplit(target).path.strip("/").split("/")]
        action = parts[2] if len(parts) == 3 else None
        if parts[0] != "hops" or len(parts) > 3 or (len(parts) == 3 and action not in _ACTIONS):
            return _error(HTTPStatus.NOT_FOUND, f"no such resource: {target}")
        expected = "GET" if action is None else "POST"
        if method != expected:
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"{target} takes {expected}")
        if len(parts) == 1:
            return HTTPStatus.OK, self._proxies.stats()
        name = parts[1]
        if name not in self._proxies.names:
            return _error(HTTPStatus.NOT_FOUND, f"unknown hop {name!r}")
        operation = {
            None: self._proxies.hop_stats,
            "cut": self._proxies.cut,
            "restore": self._proxies.restore,
        }[action]
        return HTTPStatus.OK, operation(name)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                method, target = await asyncio.wait_for(_read_request(reader), _READ_TIMEOUT)
            except (ValueError, asyncio.IncompleteReadError, TimeoutError):
                status, body = _error(HTTPStatus.BAD_REQUEST, "malformed request")
            else:
                status, body = self.answer(method, target)
            payload = json.dumps(body).encode()
            reason = HTTPStatus(status).phrase
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except OSError:
            pass  # the client hung up: there is no one to answer
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """The method and target of one request; its headers and body are read and dropped."""
    request_line = (await reader.readuntil(b"\n")).decode("latin-1").split()
    if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
        raise ValueError("malformed request line")
    length = 0
    while (line := await reader.readuntil(b"\n")) not in {b"\r\n", b"\n"}:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if not 0 <= length <= _MAX_BODY:
        raise ValueError("body too large")
    await reader.readexactly(length)
    return request_line[0].upper(), request_line[1]


def _error(status: HTTPStatus, message: str) -> tuple[int, Any]:
    return status, {"error": message}
