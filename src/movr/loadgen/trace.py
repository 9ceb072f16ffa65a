"""Every request's outcome with the moment it came: what a timeline of a run is drawn from."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from movr.loadgen.outcomes import Kind


@dataclass(frozen=True, slots=True)
class Event:
    """One request (one attempt): when its answer or failure came, how long it took, what."""

    at: float  # time.monotonic() at the answer or the failure
    action: str
    kind: Kind
    took: float  # seconds from sending to the answer or the failure
    status: int | None  # None: no response (timeout, refused, reset)
    label: str  # "201", "503 database_unavailable", "timeout", "connection reset", ...
    # 503 application/problem+json with Retry-After: the one 5xx an outage may give.
    orderly_503: bool = False


class Trace:
    """Thread-safe list of events, appended to by every rider's client."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._events: list[Event] = []

    def add(self, event: Event) -> None:
        """Record one request."""
        with self._lock:
            self._events.append(event)

    def events(self) -> list[Event]:
        """A copy of the events so far, in the order they were recorded."""
        with self._lock:
            return list(self._events)
