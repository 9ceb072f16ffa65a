"""With a trace, every attempt is recorded with its time, status and label."""

from __future__ import annotations

import json

import httpx

from movr.loadgen.client import ApiClient, ignore
from movr.loadgen.control import RunControl
from movr.loadgen.outcomes import Kind
from movr.loadgen.stats import Recorder
from movr.loadgen.trace import Event, Trace


def traced(responses: list[httpx.Response | Exception]) -> list[Event]:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    trace = Trace()
    client = ApiClient(
        "http://movr.test",
        Recorder(),
        RunControl(60, None),
        timeout=1,
        transport=httpx.MockTransport(handler),
        trace=trace,
    )
    while responses:
        client.call("end_ride", "POST", "/rides/x/end", success=200, parse=ignore, json={})
    return trace.events()


def problem_503(**headers: str) -> httpx.Response:
    body = json.dumps({"code": "database_unavailable", "status": 503})
    content_type = {"Content-Type": "application/problem+json"}
    return httpx.Response(503, content=body, headers=content_type | headers)


def test_each_attempt_is_traced_with_status_label_and_whether_a_503_is_orderly() -> None:
    request = httpx.Request("POST", "http://movr.test/")
    events = traced(
        [
            httpx.Response(200, json={}),
            problem_503(**{"Retry-After": "1"}),
            problem_503(),  # no Retry-After
            httpx.Response(503, text="<html>busy</html>"),  # not problem+json
            httpx.ReadError("reset by peer", request=request),
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
        ]
    )
    assert [(e.kind, e.status, e.label, e.orderly_503) for e in events] == [
        (Kind.OK, 200, "200", False),
        (Kind.ERROR, 503, "503 database_unavailable", True),
        (Kind.ERROR, 503, "503 database_unavailable", False),
        (Kind.ERROR, 503, "503 (not application/problem+json)", False),
        (Kind.ERROR, None, "connection reset", False),
        (Kind.ERROR, None, "server disconnected", False),
    ]
    assert all(e.took >= 0 for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)
