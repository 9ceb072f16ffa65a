"""What became of one request: the four kinds the report counts separately."""

from __future__ import annotations

import enum

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Kind(enum.StrEnum):
    """How a request ended, from the generator's point of view."""

    OK = "ok"  # the documented success status
    REFUSED = "refused"  # a domain refusal this action can meet under contention
    RATE_LIMITED = "rate_limited"  # 429: the server protecting itself, counted apart
    ERROR = "error"  # anything else: 5xx, unexpected 4xx, transport or protocol trouble


def classify(
    status: int,
    code: str | None,
    *,
    success: int,
    expected: frozenset[str] = frozenset(),
) -> Kind:
    """Kind of a response with this status and problem `code`."""
    if status == success:
        return Kind.OK
    if status == 429:
        return Kind.RATE_LIMITED
    if 400 <= status < 500 and code is not None and code in expected:
        return Kind.REFUSED
    return Kind.ERROR


def describe_status(status: int, code: str | None) -> str:
    """A short label such as `409 vehicle_unavailable` for counting errors."""
    return f"{status} {code}" if code else str(status)


def describe_exception(error: httpx.HTTPError) -> str:
    """A short label for a request that got no usable response."""
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        return "connection error"
    if isinstance(error, httpx.RemoteProtocolError | httpx.DecodingError):
        return "protocol error"
    if isinstance(error, httpx.TransportError):
        return f"transport error ({type(error).__name__})"
    return f"http error ({type(error).__name__})"
