"""Secret links: tokens are emailed, only their hashes are stored.

A SHA-256 of a 256-bit random token is safe to index and look up directly
(no salt needed: the input is not guessable), and the final comparison is done
in constant time so response timing reveals nothing about near misses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 32  # 256 bits, well above the 128 required
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")


def new_token() -> tuple[str, str]:
    """A fresh (token, token_hash) pair; store the hash, email the token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_token(candidate: str) -> bool:
    """Cheap shape check so garbage never reaches the database or the hasher."""
    return bool(_TOKEN_SHAPE.match(candidate or ""))


def token_matches(candidate: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(candidate), stored_hash)
