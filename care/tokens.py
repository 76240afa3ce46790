"""Personal links' tokens (a survey, an agreement to sign, a video hearing): random, sent once by
SMS, and kept only as their sha256."""

import hashlib
import re
import secrets

TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_token() -> tuple[str, str]:
    """A new token and its hash (the hash is what is stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def well_formed(token) -> bool:
    return isinstance(token, str) and TOKEN_RE.fullmatch(token) is not None
