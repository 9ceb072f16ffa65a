"""The production password hasher: argon2id at OWASP's recommended cost."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type

from movr.services.passwords import password_hasher, verify_password


def test_production_hashes_are_argon2id_at_owasp_cost() -> None:
    hashed = password_hasher().hash("correct horse battery staple")
    parameters = extract_parameters(hashed)
    assert parameters.type is Type.ID
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (47104, 1, 1)
    assert verify_password(password_hasher(), hashed, "correct horse battery staple")
    assert not verify_password(password_hasher(), hashed, "wrong")


def test_hashes_made_with_other_parameters_are_upgraded_at_login() -> None:
    older = PasswordHasher().hash("correct horse battery staple")  # argon2-cffi's defaults
    assert password_hasher().check_needs_rehash(older)
    assert verify_password(password_hasher(), older, "correct horse battery staple")
