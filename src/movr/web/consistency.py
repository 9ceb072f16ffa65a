"""Read-your-writes for each client: the token of its last write, carried between requests.

Pages keep it in the session; every response to a write also sends it in the MovR-Read-After
header, which API clients send back on their next requests (docs/api.md). A read for a client
holding a token waits until the region's replica shows that write (db/reads.py); a page's
session forgets the token once a replica read has shown it.
"""

from __future__ import annotations

import time

import structlog
from flask import Flask, Response, g, request, session

from movr.db.reads import ReadToken

log = structlog.get_logger(__name__)

HEADER = "MovR-Read-After"
SESSION_KEY = "read_after"
# Flask-Login's key: the session belongs to a logged-in browser (not an API bearer client).
LOGGED_IN_KEY = "_user_id"


def read_token() -> ReadToken | None:
    """The token of the current request's client (header first, then the session)."""
    if "read_token" not in g:
        g.read_token = _incoming()
    token: ReadToken | None = g.read_token
    return token


def wrote(xid: int | None) -> None:
    """A write of this request committed (transaction `xid` on the primary, when known)."""
    g.written = ReadToken(xid, time.time())
    g.read_token = g.written  # later reads of this request see it too


def caught_up() -> None:
    """A read showed the client's last write where it ran: the session may forget it, and
    this request's later reads need not ask again."""
    g.caught_up = True
    g.read_token = None


def _incoming() -> ReadToken | None:
    # A value that cannot be read is ignored, not refused: the token only asks reads to wait.
    for value in (request.headers.get(HEADER), session.get(SESSION_KEY)):
        if value is None:
            continue
        try:
            return ReadToken.parse(str(value))
        except ValueError:
            log.info("read_after_ignored", reason="malformed")
    return None


def install(app: Flask) -> None:
    """Carry the token: in the session for browsers, in a response header for everyone."""

    @app.after_request
    def carry(response: Response) -> Response:
        written: ReadToken | None = g.get("written")
        if written is not None:
            response.headers[HEADER] = written.encode()
            if LOGGED_IN_KEY in session:
                session[SESSION_KEY] = written.encode()
        elif g.get("caught_up") and SESSION_KEY in session:
            session.pop(SESSION_KEY)
        return response
