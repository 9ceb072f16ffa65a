"""`movr demo`'s lifetime: one demo per data folder, and stop signals that unwind it at any stage,
so that whatever it started is stopped and what it says at the end is true."""

from __future__ import annotations

import fcntl
import os
import signal
from types import FrameType, TracebackType

from movr.config import ConfigError, Settings, writable_folder
from movr.db.embedded import EmbeddedPostgres
from movr.db.runtime import REPLICA_FOLDER

LOCK_FILE = "demo.lock"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignal(KeyboardInterrupt):
    """A stop signal arrived before the demo served. Raised like Ctrl-C's KeyboardInterrupt
    (which psycopg answers by cancelling the running query), so every `finally` runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class DemoLifetime:
    """Within: the data folder belongs to this demo alone, and SIGTERM or SIGHUP stop it like
    Ctrl-C whatever it is doing (starting the database, migrating, seeding); while gunicorn
    serves, `launch()` forwards them to it instead."""

    def __init__(self, settings: Settings) -> None:
        """Describe the lifetime of a demo of `settings`; nothing happens before `with`."""
        self.settings = settings
        self.stop_signal: int | None = None
        self.status = 0
        self._cleaning_up = False
        self._hangup = False
        self._lock_fd: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> DemoLifetime:
        """Take the data folder (or refuse with a ConfigError) and catch the stop signals."""
        self._lock()
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Restore the signal handlers, let the folder go; a StopSignal ends here (handled)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]  # what signal.signal returned
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        return isinstance(exc, StopSignal)

    def served(self, status: int) -> None:
        """gunicorn exited with `status`: from now on the demo only cleans up, and a further
        stop signal must not cut that short."""
        self.status = status
        self._cleaning_up = True

    def farewell(self, *, replica: bool) -> str:
        """The last line, as true as the database's state: checked, not assumed."""
        if self.stop_signal is None:
            words = "MovR demo stopped"
        else:
            words = f"MovR demo stopped by {signal.Signals(self.stop_signal).name} before it served"
        if self.settings.database_url is not None:
            return words + "."
        if EmbeddedPostgres(self.settings.data_dir).is_running():
            words += "; the embedded database keeps running (another process uses it, and stops it)"
        else:
            words += "; the embedded database is stopped too"
        if replica:
            standby = EmbeddedPostgres(self.settings.data_dir / REPLICA_FOLDER)
            running = standby.is_running()
            words += " (its standby keeps running)" if running else " (and its standby)"
        return words + "."

    def exit_status(self) -> int:
        """The demo's exit status: 128 + the signal that stopped it before it served, else
        gunicorn's unless it stopped as asked."""
        if self.stop_signal is not None:
            return 128 + self.stop_signal
        return 0 if self.status in (0, -signal.SIGTERM, -signal.SIGINT) else self.status

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            # launch() forwards SIGTERM, not SIGHUP, to gunicorn: go through SIGTERM's handler,
            # whichever is installed now (this one before serving, launch()'s while serving).
            self._hangup = True
            signal.raise_signal(signal.SIGTERM)
            return
        if self.stop_signal is not None or self._cleaning_up:
            return  # the clean-up the first signal asked for is under way: let it finish
        self.stop_signal = signal.SIGHUP if self._hangup else signum
        raise StopSignal(self.stop_signal)

    def _lock(self) -> None:
        """Hold the data folder's demo lock (the kernel drops it when this process dies)."""
        folder = writable_folder(self.settings.data_dir)
        path = folder / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            # Two demos would share one database and metrics folder, and the first to stop
            # would stop the database under the other.
            raise ConfigError(
                f"MOVR_DATA_DIR: another `movr demo` (pid {holder}) is running on {folder}: "
                "stop it, or give this one another MOVR_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
