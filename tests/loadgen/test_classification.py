"""Every response lands in exactly one kind: success, expected refusal, 429, or error."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from movr.loadgen.client import RIDE, ApiClient, Reply, Shape, ignore
from movr.loadgen.control import RunControl
from movr.loadgen.outcomes import Kind, classify
from movr.loadgen.stats import Recorder

REFUSALS = frozenset({"vehicle_unavailable", "already_riding"})
RIDE_BODY = dict.fromkeys(RIDE, None) | {"id": "5b0f9b7e-3a4f-4a39-9f7e-0c5d1b1f3a10"}


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (201, None, Kind.OK),
        (200, None, Kind.ERROR),  # a success status other than the documented one
        (409, "vehicle_unavailable", Kind.REFUSED),
        (409, "already_riding", Kind.REFUSED),
        (409, "ride_already_ended", Kind.ERROR),  # not expected for this action
        (409, None, Kind.ERROR),
        (422, "validation_error", Kind.ERROR),
        (429, "rate_limited", Kind.RATE_LIMITED),
        (429, None, Kind.RATE_LIMITED),
        (500, "internal_error", Kind.ERROR),
        (503, "vehicle_unavailable", Kind.ERROR),  # expected codes only count on 4xx
        (302, None, Kind.ERROR),
    ],
)
def test_classify(status: int, code: str | None, kind: Kind) -> None:
    assert classify(status, code, success=201, expected=REFUSALS) is kind


def problem(status: int, code: str) -> httpx.Response:
    body = {"type": f"urn:movr:problem:{code}", "title": "t", "status": status, "code": code}
    return httpx.Response(
        status, content=json.dumps(body), headers={"Content-Type": "application/problem+json"}
    )


def start_ride(
    handler: Callable[[httpx.Request], httpx.Response], key: str | None = None
) -> tuple[Reply[None], Recorder]:
    recorder = Recorder()
    client = ApiClient(
        "http://movr.test",
        recorder,
        RunControl(60, None),
        timeout=1,
        transport=httpx.MockTransport(handler),
    )
    reply = client.call(
        "start_ride",
        "POST",
        "/rides",
        success=201,
        expected=REFUSALS,
        parse=ignore,
        shape=Shape(RIDE),
        json={"vehicle_id": "x"},
        idempotency_key=key,
    )
    client.close()
    return reply, recorder


def errors_of(recorder: Recorder) -> dict[str, int]:
    return {detail: count for (_, detail), count in recorder.errors().items()}


def test_documented_success() -> None:
    reply, recorder = start_ride(lambda _: httpx.Response(201, json=RIDE_BODY))
    assert reply.ok
    assert recorder.totals().errors == 0


def test_expected_refusal_is_read_from_the_problem_code() -> None:
    reply, recorder = start_ride(lambda _: problem(409, "vehicle_unavailable"))
    assert (reply.kind, reply.code) == (Kind.REFUSED, "vehicle_unavailable")
    assert recorder.refusals() == {("start_ride", "vehicle_unavailable"): 1}


def test_refusal_that_is_not_problem_json_is_an_error() -> None:
    reply, recorder = start_ride(
        lambda _: httpx.Response(409, json={"code": "vehicle_unavailable"})
    )
    assert reply.kind is Kind.ERROR
    assert errors_of(recorder) == {"409 (not application/problem+json)": 1}


def test_server_error_and_unexpected_code_are_errors() -> None:
    _, recorder = start_ride(lambda _: problem(500, "internal_error"))
    assert errors_of(recorder) == {"500 internal_error": 1}
    _, recorder = start_ride(lambda _: problem(404, "not_found"))
    assert errors_of(recorder) == {"404 not_found": 1}


def test_rate_limited_is_its_own_kind() -> None:
    reply, recorder = start_ride(lambda _: problem(429, "rate_limited"))
    assert reply.kind is Kind.RATE_LIMITED
    assert recorder.totals().rate_limited == 1
    assert recorder.totals().errors == 0


def test_success_missing_documented_fields_is_a_protocol_error() -> None:
    body = {k: v for k, v in RIDE_BODY.items() if k != "revenue"}
    reply, recorder = start_ride(lambda _: httpx.Response(201, json=body))
    assert reply.kind is Kind.ERROR
    assert errors_of(recorder) == {"protocol: missing revenue": 1}


def test_success_with_invalid_json_is_a_protocol_error() -> None:
    _, recorder = start_ride(lambda _: httpx.Response(201, content=b"<html>"))
    assert errors_of(recorder) == {"protocol: body is not a JSON object": 1}


def test_timeout_is_an_error_without_latency() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    reply, recorder = start_ride(timeout)
    assert (reply.kind, reply.status) == (Kind.ERROR, None)
    assert errors_of(recorder) == {"timeout": 1}
    (summary,) = recorder.summaries(1.0)
    assert summary.max_ms is None


def test_connection_error_is_retried_once_with_the_same_idempotency_key() -> None:
    keys: list[str | None] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        if len(keys) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json=RIDE_BODY, headers={"Idempotent-Replayed": "true"})

    reply, recorder = start_ride(flaky, key="key-1")
    assert reply.ok
    assert reply.replayed
    assert keys == ["key-1", "key-1"]
    assert errors_of(recorder) == {"connection error": 1}  # the lost attempt still counts


def test_without_idempotency_key_nothing_is_retried() -> None:
    calls: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    start_ride(down)
    assert len(calls) == 1
