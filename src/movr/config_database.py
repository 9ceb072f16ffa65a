"""Which database MovR uses: its URLs (for psycopg 3), and how read-mostly requests reach it."""

from __future__ import annotations

from collections.abc import Mapping

from movr.config_readers import ConfigError, read_bool


def read_psycopg_url(env: Mapping[str, str], name: str) -> str | None:
    """A SQLAlchemy URL for psycopg 3 (PostgreSQL or CockroachDB), or None if unset."""
    url = env.get(name)
    if not url:
        return None
    scheme = url.split("://", 1)[0]
    if scheme in ("postgres", "postgresql"):
        # Bare URLs (as printed by cloud consoles) mean psycopg 3, the driver MovR ships with.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if scheme == "cockroachdb":
        return "cockroachdb+psycopg://" + url.split("://", 1)[1]
    if scheme not in ("postgresql+psycopg", "cockroachdb+psycopg"):
        raise ConfigError(
            f"{name}: expected postgresql+psycopg://… or cockroachdb+psycopg://…, "
            f"got scheme {scheme!r}"
        )
    return url


def read_follower_reads(env: Mapping[str, str]) -> bool:
    """Follower reads exist on CockroachDB only; elsewhere the setting would silently do nothing."""
    wanted = read_bool(env, "MOVR_FOLLOWER_READS", default=False)
    if not wanted:
        return False
    url = read_psycopg_url(env, "DATABASE_URL") or ""
    if not url.startswith("cockroachdb+"):
        raise ConfigError(
            "MOVR_FOLLOWER_READS: needs a CockroachDB DATABASE_URL (cockroachdb://…); "
            "on PostgreSQL set MOVR_READ_DATABASE_URL to a hot standby instead"
        )
    if env.get("MOVR_READ_DATABASE_URL"):
        raise ConfigError("MOVR_FOLLOWER_READS: set it or MOVR_READ_DATABASE_URL, not both")
    return True
