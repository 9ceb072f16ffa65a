"""When the run stops: a deadline, a request budget, or an interrupt."""

from __future__ import annotations

import threading
import time


class RunControl:
    """Shared by all riders: whether to go on, and how many requests remain."""

    def __init__(self, duration: float | None, max_requests: int | None) -> None:
        """Stop after `duration` seconds and/or `max_requests` requests (None: no bound)."""
        if duration is None and max_requests is None:
            raise ValueError("a run needs a duration or a request budget")
        self._duration = duration
        self._remaining = max_requests
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.started = time.monotonic()

    @property
    def deadline(self) -> float | None:
        """Monotonic time at which the run ends, if bounded in time."""
        return None if self._duration is None else self.started + self._duration

    def stopping(self) -> bool:
        """True once the deadline has passed, the budget is spent or `stop()` was called."""
        deadline = self.deadline
        if deadline is not None and time.monotonic() >= deadline:
            self._stop.set()
        return self._stop.is_set()

    def pause(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking early when the run stops."""
        self._stop.wait(seconds)

    def stop(self) -> None:
        """Ask every rider to finish its current action and leave."""
        self._stop.set()

    def take(self, requests: int) -> bool:
        """Reserve `requests` for a new action; False (and stop) when it does not fit."""
        if self.stopping():
            return False
        with self._lock:
            if self._remaining is None:
                return True
            if self._remaining < requests:
                self._stop.set()
                return False
            self._remaining -= requests
            return True

    def force(self, requests: int = 1) -> None:
        """Count follow-up requests that must happen anyway (retrying, ending one's own ride)."""
        with self._lock:
            if self._remaining is not None:
                self._remaining = max(self._remaining - requests, 0)
