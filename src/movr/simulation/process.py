"""The latency proxies as a process: start, self-check, print `ready`, serve control, stop.

    python -m movr.simulation.latency --hops FILE --control-port N [--tolerance-ms 5]

Exit codes: 0 after SIGTERM/SIGINT; 2 when it refuses to run (a bad hops file, an address in
use, or a hop whose measured round trip is off: one line per failing hop on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from movr.simulation.hops import Hop, HopsFileError, ProxySet, SelfCheckFailed, load_hops
from movr.simulation.latency_api import ControlServer
from movr.simulation.selfcheck import DEFAULT_TOLERANCE

REFUSED = 2
CONTROL_HOST = "127.0.0.1"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the proxies of a hops file until SIGTERM or SIGINT; the exit code."""
    args = _parser().parse_args(argv)
    try:
        hops = load_hops(args.hops)
    except HopsFileError as exc:
        _complain(str(exc))
        return REFUSED
    return asyncio.run(_serve(hops, args.control_port, args.tolerance_ms / 1000))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m movr.simulation.latency",
        description="Latency proxies for a simulated multi-region deployment on one machine.",
    )
    parser.add_argument("--hops", type=Path, required=True, help="JSON list of hops")
    parser.add_argument(
        "--control-port", type=int, required=True, help=f"control API port on {CONTROL_HOST}"
    )
    parser.add_argument(
        "--tolerance-ms",
        type=float,
        default=DEFAULT_TOLERANCE * 1000,
        help="how far a measured round trip may be from the configured one (default 5)",
    )
    return parser


async def _serve(hops: list[Hop], control_port: int, tolerance: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    proxies = ProxySet(hops)
    control = ControlServer(proxies)
    try:
        # Everything listens before the self-check, so a taken port is reported at once
        # and the control API answers as soon as `ready` is printed.
        await proxies.start()
        await control.start(CONTROL_HOST, control_port)
    except OSError as exc:
        _complain(f"cannot start: {exc}")
        await proxies.close()
        return REFUSED
    try:
        check = asyncio.ensure_future(proxies.self_check(tolerance))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({check, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not check.done():  # stopped during the self-check: stop promptly all the same
            check.cancel()
            await asyncio.wait({check})
            return 0
        try:
            measured = check.result()
        except SelfCheckFailed as failed:
            for line in failed.failures:
                _complain(f"self-check failed: {line}")
            return REFUSED
        ready = {name: round(seconds * 1000, 2) for name, seconds in measured.items()}
        print(f"ready {json.dumps(ready)}", flush=True)
        await stop.wait()
        return 0
    finally:
        await control.close()
        await proxies.close()


def _complain(message: str) -> None:
    print(f"latency proxies: {message}", file=sys.stderr, flush=True)
