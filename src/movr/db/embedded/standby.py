"""`EmbeddedStandby`: a hot standby of an embedded primary, streaming its WAL."""

from __future__ import annotations

from pathlib import Path

from movr.db.embedded.access import SUPERUSER, TcpAccess
from movr.db.embedded.account import ServerAccount
from movr.db.embedded.errors import EmbeddedPostgresError
from movr.db.embedded.server import EmbeddedPostgres


class EmbeddedStandby(EmbeddedPostgres):
    """A hot standby of an embedded primary, streaming its WAL over the primary's socket.

    Made with `pg_basebackup -R` on first start (the primary must be running then); from then
    on it starts, stops and persists like any embedded server, in its own `data_dir`.
    `apply_delay_ms` holds replay back (`recovery_min_apply_delay`), which makes lag testable.
    """

    def __init__(
        self,
        data_dir: Path,
        primary: EmbeddedPostgres,
        apply_delay_ms: int = 0,
        *,
        tcp: TcpAccess | None = None,
        via_port: int | None = None,
    ) -> None:
        """Describe the standby of `primary`; nothing is touched on disk until `start()`.
        With `via_port` it streams over TCP through that port (a proxy in front of the primary,
        which must have TCP access) instead of the primary's Unix socket."""
        super().__init__(data_dir, tcp=tcp)
        self.primary = primary
        self.apply_delay_ms = apply_delay_ms
        self.via_port = via_port

    def _role_settings(self) -> dict[str, str]:
        return {
            "hot_standby": "on",
            # Tell the primary what the standby's queries still read: no cancelled reads.
            "hot_standby_feedback": "on",
            "recovery_min_apply_delay": f"{self.apply_delay_ms}ms",
        }

    def _initdb(self, account: ServerAccount) -> None:
        """Copy the running primary (`pg_basebackup -R` writes standby.signal and how to
        reach the primary)."""
        self._create_cluster(
            account,
            lambda scratch: [
                str(self._bin / "pg_basebackup"),
                "-D",
                str(scratch),
                "-d",
                self._primary_conninfo(),
                "-X",
                "stream",
                "-R",
                "--checkpoint=fast",
            ],
        )

    def _primary_conninfo(self) -> str:
        """How the standby reaches the primary (`-R` keeps it as primary_conninfo)."""
        if self.via_port is None:
            socket_dir, port = self.primary.endpoint()
            return f"host={socket_dir} port={port} user={SUPERUSER}"
        if self.primary.tcp is None:
            raise EmbeddedPostgresError("a standby over TCP needs a primary with TCP access")
        password = self.primary.tcp.password.replace("\\", "\\\\").replace("'", "\\'")
        return (
            f"host=127.0.0.1 port={self.via_port} user={SUPERUSER} password='{password}' "
            "application_name=movr_standby"
        )

    def __repr__(self) -> str:
        """Show which standby this is."""
        return f"EmbeddedStandby({str(self.data_dir)!r}, primary={self.primary!r})"
