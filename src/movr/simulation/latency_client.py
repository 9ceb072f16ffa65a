"""ProxyControl: a blocking client for the latency proxies' control API (for drills, tests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote


class ControlError(RuntimeError):
    """The control API refused a request (e.g. 404 for an unknown hop)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class ProxyControl:
    """Talks to `python -m movr.simulation.latency --control-port PORT` on `host`."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> None:
        self.base = f"http://{host}:{port}"
        self.timeout = timeout

    def hops(self) -> dict[str, dict[str, Any]]:
        """Every hop's stats by name (counters, rtt_ms, measured_rtt_ms, cut)."""
        result: dict[str, dict[str, Any]] = self._call("GET", "/hops")
        return result

    def hop(self, name: str) -> dict[str, Any]:
        """One hop's stats."""
        result: dict[str, Any] = self._call("GET", f"/hops/{quote(name, safe='')}")
        return result

    def cut(self, name: str) -> dict[str, Any]:
        """Partition a hop (its connections dropped, new ones refused); its stats."""
        result: dict[str, Any] = self._call("POST", f"/hops/{quote(name, safe='')}/cut")
        return result

    def restore(self, name: str) -> dict[str, Any]:
        """End a hop's partition; its stats."""
        result: dict[str, Any] = self._call("POST", f"/hops/{quote(name, safe='')}/restore")
        return result

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 -- always http:// to the given host
            self.base + path, method=method, data=b"" if method == "POST" else None
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 -- as above
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise ControlError(exc.code, str(message)) from exc
