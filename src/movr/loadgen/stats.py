"""Recording outcomes and latencies per action, and the percentile maths."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from movr.loadgen.outcomes import Kind


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when there are none)."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    if not ordered:
        return None
    # Nearest rank: the smallest value with at least p% of the values at or below it.
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(slots=True)
class _ActionLog:
    latencies_ms: list[float] = field(default_factory=list)
    kinds: Counter[Kind] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class ActionSummary:
    """The figures of one action over a run."""

    action: str
    count: int
    ok: int
    refused: int
    rate_limited: int
    errors: int
    throughput: float  # requests per second of wall time
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True, slots=True)
class Totals:
    """Running totals for the progress line."""

    requests: int
    refused: int
    rate_limited: int
    errors: int


class Recorder:
    """Thread-safe log of every request: kind, latency, and why it was refused or failed."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._actions: dict[str, _ActionLog] = {}
        self._refusals: Counter[tuple[str, str]] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()
        self._totals: Counter[Kind] = Counter()

    def record(self, action: str, kind: Kind, latency_ms: float | None, detail: str = "") -> None:
        """Log one request; `latency_ms` is None when no response came back."""
        with self._lock:
            log = self._actions.setdefault(action, _ActionLog())
            log.kinds[kind] += 1
            self._totals[kind] += 1
            if latency_ms is not None:
                log.latencies_ms.append(latency_ms)
            if kind is Kind.REFUSED:
                self._refusals[action, detail] += 1
            elif kind is Kind.ERROR:
                self._errors[action, detail] += 1

    def totals(self) -> Totals:
        """Requests so far, and how many were refused, rate limited or failed."""
        with self._lock:
            return Totals(
                requests=sum(self._totals.values()),
                refused=self._totals[Kind.REFUSED],
                rate_limited=self._totals[Kind.RATE_LIMITED],
                errors=self._totals[Kind.ERROR],
            )

    def summaries(self, elapsed: float) -> list[ActionSummary]:
        """One summary per action seen, in alphabetical order."""
        with self._lock:
            logs = {
                name: (sorted(log.latencies_ms), Counter(log.kinds))
                for name, log in self._actions.items()
            }
        return [_summary(name, *logs[name], elapsed) for name in sorted(logs)]

    def refusals(self) -> dict[tuple[str, str], int]:
        """Expected refusals by (action, problem code)."""
        with self._lock:
            return dict(self._refusals)

    def errors(self) -> dict[tuple[str, str], int]:
        """Unexpected errors by (action, what went wrong)."""
        with self._lock:
            return dict(self._errors)


def _summary(
    action: str, ordered: list[float], kinds: Counter[Kind], elapsed: float
) -> ActionSummary:
    count = sum(kinds.values())
    return ActionSummary(
        action=action,
        count=count,
        ok=kinds[Kind.OK],
        refused=kinds[Kind.REFUSED],
        rate_limited=kinds[Kind.RATE_LIMITED],
        errors=kinds[Kind.ERROR],
        throughput=count / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile(ordered, 50),
        p95_ms=percentile(ordered, 95),
        p99_ms=percentile(ordered, 99),
        max_ms=ordered[-1] if ordered else None,
    )
