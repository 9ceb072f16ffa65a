"""The `movr load` command: options in, report out, exit status from the verdict."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from movr.config import ConfigError, Settings
from movr.loadgen.config import (
    DEFAULT_MIX,
    LoadConfig,
    LoadConfigError,
    Mix,
    check_target,
    parse_cities,
    parse_duration,
    parse_mix,
)
from movr.loadgen.regions import ENDPOINTS, ClientRegions
from movr.loadgen.report import render, write_json
from movr.loadgen.runner import LoadError, run_load

T = TypeVar("T")
REPORT_WIDTH = 160  # when stdout is a file or pipe, keep table rows on one line


def parsed_option(parse: Callable[[str], T]) -> Callable[[click.Context, click.Parameter, str], T]:
    """A click callback turning LoadConfigError into a usage error naming the option."""

    def callback(_ctx: click.Context, _param: click.Parameter, value: str) -> T:
        try:
            return parse(value)
        except LoadConfigError as error:
            raise click.BadParameter(str(error)) from None

    return callback


def duration_option(
    flag: str, default: str, help_text: str, *, allow_zero: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option for a duration (90, 60s, 500ms, 2m, 1m30s), parsed to seconds."""
    return click.option(
        flag,
        default=default,
        show_default=True,
        callback=parsed_option(partial(parse_duration, allow_zero=allow_zero)),
        help=help_text,
    )


def _cities(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    """No --cities: every city the target serves."""
    return () if value is None else parsed_option(parse_cities)(ctx, param, value)


@click.command()
@click.option("--url", help="Base URL of the MovR instance to load (or --client-regions).")
@click.option(
    "--client-regions",
    help='With a running `movr global`: "all" or regions, comma-separated; riders are spread '
    "over their entries, each riding in its own region, and the report adds each region's "
    "latency and round trips to the primary.",
)
@click.option(
    "--endpoints",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="`movr global`'s endpoints.json (default: $MOVR_DATA_DIR/global/endpoints.json).",
)
@duration_option("--duration", "60s", "How long to run: 90, 60s, 2m, 1m30s.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    default=16,
    show_default=True,
    help="Simulated riders, one thread and one connection each.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the riders' choices.")
@click.option(
    "--cities",
    callback=_cities,
    help='Cities to ride in, e.g. "new york,boston" (default: all served by the target).',
)
@click.option(
    "--mix",
    default=DEFAULT_MIX,
    show_default=True,
    callback=parsed_option(parse_mix),
    help="Relative weights of browse, ride, register, history, add and retire (a vehicle).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the figures to this JSON file.",
)
@click.option(
    "--database-url",
    help="Database to check the invariants in (default: DATABASE_URL, else the embedded "
    "PostgreSQL of MOVR_DATA_DIR, which the demo under test must be running).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(1),
    help="Start no new action past this many requests (a ride in progress is still ended).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a target that is not 127.0.0.1, localhost or ::1.",
)
@duration_option("--timeout", "10s", "Timeout of every request.")
@duration_option(
    "--ride-pause",
    "200ms",
    "Longest pause between starting and ending a ride (uniformly random up to it).",
    allow_zero=True,
)
@click.option(
    "--popular",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Vehicles per city that riders favour, so that they contend on purpose.",
)
@click.option("--metrics-token", help="Bearer token for /metrics if MOVR_METRICS_TOKEN is set.")
def load(  # click passes every option by name
    *,
    url: str | None,
    client_regions: str | None,
    endpoints: Path | None,
    duration: float,
    concurrency: int,
    seed: int,
    cities: tuple[str, ...],
    mix: Mix,
    json_path: Path | None,
    database_url: str | None,
    max_requests: int | None,
    allow_remote: bool,
    timeout: float,
    ride_pause: float,
    popular: int,
    metrics_token: str | None,
) -> None:
    """Drive a running MovR over its JSON API like many riders, then check the invariants.

    Exits 0 only when no unexpected error happened and every invariant of the data holds.
    """
    regions = _client_regions(client_regions, endpoints)
    if regions is not None:
        url = url or regions.entries[0][1]
        database_url = database_url or regions.database_url
    if url is None:
        raise click.UsageError("Give --url (one MovR instance) or --client-regions.")
    try:
        target = check_target(url, allow_remote=allow_remote)
        for _, entry in regions.entries if regions is not None else ():
            check_target(entry, allow_remote=allow_remote)
    except LoadConfigError as error:
        raise click.BadParameter(str(error), param_hint="--url") from None
    config = LoadConfig(
        client_regions=regions,
        url=target,
        duration=duration,
        concurrency=concurrency,
        seed=seed,
        cities=cities,
        mix=mix,
        json_path=json_path,
        database_url=database_url,
        max_requests=max_requests,
        allow_remote=allow_remote,
        request_timeout=timeout,
        ride_pause=ride_pause,
        popular=popular,
        metrics_token=metrics_token,
    )
    # One line per request from httpx would drown the progress line and the report.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stdout = Console(highlight=False)
    if not stdout.is_terminal:
        stdout = Console(highlight=False, width=REPORT_WIDTH)
    try:
        report = run_load(config, Console(stderr=True, highlight=False))
    except LoadError as error:
        raise click.ClickException(str(error)) from None
    render(report, stdout)
    if json_path is not None:
        write_json(report, json_path)
    raise SystemExit(1 if report.failures else 0)


def _client_regions(wanted: str | None, endpoints: Path | None) -> ClientRegions | None:
    """The client regions to load, from `movr global`'s endpoints file."""
    if wanted is None:
        return None
    try:
        path = endpoints or Settings.from_env(development=True).data_dir / "global" / ENDPOINTS
        return ClientRegions.from_endpoints(path, wanted)
    except (LoadConfigError, ConfigError) as error:
        raise click.BadParameter(str(error), param_hint="--client-regions") from None
