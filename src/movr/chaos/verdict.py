"""A chaos run's figures and verdict, from the load's trace and report (issue 15's "Done when":
no request past the deadline, no 5xx but an orderly 503, no orphan, no acknowledged write lost,
no invariant broken; and for a drain, no accepted connection reset)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from movr.loadgen.invariants import ACKNOWLEDGED_WRITES
from movr.loadgen.outcomes import DISCONNECTED, RESET, Kind
from movr.loadgen.report import RunReport
from movr.loadgen.trace import Event

RESETS = frozenset({RESET, DISCONNECTED})


@dataclass(frozen=True, slots=True)
class Window:
    """When the fault was applied and removed, in seconds from the start of the load."""

    applied: float
    removed: float


@dataclass(frozen=True, slots=True)
class Second:
    """One second of the run: requests answered (or failed) in it, and the failures."""

    second: int
    requests: int
    errors: int
    kinds: dict[str, int]


@dataclass(frozen=True, slots=True)
class ChaosReport:
    """Everything the verdict is made of."""

    fault: str
    deadline: float
    window: Window | None  # None: the fault was never applied
    seconds: list[Second]
    errors: dict[str, int]  # by kind: "503 database_unavailable", "timeout", "connection reset"
    longest_request_s: float
    over_deadline: int
    disorderly_5xx: dict[str, int]  # 5xx other than 503 problem+json with Retry-After
    resets: int
    recovery_s: float | None  # first success after the fault was removed (None: none)
    invariants: dict[str, int]  # violations by check, the ledger's checks apart
    writes_lost: dict[str, int]  # acknowledged writes missing from the database, by check
    acknowledged: dict[str, int]
    orphans: list[int] | None  # None: not checked (a server that is not ours)
    invariant_error: str | None = None
    notes: list[str] = field(default_factory=list)  # what went wrong applying the fault

    @property
    def failures(self) -> list[str]:
        """Why the run fails (empty: it passes)."""
        reasons = list(self.notes)
        if self.window is None:
            reasons.append("the fault was not applied")
        if self.over_deadline:
            reasons.append(
                f"{self.over_deadline} request(s) longer than the {self.deadline:g} s deadline "
                f"(longest {self.longest_request_s:.2f} s)"
            )
        if self.disorderly_5xx:
            shown = ", ".join(f"{label} ({n})" for label, n in sorted(self.disorderly_5xx.items()))
            reasons.append(f"5xx other than 503 problem+json with Retry-After: {shown}")
        if self.fault == "drain" and self.resets:
            reasons.append(f"{self.resets} accepted connection(s) reset")
        if self.window is not None and self.recovery_s is None:
            reasons.append("no request succeeded after the fault was removed")
        if self.orphans:
            reasons.append(f"orphan process(es) left running: {self.orphans}")
        if self.invariant_error is not None:
            reasons.append(f"invariant check did not run: {self.invariant_error}")
        lost = sum(self.writes_lost.values())
        if lost:
            reasons.append(f"{lost} acknowledged write(s) lost")
        broken = sum(self.invariants.values())
        if broken:
            reasons.append(f"{broken} invariant violation(s)")
        return reasons

    def figures(self) -> dict[str, Any]:
        """The verdict line's figures."""
        return {
            "longest_request_s": round(self.longest_request_s, 2),
            "over_deadline": self.over_deadline,
            "disorderly_5xx": sum(self.disorderly_5xx.values()),
            "resets": self.resets,
            "recovery_s": None if self.recovery_s is None else round(self.recovery_s, 2),
            "writes_lost": sum(self.writes_lost.values()),
            "invariant_violations": sum(self.invariants.values()),
            "orphans": "not checked" if self.orphans is None else len(self.orphans),
        }

    def to_json(self) -> dict[str, Any]:
        """The figures, the timeline and the verdict, for machines."""
        window = self.window
        return {
            "fault": self.fault,
            "deadline_s": self.deadline,
            "fault_applied_s": None if window is None else round(window.applied, 3),
            "fault_removed_s": None if window is None else round(window.removed, 3),
            "timeline": [
                {"second": s.second, "requests": s.requests, "errors": s.errors, "kinds": s.kinds}
                for s in self.seconds
            ],
            "errors_by_kind": self.errors,
            "disorderly_5xx": self.disorderly_5xx,
            "acknowledged_writes": self.acknowledged,
            "writes_lost_by_check": self.writes_lost,
            "invariant_violations_by_check": self.invariants,
            "invariant_error": self.invariant_error,
            "orphan_pids": self.orphans,
            **self.figures(),
            "passed": not self.failures,
            "failures": self.failures,
        }


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the command observed besides the load: the fault's times and the orphans."""

    fault: str
    deadline: float
    started: float  # time.monotonic() when the load began
    window: Window | None
    orphans: list[int] | None
    notes: list[str] = field(default_factory=list)


def judge(facts: RunFacts, events: list[Event], load: RunReport) -> ChaosReport:
    """The figures and the verdict of a run."""
    failed = [e for e in events if e.kind is Kind.ERROR]
    # A timeout is past the deadline by construction (the client waits longer than it).
    late = [e for e in events if e.took > facts.deadline or e.label == "timeout"]
    disorderly = Counter(
        e.label for e in events if e.status is not None and e.status >= 500 and not e.orderly_503
    )
    checks = {r.name: r.violations for r in load.invariants or []}
    return ChaosReport(
        fault=facts.fault,
        deadline=facts.deadline,
        window=facts.window,
        seconds=_seconds(events, facts.started),
        errors=dict(Counter(e.label for e in failed).most_common()),
        longest_request_s=max((e.took for e in events), default=0.0),
        over_deadline=len(late),
        disorderly_5xx=dict(disorderly),
        resets=sum(e.label in RESETS for e in events),
        recovery_s=_recovery(events, facts),
        invariants={n: v for n, v in checks.items() if n not in ACKNOWLEDGED_WRITES},
        writes_lost={n: v for n, v in checks.items() if n in ACKNOWLEDGED_WRITES},
        acknowledged=dict(load.acknowledged),
        orphans=facts.orphans,
        invariant_error=load.invariant_error,
        notes=list(facts.notes),
    )


def _seconds(events: list[Event], started: float) -> list[Second]:
    """Requests and failures per second of the run (every second, quiet ones too)."""
    if not events:
        return []
    by_second: dict[int, list[Event]] = {}
    for event in events:
        by_second.setdefault(int(event.at - started), []).append(event)
    return [
        Second(
            second,
            len(by_second.get(second, [])),
            sum(e.kind is Kind.ERROR for e in by_second.get(second, [])),
            dict(Counter(e.label for e in by_second.get(second, []) if e.kind is Kind.ERROR)),
        )
        for second in range(max(0, min(by_second)), max(by_second) + 1)
    ]


def _recovery(events: list[Event], facts: RunFacts) -> float | None:
    """Seconds from the fault's removal to the first success answered after it."""
    if facts.window is None:
        return None
    removed = facts.started + facts.window.removed
    successes = [e.at for e in events if e.kind is Kind.OK and e.at >= removed]
    return min(successes) - removed if successes else None
