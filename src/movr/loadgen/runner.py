"""A load run from start to verdict: setup, riders, progress, figures, invariant check."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
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
from movr.loadgen.report import RunReport
from movr.loadgen.rider import Crew, Identities, Rider
from movr.loadgen.server_metrics import read_retries
from movr.loadgen.stats import Recorder

PROGRESS_INTERVAL = 0.25
CITY_LIST = frozenset({"items"})


class LoadError(RuntimeError):
    """The run could not start; the message says why."""


def run_load(config: LoadConfig, progress: Console) -> RunReport:
    """Drive the target with `config.concurrency` riders, then measure and check."""
    try:
        checker = InvariantChecker(resolve_database_url(config.database_url))
    except DatabaseUnavailable as error:
        raise LoadError(f"cannot check the invariants: {error}") from None
    try:
        return _run(config, checker, progress)
    finally:
        checker.close()


def _run(config: LoadConfig, checker: InvariantChecker, progress: Console) -> RunReport:
    recorder = Recorder()
    control = RunControl(config.duration, config.max_requests)
    cities = _target_cities(config, recorder, control)
    retries_before = read_retries(
        config.url, timeout=config.request_timeout, token=config.metrics_token
    )
    run_tag = _run_tag(config.seed)
    crew = Crew(
        cities=tuple(cities),
        mix=config.mix,
        fleet=Fleet(config.popular),
        ledger=RideLedger(),
        control=control,
        identities=Identities(run_tag),
        ride_pause=config.ride_pause,
    )
    cpu_started, wall_started = time.process_time(), time.monotonic()
    threads = [
        threading.Thread(
            target=_guarded,
            args=(_rider(config, crew, recorder, index), recorder),
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
    retries_after = read_retries(
        config.url, timeout=config.request_timeout, token=config.metrics_token
    )
    retries = (
        None if retries_before is None or retries_after is None else retries_after - retries_before
    )
    invariants, invariant_error = None, None
    try:
        invariants = checker.check(crew.ledger.view())
    except DatabaseUnavailable as error:
        invariant_error = str(error)
    return RunReport(
        url=config.url,
        concurrency=config.concurrency,
        seed=config.seed,
        run_tag=run_tag,
        cities=tuple(city.id for city in cities),
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


def _rider(config: LoadConfig, crew: Crew, recorder: Recorder, index: int) -> Rider:
    api = ApiClient(config.url, recorder, crew.control, timeout=config.request_timeout)
    # One generator per rider, seeded from --seed: a rider's choices replay with the seed.
    rng = random.Random(f"{config.seed}:{index}")  # noqa: S311 -- behaviour, not security
    return Rider(crew, api, rng)


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
