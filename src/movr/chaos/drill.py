"""One chaos run: `movr load` in a thread while the fault is applied on schedule."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from movr.chaos.faults import Fault, FaultError
from movr.chaos.target import Target, TargetError
from movr.chaos.verdict import Window
from movr.db.embedded import EmbeddedPostgresError
from movr.loadgen.config import LoadConfig
from movr.loadgen.control import RunControl
from movr.loadgen.report import RunReport
from movr.loadgen.runner import run_load
from movr.loadgen.trace import Event, Trace
from movr.simulation.timeline import Timeline

# A non-held fault (restart, drain) takes as long as it takes: the load is stopped by the
# schedule, and this bound only guards against a schedule that never ends.
LOAD_BOUND_SLACK = 300.0
FAULT_ERRORS = (FaultError, TargetError, EmbeddedPostgresError, SQLAlchemyError, OSError)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Seconds of load before the fault, of the fault held, and after its removal."""

    warmup: float
    fault_for: float
    recover: float


@dataclass(slots=True)
class Outcome:
    """What a run produced: the load's report and trace, the fault's window, any trouble."""

    report: RunReport
    events: list[Event]
    started: float  # time.monotonic() when the load began: second 0 of the timeline
    window: Window | None
    seen: set[int] = field(default_factory=set)  # pids of the target's processes, ever
    notes: list[str] = field(default_factory=list)


class _Load(threading.Thread):
    """`movr load` in a thread (its progress line silenced: the timeline is ours)."""

    def __init__(self, config: LoadConfig, trace: Trace, control: RunControl) -> None:
        super().__init__(name="chaos-load", daemon=True)
        self._args = (config, Console(file=io.StringIO()), trace, control)
        self.report: RunReport | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.report = run_load(*self._args)
        except BaseException as error:  # re-raised by the command's thread
            self.error = error


def run_drill(
    fault: Fault, target: Target, config: LoadConfig, schedule: Schedule, timeline: Timeline
) -> Outcome:
    """Load the target, apply `fault` after the warm-up, remove it, let it recover."""
    trace = Trace()
    control = RunControl(
        schedule.warmup + schedule.fault_for + schedule.recover + LOAD_BOUND_SLACK, None
    )
    load = _Load(config, trace, control)
    seen = target.processes()
    timeline.started = time.monotonic()
    load.start()
    timeline.note(f"load started: {config.concurrency} riders against {config.url}")
    window, notes = None, []
    try:
        window = _apply_and_remove(
            fault, target, schedule=schedule, timeline=timeline, control=control, seen=seen
        )
        control.pause(schedule.recover)
    except FAULT_ERRORS as error:
        notes.append(f"{fault.name}: {error}")
        timeline.note(f"fault failed: {error}")
    finally:
        control.stop()
        timeline.note("load stopping (riders end their open rides)")
        load.join()
    seen |= target.processes()
    if load.error is not None:
        raise load.error
    assert load.report is not None  # noqa: S101 -- set when no error was raised
    timeline.note("load stopped; invariants checked")
    return Outcome(load.report, trace.events(), timeline.started, window, seen, notes)


def _apply_and_remove(
    fault: Fault,
    target: Target,
    *,
    schedule: Schedule,
    timeline: Timeline,
    control: RunControl,
    seen: set[int],
) -> Window:
    control.pause(schedule.warmup)
    applied = timeline.now()
    removed: float | None = None
    try:
        timeline.note(f"{fault.name}: applying")
        timeline.note(fault.apply(target))
        seen |= target.processes()
        if fault.held:
            control.pause(schedule.fault_for)
    finally:
        # Always undone, whatever happened: a frozen or stopped database must not outlive us.
        line = fault.remove(target)
        removed = timeline.now()
        timeline.note(line)
        seen |= target.processes()
    return Window(applied, removed)
