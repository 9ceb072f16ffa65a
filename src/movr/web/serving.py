"""What the serving process tells the app: when a request started waiting, and that the
process is draining. Plain state, so that the app needs no gunicorn (tests, other servers)."""

from __future__ import annotations

import threading

_local = threading.local()
# Set by the worker on SIGTERM: /readyz answers 503 from then on.
DRAINING = threading.Event()


def queued(at: float | None) -> None:
    """The worker thread about to handle a request: it has waited since `at` (monotonic)."""
    _local.queued_at = at


def take_queued_at() -> float | None:
    """When the current request started waiting (None outside gunicorn), read once."""
    at: float | None = getattr(_local, "queued_at", None)
    _local.queued_at = None
    return at
