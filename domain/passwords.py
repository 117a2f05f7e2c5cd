"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def use_parameters(parameters: Parameters) -> None:
    """Change the cost of new hashes (the test suite uses argon2's cheapest profile to stay
    fast; existing hashes verify whatever their parameters, and are re-hashed on sign-in)."""
    global _hasher, _DECOY_HASH
    _hasher = PasswordHasher.from_parameters(parameters)
    _DECOY_HASH = _hasher.hash("decoy password that never matches")


MIN_LENGTH = 10
MAX_LENGTH = 256

# Verified against when the account does not exist, so a wrong email costs as long as a
# wrong password and response times do not reveal which emails have accounts.
_DECOY_HASH = _hasher.hash("decoy password that never matches")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """False for a wrong password, a garbled hash, or no account (after the same work)."""
    try:
        _hasher.verify(password_hash or _DECOY_HASH, password)  # raises unless it matches
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
