"""The settings the server gets on every start, as the `-o` options of `pg_ctl start`."""

from __future__ import annotations

import shlex
from pathlib import Path

from movr.db.embedded.access import TcpAccess
from movr.db.embedded.sockets import PORT

# Small-machine settings, passed on every start so they win over postgresql.conf and ALTER SYSTEM.
SERVER_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "shared_buffers": "128MB",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


def start_options(role_settings: dict[str, str], *, tcp: TcpAccess | None, socket_dir: Path) -> str:
    """Return the `-o` argument of `pg_ctl start`: our settings, the role's, where to listen."""
    settings = {
        **SERVER_SETTINGS,
        **role_settings,
        "listen_addresses": "127.0.0.1" if tcp else "",
        "port": str(tcp.port if tcp else PORT),
        # List syntax: double quotes keep commas and spaces in the path literal.
        "unix_socket_directories": '"' + str(socket_dir).replace('"', '""') + '"',
        "unix_socket_permissions": "0700",
    }
    # pg_ctl hands -o to /bin/sh, hence shell quoting on each argument.
    return " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in settings.items())
