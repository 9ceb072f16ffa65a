"""The verdict names every failure of issue 15's "Done when" (no processes needed)."""

from __future__ import annotations

from movr.chaos.verdict import RunFacts, Window, judge
from movr.loadgen.invariants import CheckResult
from movr.loadgen.outcomes import Kind
from movr.loadgen.report import RunReport
from movr.loadgen.trace import Event


def load_report(*violations: tuple[str, int]) -> RunReport:
    checks = [CheckResult(name, name, count, ()) for name, count in violations]
    return RunReport(
        url="http://127.0.0.1:1", concurrency=1, seed=1, run_tag="t", cities=(), mix={},
        elapsed_s=10, actions=[], refusals={}, errors={}, db_retries=None, cpu_s=0,
        cpu_count=1, invariants=checks, acknowledged={"rides_started": 3},
    )  # fmt: skip


def event(at: float, kind: Kind = Kind.OK, took: float = 0.1, status: int | None = 200,
          label: str = "200", *, orderly: bool = False) -> Event:  # fmt: skip
    return Event(at, "start_ride", kind, took, status, label, orderly)


SOUND = [
    event(0.5),
    event(2.5, Kind.ERROR, 0.2, 503, "503 service_unavailable", orderly=True),
    event(5.2),
]
FACTS = RunFacts("refuse", 2.0, 0.0, Window(2.0, 5.0), orphans=[])


def test_orderly_503s_within_the_deadline_pass_with_their_figures() -> None:
    report = judge(FACTS, SOUND, load_report(("one_active_ride_per_vehicle", 0)))
    assert report.failures == []
    assert report.errors == {"503 service_unavailable": 1}
    assert report.recovery_s is not None
    assert round(report.recovery_s, 2) == 0.2
    assert [s.errors for s in report.seconds] == [0, 0, 1, 0, 0, 0]
    assert report.to_json()["passed"] is True


def test_each_broken_promise_is_named() -> None:
    events = [
        *SOUND,
        event(3.0, Kind.ERROR, 2.5, 503, "503 service_unavailable", orderly=True),  # too late
        event(3.1, Kind.ERROR, 7.0, None, "timeout"),
        event(3.2, Kind.ERROR, 0.1, 500, "500 internal_error"),
        event(3.3, Kind.ERROR, 0.1, 503, "503 (not application/problem+json)"),
        event(3.4, Kind.ERROR, 0.1, None, "connection reset"),
    ]
    facts = RunFacts("drain", 2.0, 0.0, Window(2.0, 5.0), orphans=[4242])
    broken = load_report(("ride_ended_once", 1), ("started_rides_stored", 2))
    report = judge(facts, events, broken)

    assert report.over_deadline == 2
    not_problem = "503 (not application/problem+json)"
    assert report.disorderly_5xx == {"500 internal_error": 1, not_problem: 1}
    assert report.writes_lost == {"started_rides_stored": 2}
    assert report.invariants == {"ride_ended_once": 1}
    failures = " | ".join(report.failures)
    for named in ("longer than the 2 s deadline", "5xx other than 503", "1 accepted connection",
                  "orphan", "2 acknowledged write(s) lost", "1 invariant violation"):  # fmt: skip
        assert named in failures


def test_no_success_after_the_fault_and_a_fault_never_applied_fail() -> None:
    never = judge(RunFacts("freeze", 2.0, 0.0, None, None), SOUND, load_report())
    assert "the fault was not applied" in never.failures
    stuck = judge(FACTS, SOUND[:2], load_report())
    assert stuck.recovery_s is None
    assert "no request succeeded after the fault was removed" in stuck.failures


def test_resets_fail_a_drain_only() -> None:
    reset = [*SOUND, event(3.0, Kind.ERROR, 0.1, None, "server disconnected")]
    assert judge(FACTS, reset, load_report()).failures == []  # a killed worker's, say
    drain = RunFacts("drain", 2.0, 0.0, Window(2.0, 5.0), orphans=[])
    assert judge(drain, reset, load_report()).failures == ["1 accepted connection(s) reset"]
