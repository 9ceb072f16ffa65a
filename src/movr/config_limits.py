"""Rate-limit settings: the limit strings, the per-account window rule, the counters' storage."""

from __future__ import annotations

from collections.abc import Mapping

from limits import parse_many

from movr.config_checks import storage_problem
from movr.config_readers import ConfigError, checked

# Per client address. Failed logins: enough for typos, not for password guessing. Registrations
# (all attempts): enough for a family or an office behind one address, not for account spam.
DEFAULT_LOGIN_RATE_LIMIT = "10 per minute;100 per hour"
DEFAULT_REGISTER_RATE_LIMIT = "30 per minute;300 per hour"
# Per account, from any address: short windows only, so guessing locks a victim out briefly.
DEFAULT_ACCOUNT_RATE_LIMIT = "10 per minute"
# Rate-limit counters in MovR's own database, shared by all workers and instances of a region
# (web/limit_storage.py); any other value is a Flask-Limiter storage URI (memory://, redis://).
DATABASE_STORAGE = "database"


def read_rate_limit(env: Mapping[str, str], name: str, default: str) -> str | None:
    """A Flask-Limiter limit string; `MOVR_RATE_LIMITS=off` turns every limit off."""
    if (env.get("MOVR_RATE_LIMITS") or "").strip().lower() == "off":
        return None
    raw = (env.get(name) or default).strip()
    try:
        parse_many(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{name}: {raw!r} is not a rate limit like '10 per minute;100 per hour' or 'off'"
        ) from exc
    return raw


def read_account_rate_limit(env: Mapping[str, str]) -> str | None:
    """The per-account login limit: windows of an hour at most, or guessing at an account
    would lock its owner out of new logins for that long."""
    name = "MOVR_ACCOUNT_RATE_LIMITS"
    raw = read_rate_limit(env, name, DEFAULT_ACCOUNT_RATE_LIMIT)
    if raw is not None and any(item.get_expiry() > 3600 for item in parse_many(raw)):
        raise ConfigError(f"{name}: {raw!r} has a window over an hour (lockouts must be short)")
    return raw


def read_rate_limit_storage(env: Mapping[str, str]) -> str:
    """`database` (MovR's own tables), or a storage URI Flask-Limiter can use in this install."""
    uri = (env.get("MOVR_RATE_LIMIT_STORAGE") or DATABASE_STORAGE).strip()
    if uri == DATABASE_STORAGE:
        return uri
    return checked("MOVR_RATE_LIMIT_STORAGE", uri, storage_problem)
