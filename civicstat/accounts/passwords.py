"""Password hashes for built-in accounts: salted scrypt (stdlib hashlib), checked in constant time.

A stored hash reads `scrypt$N$r$p$<salt>$<key>` (salt and key in unpadded url-safe base64), so
the cost can be raised later without invalidating the hashes already stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
COST_N, BLOCK_R, PARALLEL_P = 2**15, 8, 1  # 32 MiB and about 0.1 s per check
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PASSWORD_LENGTH = 10


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
        maxmem=2 * 128 * n * r * p + 2**20,
    )


def hash_password(password: str) -> str:
    """A new salted hash of `password`, ready to store."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, COST_N, BLOCK_R, PARALLEL_P, KEY_BYTES)
    return f"{SCHEME}${COST_N}${BLOCK_R}${PARALLEL_P}${_b64(salt)}${_b64(key)}"


def is_valid_hash(stored: str) -> bool:
    """Whether `stored` looks like a hash this module wrote."""
    return _parse(stored) is not None


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None
    if n < 2 or n & (n - 1) or not (1 <= r <= 64 and 1 <= p <= 16) or not salt or not key:
        return None
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored` (False for a malformed hash)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p, len(key)), key)


# Checked against when the account name is unknown, so that a wrong name costs as much time as a
# wrong password and the response time does not tell which names exist.
_DECOY = f"{SCHEME}${COST_N}${BLOCK_R}${PARALLEL_P}${_b64(b'civicstat-decoy!')}${_b64(bytes(KEY_BYTES))}"


def spend_equal_time(password: str) -> None:
    """Do the work of one check and throw the answer away."""
    verify_password(password, _DECOY)


def password_problem(password: str) -> str | None:
    """Why `password` may not be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if password != password.strip():
        return "the password may not start or end with a space"
    return None
