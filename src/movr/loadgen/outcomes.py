"""What became of one request: the four kinds the report counts separately."""

from __future__ import annotations

import enum

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"
RESET = "connection reset"
DISCONNECTED = "server disconnected"  # closed without an answer, e.g. a keep-alive mid-request


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


# Labels of the transport errors by type, most specific first.
_TRANSPORT_LABELS: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.TimeoutException, "timeout"),
    (httpx.ConnectError, "connection error"),
    # The server dropped a connection it had accepted: the fate of the request is unknown.
    (httpx.ReadError, RESET),
    (httpx.WriteError, RESET),
)


def describe_exception(error: httpx.HTTPError) -> str:
    """A short label for a request that got no usable response."""
    for kind, label in _TRANSPORT_LABELS:
        if isinstance(error, kind):
            return label
    if isinstance(error, httpx.RemoteProtocolError) and "disconnected" in str(error):
        return DISCONNECTED
    if isinstance(error, httpx.RemoteProtocolError | httpx.DecodingError):
        return "protocol error"
    if isinstance(error, httpx.TransportError):
        return f"transport error ({type(error).__name__})"
    return f"http error ({type(error).__name__})"
