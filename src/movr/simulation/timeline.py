"""What every drill prints: a timeline (lines stamped with the time since it began) and a
verdict line; `movr global drill` and `movr chaos` share them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Echo = Callable[[str], None]


@dataclass
class Verdict:
    """A drill's outcome: passed, and the figures behind it."""

    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Timeline:
    """The clock of a drill and its printed lines."""

    echo: Echo
    started: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        """Seconds since the drill started."""
        return time.monotonic() - self.started

    def note(self, message: str, at: float | None = None) -> None:
        """One line of the timeline (stamped now, or at `at` seconds from the start)."""
        self.echo(f"  t+{self.now() if at is None else at:6.2f}s  {message}")


def announce(echo: Echo, passed: bool, **figures: Any) -> Verdict:
    """Print the verdict line (PASS or FAIL, then the figures) and return the verdict."""
    shown = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in figures.items())
    echo(f"verdict: {'PASS' if passed else 'FAIL'} ({shown})")
    return Verdict(passed, figures)
