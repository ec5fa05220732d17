"""Password hashing (argon2id) and the password policy.

The hasher's parameters are argon2-cffi's defaults (RFC 9106's low-memory profile); when a
future version raises them, stored hashes are upgraded on the next successful log-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bmtc.accounts.model import InvalidAccount

MIN_LENGTH = 12
# Hashing cost grows with the input; a bound keeps a request body from becoming a DoS.
MAX_LENGTH = 1024

_hasher = PasswordHasher()


class PasswordPolicyError(InvalidAccount):
    pass


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"the password must have at most {MAX_LENGTH} characters")
    if not password.strip():
        raise PasswordPolicyError("the password must not be blank")


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


@dataclass(frozen=True)
class Verified:
    ok: bool
    # Set when the password matched a hash made with weaker parameters than today's.
    new_hash: str | None = None


def verify_password(stored_hash: str, password: str) -> Verified:
    """Whether `password` matches `stored_hash`; never raises on a bad or foreign hash."""
    if len(password) > MAX_LENGTH:
        # Still spend the time of a verification, so the length is not an oracle.
        _verify(dummy_hash(), "x")
        return Verified(False)
    if not _verify(stored_hash, password):
        return Verified(False)
    if _hasher.check_needs_rehash(stored_hash):
        return Verified(True, _hasher.hash(password))
    return Verified(True)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash no password matches, verified against for unknown users so that a log-in as a
    stranger costs as much time as one as a user."""
    return _hasher.hash(secrets.token_urlsafe(32))
