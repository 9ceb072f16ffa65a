"""`movr chaos FAULT`: load a local MovR while one fault hits its database or server; print a
timeline and a verdict; exit 1 when the verdict fails.

A command of its own rather than `movr load --fault`: it owns processes (it starts MovR and its
database, signals and restarts them), while `movr load` only ever talks HTTP to a server.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType

import click

from movr.chaos import processes
from movr.chaos.drill import Schedule, run_drill
from movr.chaos.faults import FAULTS, LOCKABLE, make_fault
from movr.chaos.render import render
from movr.chaos.target import LocalMovr, RunningMovr, Target, TargetError
from movr.chaos.verdict import RunFacts, judge
from movr.loadgen.command import duration_option
from movr.loadgen.config import LoadConfig, LoadConfigError, check_target
from movr.loadgen.runner import LoadError
from movr.simulation.timeline import Echo, Timeline

# The client waits this much longer than the deadline, so that a late answer is measured (and
# named in the verdict) rather than cut off at the deadline.
CLIENT_MARGIN = 5.0
ORPHAN_GRACE = 10.0  # seconds for stopped processes to be gone before they count as orphans


class Stopped(Exception):
    """SIGTERM arrived: unwind, removing the fault and stopping what was started."""


@click.command("chaos")
@click.argument("fault_name", metavar="FAULT", type=click.Choice(list(FAULTS)))
@click.option("--url", help="A running MovR to drill (with --data-dir); default: start one.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --url: the data folder of that MovR's embedded PostgreSQL.",
)
@duration_option("--warmup", "5s", "Load before the fault.")
@duration_option("--fault-for", "10s", "How long refuse, freeze and lock are held.")
@duration_option("--recover", "10s", "Load after the fault is removed.")
@duration_option(
    "--deadline", "10s", "No request may take longer (the client waits 5 s more, to measure)."
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--lock-table", type=click.Choice(LOCKABLE), default="vehicles", show_default=True)
@click.option("--port", type=click.IntRange(1024, 65535), help="Port of the MovR started.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as JSON to this file ('-': stdout, the text goes to stderr).",
)
@click.option("--keep-data", is_flag=True, help="Keep the data folder of the MovR started.")
def chaos(  # click passes every option by name
    *,
    fault_name: str,
    url: str | None,
    data_dir: Path | None,
    warmup: float,
    fault_for: float,
    recover: float,
    deadline: float,
    concurrency: int,
    seed: int,
    lock_table: str,
    port: int | None,
    json_path: Path | None,
    keep_data: bool,
) -> None:
    """Run `movr load` against a local MovR while applying one FAULT to it, then print a
    timeline and a verdict (exit 1 on FAIL).

    \b
    refuse       stop PostgreSQL for --fault-for, then start it
    freeze       SIGSTOP every PostgreSQL process for --fault-for, then SIGCONT
    lock         hold an ACCESS EXCLUSIVE lock on --lock-table for --fault-for
    restart      restart PostgreSQL
    kill-worker  SIGKILL one gunicorn worker
    drain        SIGTERM the server, wait for its exit, start a new one on the same port
    """
    to_stdout = json_path == Path("-")
    echo: Echo = (lambda line: click.echo(line, err=True)) if to_stdout else click.echo
    fault = make_fault(fault_name, lock_table=lock_table)
    if (url is None) != (data_dir is None):
        raise click.UsageError("--url and --data-dir go together (or neither: one is started)")
    # The timeline says what happens; a line per request, migration or server start would bury it.
    for noisy in ("httpx", "alembic", "movr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    folder = None if data_dir is not None else Path(tempfile.mkdtemp(prefix="movr-chaos-"))
    try:
        with _stopped_by_sigterm(), ExitStack() as running:
            target = _target(running, url, data_dir, folder, port, deadline)
            echo(f"chaos {fault.name}: {fault.summary}")
            echo(f"MovR at {target.url}, its database in {target.database.data_dir}")
            config = LoadConfig(
                url=target.url,
                duration=warmup + fault_for + recover,
                concurrency=concurrency,
                seed=seed,
                database_url=target.database_url,
                request_timeout=deadline + CLIENT_MARGIN,
            )
            schedule = Schedule(warmup, fault_for, recover)
            outcome = run_drill(fault, target, config, schedule, Timeline(echo))
        # Everything started is stopped now: what still runs was left behind.
        orphans = None if folder is None else _orphans(outcome.seen, folder)
    except (TargetError, LoadError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        if folder is not None and not keep_data:
            shutil.rmtree(folder, ignore_errors=True)
    facts = RunFacts(fault.name, deadline, outcome.started, outcome.window, orphans, outcome.notes)
    report = judge(facts, outcome.events, outcome.report)
    passed = render(report, echo)
    if json_path is not None:
        document = json.dumps(report.to_json() | {"load": outcome.report.to_json()}, indent=2)
        if to_stdout:
            click.echo(document)
        else:
            json_path.write_text(document + "\n", encoding="utf-8")
    raise SystemExit(0 if passed else 1)


def _target(  # noqa: PLR0917 -- private, called once
    running: ExitStack,
    url: str | None,
    data_dir: Path | None,
    folder: Path | None,
    port: int | None,
    deadline: float,
) -> Target:
    """The MovR to drill: the one at `url`, or a new one in `folder` (stopped by `running`)
    whose request deadline is `deadline`."""
    if url is not None and data_dir is not None:
        try:
            return RunningMovr(check_target(url, allow_remote=False), data_dir)
        except LoadConfigError as error:
            raise click.BadParameter(str(error), param_hint="--url") from None
    assert folder is not None  # noqa: S101 -- no --url: a folder was made
    local = LocalMovr(folder, port or _free_port(), deadline)
    local.start(running)
    return local


def _orphans(seen: set[int], folder: Path) -> list[int]:
    """Processes of the run still alive once everything was stopped (after a grace period),
    and any process naming its data folder."""
    deadline = time.monotonic() + ORPHAN_GRACE
    while True:
        left = {pid for pid in seen if processes.alive(pid)} | set(
            processes.mentioning(str(folder))
        )
        if not left or time.monotonic() >= deadline:
            return sorted(left)
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C does: the fault is removed and everything stopped."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except Stopped:
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
