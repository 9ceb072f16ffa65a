"""The cluster's locks: one serialises init, start and stop; one marks who must stop the server."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def cluster_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cluster so concurrent processes do not init/start twice."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class OwnerLock:
    """Held by the process that started the server (or took over a dead one's) until it stops
    it: the kernel drops it when that process dies, however it dies."""

    def __init__(self, path: Path) -> None:
        """Describe the lock in `path`; nothing is taken until `take()`."""
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def take(self) -> bool:
        """Take the lock unless a live process (or another object) holds it."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let the lock go (a no-op when this object does not hold it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
