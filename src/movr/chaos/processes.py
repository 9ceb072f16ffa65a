"""Processes seen through /proc (Linux): a process tree, whether a pid lives, and signals to a
whole tree. The faults freeze and kill real processes, and the verdict looks for orphans."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), None if gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return raw.rpartition(")")[2].split()


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie only awaits its parent's wait: it counts as gone)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    """Live child processes of `pid`, oldest first."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and fields[1] == str(pid) and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return sorted(found)


def tree(pid: int) -> list[int]:
    """`pid` and its descendants, parents before children."""
    pids, index = [pid], 0
    while index < len(pids):
        pids += children(pids[index])
        index += 1
    return [p for p in pids if alive(p)]


def mentioning(fragment: str) -> list[int]:
    """Live processes whose command line contains `fragment` (a data folder, a port)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if fragment in command and alive(int(entry.name)):
                found.append(int(entry.name))
    return sorted(found)


def send(pids: Iterable[int], signum: signal.Signals) -> list[int]:
    """Send `signum` to each pid still there; the pids it reached."""
    reached = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
            reached.append(pid)
    return reached
