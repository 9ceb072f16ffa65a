"""A load run from start to verdict: setup, riders, progress, figures, invariant check."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from movr.loadgen.cities import City, CityError, choose_cities
from movr.loadgen.client import CITY, ApiClient, Shape
from movr.loadgen.config import LoadConfig
from movr.loadgen.control import RunControl
from movr.loadgen.fleet import Fleet
from movr.loadgen.invariants import DatabaseUnavailable, InvariantChecker, resolve_database_url
from movr.loadgen.ledger import RideLedger
from movr.loadgen.outcomes import Kind
from movr.loadgen.regions import ClientRegions, RegionRecorder
from movr.loadgen.report import RegionReport, RunReport
from movr.loadgen.rider import Crew, Identities, Rider
from movr.loadgen.server_metrics import read_retries
from movr.loadgen.stats import Recorder
from movr.loadgen.trace import Trace

PROGRESS_INTERVAL = 0.25
CITY_LIST = frozenset({"items"})


class LoadError(RuntimeError):
    """The run could not start; the message says why."""


def run_load(
    config: LoadConfig,
    progress: Console,
    trace: Trace | None = None,
    control: RunControl | None = None,
) -> RunReport:
    """Drive the target with `config.concurrency` riders, then measure and check (with
    `trace`, every request is recorded there with its time too; with `control`, the caller
    can also stop the run)."""
    try:
        checker = InvariantChecker(resolve_database_url(config.database_url))
    except DatabaseUnavailable as error:
        raise LoadError(f"cannot check the invariants: {error}") from None
    try:
        return _run(config, checker, progress, trace, control)
    finally:
        checker.close()


@dataclass(frozen=True, slots=True)
class Lane:
    """The riders of one client region (or of the one target): its entry, log and crew."""

    region: str | None
    url: str
    recorder: Recorder
    crew: Crew


def _run(
    config: LoadConfig,
    checker: InvariantChecker,
    progress: Console,
    trace: Trace | None,
    control: RunControl | None,
) -> RunReport:
    recorder = Recorder()
    control = control or RunControl(config.duration, config.max_requests)
    run_tag = _run_tag(config.seed)
    lanes = _lanes(config, recorder, control, run_tag)
    regions = config.client_regions
    trips_before = regions.round_trips() if regions is not None else None
    retries_before = _retries(config, lanes)
    cpu_started, wall_started = time.process_time(), time.monotonic()
    threads = [
        threading.Thread(
            target=_guarded,
            args=(_rider(config, lanes[index % len(lanes)], index, trace), recorder),
            name=f"rider-{index}",
            daemon=True,
        )
        for index in range(config.concurrency)
    ]
    for thread in threads:
        thread.start()
    interrupted = _watch(threads, control, recorder, config, progress)
    elapsed = time.monotonic() - wall_started
    cpu = time.process_time() - cpu_started
    retries_after = _retries(config, lanes)
    retries = (
        None if retries_before is None or retries_after is None else retries_after - retries_before
    )
    trips_after = regions.round_trips() if regions is not None else None
    invariants, invariant_error = None, None
    ledger = lanes[0].crew.ledger.view()
    try:
        invariants = checker.check(ledger)
    except DatabaseUnavailable as error:
        invariant_error = str(error)
    return RunReport(
        url=config.url,
        concurrency=config.concurrency,
        seed=config.seed,
        run_tag=run_tag,
        cities=tuple(city.id for lane in lanes for city in lane.crew.cities),
        mix=dict(config.mix.weights),
        elapsed_s=elapsed,
        actions=recorder.summaries(elapsed),
        refusals=recorder.refusals(),
        errors=recorder.errors(),
        db_retries=retries,
        cpu_s=cpu,
        cpu_count=os.cpu_count() or 1,
        interrupted=interrupted,
        invariants=invariants,
        invariant_error=invariant_error,
        acknowledged=ledger.counts(),
        regions=[
            _region_report(lane, elapsed, regions, trips_before, trips_after)
            for lane in lanes
            if regions is not None and lane.region is not None
        ],
    )


def _lanes(config: LoadConfig, recorder: Recorder, control: RunControl, run_tag: str) -> list[Lane]:
    """One lane per client region (riders share the ledger, the clock and the identities)."""
    regions = config.client_regions
    targets: list[tuple[str | None, str]] = (
        list(regions.entries) if regions is not None else [(None, config.url)]
    )
    ledger, identities = RideLedger(), Identities(run_tag)
    recorders = {region: RegionRecorder(recorder) if region is not None else recorder
                 for region, _ in targets}  # fmt: skip
    served = {
        region: tuple(_target_cities(replace(config, url=url), recorders[region], control))
        for region, url in targets
    }
    lanes = []
    for region, url in targets:
        crew = Crew(
            cities=served[region],
            mix=config.mix,
            fleet=Fleet(config.popular),
            ledger=ledger,
            control=control,
            identities=identities,
            ride_pause=config.ride_pause,
            # Some riders live in another client region and ride here (travellers).
            elsewhere=tuple(c for other, cities in served.items() if other != region
                            for c in cities),
        )  # fmt: skip
        lanes.append(Lane(region, url, recorders[region], crew))
    return lanes


def _retries(config: LoadConfig, lanes: list[Lane]) -> float | None:
    """Transaction retries so far, summed over the lanes' servers (None if one cannot tell)."""
    counts = [
        read_retries(lane.url, timeout=config.request_timeout, token=config.metrics_token)
        for lane in lanes
    ]
    return None if any(count is None for count in counts) else sum(c or 0 for c in counts)


def _region_report(
    lane: Lane,
    elapsed: float,
    regions: ClientRegions,
    before: dict[str, int] | None,
    after: dict[str, int] | None,
) -> RegionReport:
    """One client region's figures: latency per action, round trips to the primary."""
    assert lane.region is not None  # noqa: S101 -- regional lanes only
    requests = lane.recorder.totals().requests
    hop = regions.hop_to_primary(lane.region)
    trips: float | None = 0.0
    if hop is not None:
        trips = None
        if before is not None and after is not None and hop in after:
            trips = (after[hop] - before.get(hop, 0)) / max(1, requests)
    return RegionReport(
        region=lane.region,
        url=lane.url,
        requests=requests,
        actions=lane.recorder.summaries(elapsed),
        round_trips_to_primary=trips,
    )


def _target_cities(config: LoadConfig, recorder: Recorder, control: RunControl) -> list[City]:
    """Served cities from the target's /cities, narrowed by --cities."""
    api = ApiClient(config.url, recorder, control, timeout=config.request_timeout)
    try:
        control.force(1)
        reply = api.call(
            "cities", "GET", "/cities", success=200, parse=_city_items, shape=Shape(CITY_LIST, CITY)
        )
    finally:
        api.close()
    if reply.value is None:
        status = "no response" if reply.status is None else f"status {reply.status}"
        raise LoadError(f"GET {config.url}/api/v1/cities failed ({status}): is MovR running there?")
    try:
        return choose_cities(reply.value, config.cities)
    except CityError as error:
        raise LoadError(str(error)) from None


def _city_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body["items"]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise TypeError("items is not a list of objects")
    for item in items:
        missing = CITY - item.keys()
        if missing:
            raise KeyError(", ".join(sorted(missing)))
    return items


def _rider(config: LoadConfig, lane: Lane, index: int, trace: Trace | None) -> Rider:
    api = ApiClient(
        lane.url, lane.recorder, lane.crew.control, timeout=config.request_timeout, trace=trace
    )
    # One generator per rider, seeded from --seed: a rider's choices replay with the seed.
    rng = random.Random(f"{config.seed}:{index}")  # noqa: S311 -- behaviour, not security
    return Rider(lane.crew, api, rng)


def _guarded(rider: Rider, recorder: Recorder) -> None:
    """Run a rider; a crash is counted as an unexpected error instead of vanishing silently."""
    try:
        rider.run()
    except Exception as error:  # any bug in a rider must show in the verdict
        recorder.record("rider", Kind.ERROR, None, f"crash: {type(error).__name__}: {error}")


def _watch(
    threads: list[threading.Thread],
    control: RunControl,
    recorder: Recorder,
    config: LoadConfig,
    console: Console,
) -> bool:
    """Show the progress line until every rider has left; True if interrupted by Ctrl-C."""
    interrupted = False
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while any(thread.is_alive() for thread in threads):
            try:
                control.stopping()  # sets the stop flag once the deadline passes
                live.update(_progress_line(control, recorder, config, threads))
                time.sleep(PROGRESS_INTERVAL)
            except KeyboardInterrupt:
                interrupted = True
                control.stop()
        live.update(_progress_line(control, recorder, config, threads))
    return interrupted


def _progress_line(
    control: RunControl, recorder: Recorder, config: LoadConfig, threads: list[threading.Thread]
) -> Text:
    elapsed = time.monotonic() - control.started
    totals = recorder.totals()
    limit = f"/{config.duration:.0f}s" if config.duration is not None else ""
    budget = f"/{config.max_requests}" if config.max_requests is not None else ""
    riders = sum(thread.is_alive() for thread in threads)
    line = Text(f"{elapsed:6.1f}s{limit}  {totals.requests}{budget} requests  ")
    line.append(f"{totals.requests / elapsed if elapsed > 0 else 0:7.1f} req/s  ")
    line.append(f"{totals.errors} errors", style="bold red" if totals.errors else "green")
    line.append(f"  {totals.refused} refused  {totals.rate_limited} rate-limited  ")
    line.append(f"{riders} riders" + ("  stopping…" if control.stopping() else ""))
    return line


def _run_tag(seed: int) -> str:
    """Eight hex digits from the seed and this moment: usernames unique across reruns."""
    material = f"{seed}:{time.time_ns()}:{os.getpid()}".encode()
    return hashlib.sha256(material).hexdigest()[:8]
