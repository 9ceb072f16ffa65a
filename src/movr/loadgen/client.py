"""One rider's HTTP client for the JSON API: timed, classified and recorded requests."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from movr.loadgen.control import RunControl
from movr.loadgen.outcomes import (
    PROBLEM_MEDIA_TYPE,
    Kind,
    classify,
    describe_exception,
    describe_status,
)
from movr.loadgen.stats import Recorder
from movr.loadgen.trace import Event, Trace

API = "/api/v1"
READ_AFTER = "MovR-Read-After"  # the API's read-your-writes header (docs/api.md)
# Top-level fields of the bodies docs/api.md promises; a missing one is a protocol error.
ME = frozenset({"id", "city", "first_name", "last_name", "email", "username", "created_at"})
TOKEN = frozenset({"token", "token_type", "expires_at", "user"})
VEHICLE = frozenset(
    {
        "id",
        "city",
        "type",
        "color",
        "brand",
        "location",
        "latitude",
        "longitude",
        "status",
        "date_added",
        "is_mine",
    }
)
RIDE = frozenset(
    {
        "id",
        "city",
        "vehicle_id",
        "vehicle_type",
        "vehicle_brand",
        "vehicle_color",
        "start_location",
        "end_location",
        "start_time",
        "end_time",
        "length_seconds",
        "revenue",
        "active",
    }
)
CITY = frozenset({"id", "name", "region", "latitude", "longitude", "timezone", "served_here"})
PAGE = frozenset({"items", "next_cursor"})

T = TypeVar("T")
Parser = Callable[[dict[str, Any]], T]


def ignore(_body: dict[str, Any]) -> None:
    """A parser for replies whose body the rider does not need."""


@dataclass(frozen=True, slots=True)
class Shape:
    """Fields a success body must have, and those of its first list item if it is a page."""

    fields: frozenset[str] = frozenset()
    items: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Reply(Generic[T]):
    """A classified response (status None: no response at all); `value` is set on success."""

    kind: Kind
    status: int | None
    code: str | None
    value: T | None = None
    replayed: bool = False
    retry_after: float | None = None  # seconds, from a 429 or 503 that asks for patience

    @property
    def ok(self) -> bool:
        """True for the documented success status."""
        return self.kind is Kind.OK


class ApiClient:
    """Requests of one simulated rider, each recorded under an action name."""

    def __init__(
        self,
        base_url: str,
        recorder: Recorder,
        control: RunControl,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        trace: Trace | None = None,
    ) -> None:
        """A keep-alive connection to `base_url` (the server root, without /api/v1); with
        `trace`, every attempt is also recorded there with its time."""
        self._http = httpx.Client(
            base_url=base_url + API,
            transport=transport,  # tests pass a mock; None is the real network
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,  # the API never redirects; a redirect is a finding
            headers={"Accept": "application/json", "User-Agent": "movr-load"},
        )
        self._recorder = recorder
        self._control = control
        self._trace = trace
        self.token: str | None = None
        # The last write's MovR-Read-After, sent back so that reads see this rider's writes
        # when a replica serves them (as any API client should).
        self.read_after: str | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        success: int,
        expected: frozenset[str] = frozenset(),
        parse: Parser[T],
        shape: Shape = Shape(),
        json: Mapping[str, object] | None = None,
        params: Mapping[str, str | int] | None = None,
        idempotency_key: str | None = None,
    ) -> Reply[T]:
        """Send one request and record its outcome under `action`.

        With an idempotency key, a request that got no response is repeated once with the same
        key: the server then replays the first outcome, so no ride is left in an unknown state.
        """
        headers = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        if self.read_after is not None:
            headers[READ_AFTER] = self.read_after
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempts = 2 if idempotency_key is not None else 1
        for attempt in range(attempts):
            started = time.perf_counter()
            try:
                response = self._http.request(
                    method, path, json=json, params=params, headers=headers
                )
            except httpx.HTTPError as error:
                label = describe_exception(error)
                self._recorder.record(action, Kind.ERROR, None, label)
                self._traced(action, Kind.ERROR, started, None, label)
                if attempt + 1 < attempts:
                    self._control.force(1)
                    continue
                return Reply(Kind.ERROR, None, None)
            latency_ms = (time.perf_counter() - started) * 1000
            self.read_after = response.headers.get(READ_AFTER, self.read_after)
            reply, detail = _interpret(response, success, expected, shape, parse)
            self._recorder.record(action, reply.kind, latency_ms, detail)
            self._traced(action, reply.kind, started, response, detail)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _traced(
        self,
        action: str,
        kind: Kind,
        started: float,
        response: httpx.Response | None,
        detail: str,
    ) -> None:
        if self._trace is None:
            return
        status = None if response is None else response.status_code
        orderly = (
            response is not None
            and status == 503
            and _media_type(response) == PROBLEM_MEDIA_TYPE
            and "Retry-After" in response.headers
        )
        took = time.perf_counter() - started
        label = detail or str(status)
        self._trace.add(Event(time.monotonic(), action, kind, took, status, label, orderly))


def _media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("Content-Type", "")
    return content_type.split(";", maxsplit=1)[0].strip().lower()


def _interpret(
    response: httpx.Response,
    success: int,
    expected: frozenset[str],
    shape: Shape,
    parse: Parser[T],
) -> tuple[Reply[T], str]:
    """Classify a response; a success that breaks the documented shape is a protocol error."""
    status = response.status_code
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    media_type = _media_type(response)
    body = _json_object(response) if status != 204 else {}
    raw_code = body.get("code") if media_type == PROBLEM_MEDIA_TYPE else None
    code = raw_code if isinstance(raw_code, str) else None
    kind = classify(status, code, success=success, expected=expected)
    if kind is Kind.OK:
        problem = _shape_problem(body, shape) if status != 204 else None
        if problem is None:
            try:
                return Reply(kind, status, None, parse(body), replayed), ""
            except (KeyError, TypeError, ValueError) as error:
                problem = f"unreadable body ({type(error).__name__}: {error})"
        return Reply(Kind.ERROR, status, None, None, replayed), f"protocol: {problem}"
    if kind is Kind.REFUSED:
        return Reply(kind, status, code, None, replayed), code or ""
    retry_after = _retry_after(response)
    if kind is Kind.ERROR and status >= 400 and media_type != PROBLEM_MEDIA_TYPE:
        # Errors must be problem+json (RFC 9457); say so rather than only counting the status.
        detail = f"{status} (not {PROBLEM_MEDIA_TYPE})"
        return Reply(kind, status, None, None, replayed, retry_after), detail
    return Reply(kind, status, code, None, replayed, retry_after), describe_status(status, code)


def _retry_after(response: httpx.Response) -> float | None:
    """Delay-seconds of a Retry-After header (the HTTP-date form is not used by MovR)."""
    raw = response.headers.get("Retry-After", "").strip()
    return float(raw) if raw.isdigit() else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _shape_problem(body: dict[str, Any], shape: Shape) -> str | None:
    if not body and shape.fields:
        return "body is not a JSON object"
    missing = sorted(shape.fields - body.keys())
    if missing:
        return f"missing {', '.join(missing)}"
    if shape.items is not None:
        items = body.get("items")
        if not isinstance(items, list):
            return "items is not a list"
        if items and isinstance(items[0], dict):
            missing = sorted(shape.items - items[0].keys())
            if missing:
                return f"item missing {', '.join(missing)}"
        elif items:
            return "items are not objects"
    return None
