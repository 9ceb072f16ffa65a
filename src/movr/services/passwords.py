"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["PasswordHasher", "fast_hasher", "verify_password"]


def fast_hasher() -> PasswordHasher:
    """Cheap parameters for tests only: production uses PasswordHasher() defaults (RFC 9106)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or corrupt hash."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
