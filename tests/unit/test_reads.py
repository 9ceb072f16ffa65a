"""Read routing without a database: tokens, CockroachDB follower reads, the session options."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast

import pytest
from sqlalchemy import Connection, Engine

from movr.db.engine import session_options
from movr.db.reads import FOLLOWER_READ_WINDOW, ReadRouter, ReadToken
from tests.conftest import make_settings

COCKROACH = "cockroachdb+psycopg://root@db:26257/movr"
POSTGRES = "postgresql+psycopg://movr@db/movr"


class Units:
    """Stands for a connection source; routing never opens it."""

    def begin(self) -> AbstractContextManager[Connection]:
        """Unused."""
        return cast(AbstractContextManager[Connection], nullcontext())


@pytest.mark.parametrize("token", [ReadToken(912, 1_700_000_000.25), ReadToken(None, 1.0)])
def test_read_tokens_survive_their_round_trip(token: ReadToken) -> None:
    assert ReadToken.parse(token.encode()) == token


@pytest.mark.parametrize(
    "value", ["", "12", "12.", "-1.5", "1.2.3", "x.1", f"{2**63}.1", "1." + "9" * 40]
)
def test_malformed_read_tokens_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"expected|range"):
        ReadToken.parse(value)


def follower_router(now: float) -> tuple[ReadRouter, Units, Any]:
    primary, follower = Units(), cast(Engine, object())
    router = ReadRouter(primary, follower, follower_reads=True, wall_clock=lambda: now)
    return router, primary, follower


def test_follower_reads_serve_clients_that_did_not_write_recently() -> None:
    router, primary, follower = follower_router(now=1000.0)
    for token in (None, ReadToken(7, 1000.0 - FOLLOWER_READ_WINDOW - 0.1)):
        route = router.route(token)
        assert [target for _, target in route.targets] == [follower, primary]
        assert route.caught_up


def test_a_client_that_wrote_within_the_follower_read_window_reads_the_present() -> None:
    router, primary, _ = follower_router(now=1000.0)
    route = router.route(ReadToken(7, 1000.0 - 1.0))
    assert [target for _, target in route.targets] == [primary]
    assert not route.caught_up  # the client keeps its token until the window has passed


def test_without_a_replica_every_read_goes_to_the_primary() -> None:
    primary = Units()
    route = ReadRouter(primary).route(ReadToken(7, 0.0))
    assert [target for _, target in route.targets] == [primary]


def test_follower_read_connections_read_as_of_follower_read_timestamp() -> None:
    options = session_options(make_settings(), COCKROACH, role="follower")
    assert "-c default_transaction_use_follower_reads=on" in options
    assert "-c default_transaction_read_only=on" in options
    assert "enable_seqscan" not in options  # PostgreSQL only


def test_primary_connections_are_serializable_and_standby_ones_repeatable_read() -> None:
    settings = make_settings()
    assert "-c default_transaction_isolation=serializable" in session_options(settings, POSTGRES)
    standby = session_options(settings, POSTGRES, role="replica")
    # A hot standby refuses SERIALIZABLE; the space is escaped for libpq's options.
    assert "-c default_transaction_isolation=repeatable\\ read" in standby
    assert "follower" not in standby
