"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["PasswordHasher", "fast_hasher", "password_hasher", "verify_password"]


def password_hasher() -> PasswordHasher:
    """argon2id with OWASP's recommended parameters: 46 MiB, 1 pass, 1 lane.

    argon2-cffi's defaults (RFC 9106's low-memory option: 64 MiB, 3 passes, 4 lanes) cost
    ~236 ms of CPU per hash on a 2-core machine, against ~56 ms for these. Every registration
    and login hashes once, so at a few per second the defaults took most of the machine: at
    concurrency 32 browsing waited 230 ms (p50) and registering 1.7 s (bench/RESULTS.md). The
    memory cost, which is what resists GPU cracking, stays high; hashes made with other
    parameters are upgraded at the next login (users.needs_rehash).
    """
    return PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1)


def fast_hasher() -> PasswordHasher:
    """Cheap parameters for tests only: production uses password_hasher()."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or corrupt hash."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
