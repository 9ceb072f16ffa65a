"""How clients reach the server: as the superuser, over its Unix socket or (with TCP access)
a loopback port."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from movr.db.embedded.sockets import PORT

SUPERUSER = "postgres"


@dataclass(frozen=True)
class TcpAccess:
    """Also listen on 127.0.0.1:`port`, with password authentication (scram-sha-256) for the
    superuser: for standbys and apps that reach the server through a network hop."""

    port: int
    password: str


def socket_url(socket_dir: Path, port: int, database: str) -> str:
    """Return a SQLAlchemy URL reaching `database` through the socket in `socket_dir`."""
    url = (
        f"postgresql+psycopg://{SUPERUSER}@/{quote(database, safe='')}"
        f"?host={quote(str(socket_dir), safe='/')}"
    )
    return url if port == PORT else f"{url}&port={port}"


def tcp_url(tcp: TcpAccess, database: str, port: int | None) -> str:
    """Return a SQLAlchemy URL reaching `database` over TCP (through `port`, a proxy in front
    of the server, when given)."""
    password = quote(tcp.password, safe="")
    target = port or tcp.port
    return (
        f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{target}/{quote(database, safe='')}"
    )


def connect_superuser(socket_dir: Path, port: int) -> psycopg.Connection[tuple[object, ...]]:
    """Open an autocommit superuser connection to the `postgres` database."""
    return psycopg.connect(
        host=str(socket_dir),
        port=port,
        user=SUPERUSER,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )
