"""A chaos run printed for people: the timeline per second, the figures, the verdict."""

from __future__ import annotations

from movr.chaos.verdict import ChaosReport
from movr.simulation.timeline import Echo, announce


def render(report: ChaosReport, echo: Echo) -> bool:
    """Print the report; True if the run passed."""
    echo("")
    echo("timeline (per second: requests answered or failed, errors by kind)")
    for line in _timeline_lines(report):
        echo(line)
    echo("")
    errors = ", ".join(f"{label} {n}" for label, n in report.errors.items()) or "none"
    echo(f"errors by kind: {errors}")
    echo(f"longest request: {report.longest_request_s:.2f} s (deadline {report.deadline:g} s)")
    recovery = "never" if report.recovery_s is None else f"{report.recovery_s:.2f} s"
    echo(f"recovery (first success after the fault was removed): {recovery}")
    acknowledged = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.acknowledged.items())
    echo(f"acknowledged writes: {acknowledged or 'none'}")
    for reason in report.failures:
        echo(f"  FAIL: {reason}")
    return announce(echo, not report.failures, **report.figures()).passed


def _timeline_lines(report: ChaosReport) -> list[str]:
    marks: dict[int, list[str]] = {}
    if report.window is not None:
        marks.setdefault(int(report.window.applied), []).append("<- fault applied")
        marks.setdefault(int(report.window.removed), []).append("<- fault removed")
    lines = []
    for second in report.seconds:
        kinds = ", ".join(f"{label} {n}" for label, n in sorted(second.kinds.items()))
        line = f"  t+{second.second:3d}s  {second.requests:5d} requests  {second.errors:4d} errors"
        line += f"  ({kinds})" if kinds else ""
        lines.append(" ".join([line, *marks.get(second.second, [])]))
    return lines
