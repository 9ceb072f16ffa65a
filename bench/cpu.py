"""Where the machine's CPU goes during a benchmark run: MovR's workers, its database, the load
generator, the rest.

Read from /proc (Linux): CPU seconds of every process whose command line names
`movr.web.server` (gunicorn's arbiter and workers), of the embedded PostgreSQL serving
`data_dir` (postmaster and backends), of the load generator's process, and of the whole machine
(busy time of all cores).
Processes that exit inside the window (a worker that died) are missed; they land in the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> Iterator[tuple[int, int, str, float]]:
    """(pid, parent pid, command line, CPU seconds) of every readable process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        yield int(entry.name), int(fields[1]), cmdline, (int(fields[11]) + int(fields[12])) / TICKS


def _by_kind(data_dir: Path, loadgen: int, server: str) -> dict[int, tuple[str, float]]:
    processes = list(_processes())
    pgdata = f"-D {data_dir / 'pgdata'}"
    postmasters = {pid for pid, _, cmdline, _ in processes if pgdata in cmdline}
    kinds: dict[int, tuple[str, float]] = {}
    for pid, parent, cmdline, seconds in processes:
        if pid == loadgen:
            kinds[pid] = ("loadgen", seconds)
        elif server in cmdline:
            kinds[pid] = ("server", seconds)
        elif pid in postmasters or parent in postmasters:
            kinds[pid] = ("postgres", seconds)
    return kinds


def _machine_busy() -> float:
    """Busy CPU seconds of all cores together (everything but idle and I/O wait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


@contextmanager
def cpu_split(
    data_dir: Path, loadgen: int, server: str = "movr.web.server"
) -> Iterator[dict[str, float]]:
    """CPU seconds spent inside the block by the "server" (processes whose command line holds
    `server`), "postgres", the "loadgen" process and the "machine" in all, and the block's
    wall-clock "seconds"."""
    before = _by_kind(data_dir, loadgen, server)
    busy, started = _machine_busy(), time.monotonic()
    spent: dict[str, float] = {}
    yield spent
    totals = {"server": 0.0, "postgres": 0.0, "loadgen": 0.0}
    for pid, (kind, seconds) in _by_kind(data_dir, loadgen, server).items():
        totals[kind] += seconds - before.get(pid, (kind, 0.0))[1]
    spent.update(totals, machine=_machine_busy() - busy, seconds=time.monotonic() - started)


def largest_rss_mb(server: str = "movr.web.server") -> float:
    """Resident memory of the largest process whose command line holds `server` (a worker)."""
    sizes = []
    for pid, _, cmdline, _ in _processes():
        if server in cmdline:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
            sizes.append(int(rss.split()[1]) / 1024)
    return max(sizes, default=0.0)
