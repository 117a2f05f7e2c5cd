"""Password hashing: argon2id, wrong passwords and unknown accounts fail alike."""

from __future__ import annotations

import subprocess
import sys

from domain.passwords import hash_password, verify_password


def test_right_password_verifies_and_wrong_one_does_not() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse battery!")


def test_unknown_account_never_verifies() -> None:
    assert not verify_password(None, "decoy password that never matches")


def test_garbage_hash_does_not_verify() -> None:
    assert not verify_password("not-a-hash", "anything")


def test_production_cost_is_rfc_9106_low_memory() -> None:
    """Outside the test suite's cheap profile, new hashes use argon2-cffi's default cost."""
    code = "from domain.passwords import hash_password; print(hash_password('x' * 10))"
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert printed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
