"""Flask-Limiter's counters in MovR's own database (`MOVR_RATE_LIMIT_STORAGE=database`).

`memory://` counts in each gunicorn worker's own memory, so four workers let a client through
four times its limit; Redis shares counts but is one more service to run. Here every worker and
every instance of a region share one counter per key, each operation one statement through the
retry helper (a login attempt costs a few of them, next to ~56 ms of password hashing). The
counters and their SQL are a service: services/rate_limits.py.

Counters live with the serving region (local writes), except those of a global scope
(`global_scope`): an account's login count must be one for the whole deployment, or a guesser
would get the limit once per region. Those live in the primary region: a login through
another region pays one round trip there (on PostgreSQL every write goes to the primary anyway).

A count answers with its window, which the request keeps (`flask.g`): the X-RateLimit headers
and Retry-After that Flask-Limiter reads after counting cost no second trip to the database.
"""

from __future__ import annotations

import time

from flask import g
from limits.storage import Storage
from sqlalchemy.exc import SQLAlchemyError

from movr.services import rate_limits
from movr.web.runtime import runtime

SCHEME = "movr+database"
_GLOBAL_SCOPES: set[str] = set()


def global_scope(scope: str) -> str:
    """Declare `scope` global: its counters are one for every region (kept in the primary's)."""
    _GLOBAL_SCOPES.add(scope)
    return scope


def _home_city(key: str) -> str:
    """The city that homes the counter `key`: the first of its region. `limits` names a
    counter `LIMITER/<identifiers…>/<amount>/<multiples>/<granularity>`; MovR's identifiers
    end with the scope for Flask-Limiter's shared limits and begin with it for its own."""
    settings = runtime().settings
    parts = key.split("/")
    is_global = not _GLOBAL_SCOPES.isdisjoint(parts[1:-3])
    region = settings.region_map.primary_region if is_global else settings.region
    return settings.region_map.cities(region)[0].id


def _homes() -> set[str]:
    """Every city that may home a counter of this region's instances."""
    settings = runtime().settings
    regions = {settings.region, settings.region_map.primary_region}
    return {settings.region_map.cities(region)[0].id for region in regions}


class DatabaseStorage(Storage):
    """A `limits` storage (fixed windows) on the rate_limit_counters table of the current app's
    database. It is only used while a request is handled (that is when limits are checked)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 -- the attribute `limits` registers storages by

    @property
    def base_exceptions(self) -> type[Exception]:
        """Errors `limits` may wrap in its StorageError."""
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits on `key`; its total in the current window."""
        window = runtime().run(rate_limits.hit, _home_city(key), key, expiry, amount)
        _counted()[key] = window
        return window.hits

    def get(self, key: str) -> int:
        """Hits on `key` in the current window."""
        window = _counted().get(key)
        if window is not None:
            return window.hits if window.ends_at > time.time() else 0
        return runtime().run(rate_limits.hits, _home_city(key), key)

    def get_expiry(self, key: str) -> float:
        """When the current window of `key` ends (epoch seconds; now if there is none)."""
        window = _counted().get(key)
        ends = (
            window.ends_at
            if window is not None
            else runtime().run(rate_limits.window_end, _home_city(key), key)
        )
        return ends if ends is not None and ends > time.time() else time.time()

    def check(self) -> bool:
        """True when the database answers."""
        try:
            return runtime().run(rate_limits.alive)
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        """Forget every counter of this region, and the global ones."""
        _counted().clear()
        for city in _homes():
            runtime().run(rate_limits.reset, city)
        return None

    def clear(self, key: str) -> None:
        """Forget the counter of `key`."""
        _counted().pop(key, None)
        runtime().run(rate_limits.clear, _home_city(key), key)


def _counted() -> dict[str, rate_limits.Window]:
    """The windows this request has counted, by key."""
    counted: dict[str, rate_limits.Window] = g.setdefault("movr_limit_windows", {})
    return counted
