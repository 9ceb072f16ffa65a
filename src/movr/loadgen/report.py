"""The end-of-run figures: one structure, printed as tables and written as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from movr.loadgen.invariants import CheckResult
from movr.loadgen.stats import ActionSummary


@dataclass(frozen=True, slots=True)
class RegionReport:
    """One client region's share of a run against `movr global`."""

    region: str
    url: str
    requests: int
    actions: list[ActionSummary]
    # Round trips per request on the hop from the region's app to the primary, counted by
    # the latency proxy (0 in the primary's region; None when the proxies could not tell).
    round_trips_to_primary: float | None

    def to_json(self) -> dict[str, Any]:
        """The region's figures, for machines."""
        trips = self.round_trips_to_primary
        return {
            "url": self.url,
            "requests": self.requests,
            "round_trips_to_primary_per_request": None if trips is None else round(trips, 3),
            "actions": {a.action: _rounded(asdict(a)) for a in self.actions},
        }


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything a run measured and checked."""

    url: str
    concurrency: int
    seed: int
    run_tag: str
    cities: tuple[str, ...]
    mix: dict[str, int]
    elapsed_s: float
    actions: list[ActionSummary]
    refusals: dict[tuple[str, str], int]
    errors: dict[tuple[str, str], int]
    db_retries: float | None  # None: the server's /metrics did not tell
    cpu_s: float  # CPU time of this process (all its threads) during the run
    cpu_count: int
    invariants: list[CheckResult] | None = None  # None: the check did not run
    invariant_error: str | None = None
    interrupted: bool = False
    # Writes the server acknowledged (rides started and ended, vehicles retired), by kind.
    acknowledged: dict[str, int] = field(default_factory=dict)
    regions: list[RegionReport] = field(default_factory=list)  # `--client-regions` only

    @property
    def requests(self) -> int:
        """Requests sent, all actions together."""
        return sum(action.count for action in self.actions)

    @property
    def error_count(self) -> int:
        """Unexpected errors, all actions together."""
        return sum(action.errors for action in self.actions)

    @property
    def cpu_share(self) -> float:
        """The generator's CPU use as a share of one core (1.0 = one core busy)."""
        return self.cpu_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def failures(self) -> list[str]:
        """Why the run fails (empty: it passes)."""
        reasons: list[str] = []
        if self.invariant_error is not None:
            reasons.append(f"invariant check did not run: {self.invariant_error}")
        for result in self.invariants or []:
            if not result.ok:
                reasons.append(f"invariant violated: {result.description} ({result.violations})")
        if self.error_count:
            reasons.append(f"{self.error_count} unexpected error(s)")
        return reasons

    def to_json(self) -> dict[str, Any]:
        """The same figures as the tables, for machines."""
        return {
            "url": self.url,
            "concurrency": self.concurrency,
            "seed": self.seed,
            "run_tag": self.run_tag,
            "cities": list(self.cities),
            "mix": self.mix,
            "elapsed_s": round(self.elapsed_s, 3),
            "interrupted": self.interrupted,
            "requests": self.requests,
            "throughput_rps": round(self.requests / self.elapsed_s, 2) if self.elapsed_s else 0,
            "actions": {a.action: _rounded(asdict(a)) for a in self.actions},
            "refusals": _nested(self.refusals),
            "errors": _nested(self.errors),
            "db_retries": self.db_retries,
            "acknowledged": self.acknowledged,
            "loadgen_cpu": {
                "cpu_s": round(self.cpu_s, 3),
                "share_of_one_core": round(self.cpu_share, 3),
                "cpu_count": self.cpu_count,
            },
            "invariants": None
            if self.invariants is None
            else [asdict(result) | {"ok": result.ok} for result in self.invariants],
            "invariant_error": self.invariant_error,
            "regions": {r.region: r.to_json() for r in self.regions},
            "ok": not self.failures,
            "failures": self.failures,
        }


def write_json(report: RunReport, path: Path) -> None:
    """Write the report's figures to `path`."""
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")


def render(report: RunReport, console: Console) -> None:
    """Print the tables and the verdict."""
    console.print(_actions_table(report))
    if report.regions:
        console.print(_regions_table(report.regions))
    if report.refusals:
        console.print(_counts_table("Expected refusals", "code", report.refusals))
    if report.errors:
        console.print(_counts_table("Unexpected errors", "what", report.errors, style="red"))
    if report.acknowledged:
        acknowledged = report.acknowledged.items()
        counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in acknowledged)
        console.print(f"Acknowledged writes: {counts}")
    retries = "n/a" if report.db_retries is None else f"{report.db_retries:g}"
    console.print(f"Database transaction retries (server /metrics, during the run): {retries}")
    console.print(
        f"Load generator CPU: {report.cpu_s:.1f} s = {report.cpu_share:.0%} of one core "
        f"({report.cpu_count} cores shared with the server)"
    )
    if report.invariants is not None:
        console.print(_invariants_table(report.invariants))
    if report.failures:
        console.print("[bold red]FAIL[/]: " + "; ".join(report.failures))
    else:
        console.print("[bold green]PASS[/]: every invariant holds and no unexpected error")


def _regions_table(regions: list[RegionReport]) -> Table:
    """Latency per client region and action, and each region's round trips to the primary."""
    table = Table(title="Per client region", title_justify="left")
    for header in ("client region", "action", "count", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(
            header, justify="left" if header in ("client region", "action") else "right"
        )
    table.add_column("round trips to the primary per request", justify="right")
    for region in regions:
        trips = region.round_trips_to_primary
        shown = "n/a" if trips is None else f"{trips:.2f}"
        for index, a in enumerate(region.actions):
            table.add_row(
                region.region if index == 0 else "",
                a.action,
                str(a.count),
                _ms(a.p50_ms),
                _ms(a.p95_ms),
                _ms(a.p99_ms),
                str(a.errors),
                shown if index == 0 else "",
            )
    return table


def _actions_table(report: RunReport) -> Table:
    title = (
        f"{report.requests} requests in {report.elapsed_s:.1f} s "
        f"({report.requests / report.elapsed_s if report.elapsed_s else 0:.1f} req/s), "
        f"concurrency {report.concurrency}, cities {', '.join(report.cities)}"
        + (" — interrupted" if report.interrupted else "")
    )
    table = Table(title=title, title_justify="left")
    for header in ("action", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(header, justify="left" if header == "action" else "right")
    for header in ("ok", "refused", "429", "errors"):
        table.add_column(header, justify="right")
    for a in report.actions:
        table.add_row(
            a.action,
            str(a.count),
            f"{a.throughput:.1f}",
            _ms(a.p50_ms),
            _ms(a.p95_ms),
            _ms(a.p99_ms),
            _ms(a.max_ms),
            str(a.ok),
            str(a.refused),
            str(a.rate_limited),
            f"[red]{a.errors}[/]" if a.errors else "0",
        )
    return table


def _counts_table(
    title: str, what: str, counts: dict[tuple[str, str], int], style: str = ""
) -> Table:
    table = Table(title=title, title_justify="left", style=style)
    table.add_column("action")
    table.add_column(what)
    table.add_column("count", justify="right")
    for (action, detail), count in sorted(counts.items()):
        table.add_row(action, detail, str(count))
    return table


def _invariants_table(results: list[CheckResult]) -> Table:
    table = Table(title="Invariants (SQL against the database)", title_justify="left")
    table.add_column("check")
    table.add_column("holds")
    table.add_column("violations", justify="right")
    table.add_column("examples")
    for result in results:
        table.add_row(
            result.description,
            "[green]yes[/]" if result.ok else "[bold red]NO[/]",
            str(result.violations),
            ", ".join(result.examples),
        )
    return table


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}


def _nested(counts: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (action, detail), count in sorted(counts.items()):
        nested.setdefault(action, {})[detail] = count
    return nested
