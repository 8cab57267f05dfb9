"""Passwords: hashed with argon2id (pwdlib); a bcrypt hash from elsewhere is verified and
upgraded on the next sign-in. A new password has at least `MIN_LENGTH` characters and is not one
of the 30,000 most common passwords (zxcvbn's list) nor the username."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

MIN_LENGTH = 8
MAX_LENGTH = 256
HASHER = PasswordHash((Argon2Hasher(), BcryptHasher()))


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def problem(password: str, username: str) -> str | None:
    """Why the password cannot be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"The password needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password may have at most {MAX_LENGTH} characters."
    if password.lower() in common_passwords():
        return "That password is among the most common ones; choose another."
    if password.lower() == username.lower():
        return "The password cannot be the username."
    return None


def hashed(password: str) -> str:
    return HASHER.hash(password)


def verify(password: str, stored: str | None) -> tuple[bool, str | None]:
    """Whether it matches, and the hash to store instead when the stored one is outdated."""
    if stored is None:
        HASHER.hash(password)  # as slow as a real check, so timing tells nothing
        return False, None
    return HASHER.verify_and_update(password, stored)
