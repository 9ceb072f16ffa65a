"""The running simulation's control API, on the loopback: what the drills ask for.

`POST /apps/<region>/stop|start`, `POST /standbys/<region>/stop|start`,
`POST /primary/stop|start`, `POST /hops/<name>/cut|restore` (forwarded to the latency
proxies), `GET /` (what runs). Answers are JSON; an unknown target is a 404.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from movr.simulation.supervisor import Deployment
from movr.simulation.topology import HOST

Action = Callable[[], object]


def actions(deployment: Deployment) -> dict[str, Action]:
    """Every control, by its path."""
    top = deployment.topology
    found: dict[str, Action] = {"/primary/stop": deployment.primary.stop}
    found["/primary/start"] = deployment.primary.start
    for region in top.regions:
        found[f"/apps/{region}/stop"] = partial(deployment.stop_app, region)
        found[f"/apps/{region}/start"] = partial(deployment.start_app, region)
    for region, standby in deployment.standbys.items():
        found[f"/standbys/{region}/stop"] = standby.stop
        found[f"/standbys/{region}/start"] = standby.start
    proxies = top.url(top.proxy_control_port)
    for hop in top.hops:
        for verb in ("cut", "restore"):
            path = f"/hops/{hop.name}/{verb}"
            found[path] = partial(_post, proxies + path)
    return found


def serve(deployment: Deployment) -> ThreadingHTTPServer:
    """Serve the controls in a background thread (stop it with `.shutdown()`)."""
    routes = actions(deployment)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            running = {region: p.poll() is None for region, p in deployment.apps.items()}
            self._answer(HTTPStatus.OK, {"apps": running, "controls": sorted(routes)})

        def do_POST(self) -> None:
            action = routes.get(self.path)
            if action is None:
                self._answer(HTTPStatus.NOT_FOUND, {"error": f"no control {self.path}"})
                return
            try:
                action()
            except Exception as error:
                self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(error)})
                return
            self._answer(HTTPStatus.OK, {"done": self.path})

        def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the drills print their own timeline."""

    server = ThreadingHTTPServer((HOST, deployment.topology.drill_control_port), Handler)
    threading.Thread(target=server.serve_forever, name="drill-control", daemon=True).start()
    return server


def request(base_url: str, path: str) -> dict[str, Any]:
    """POST one control (the drills' side)."""
    return _post(base_url + path)


def _post(url: str) -> dict[str, Any]:
    post = urllib.request.Request(url, method="POST", data=b"")  # noqa: S310 -- loopback
    with urllib.request.urlopen(post, timeout=60) as answer:  # noqa: S310 -- loopback
        body: dict[str, Any] = json.loads(answer.read() or b"{}")
        return body
