"""Field encryption at rest: AES-256-GCM with a key ring, and blind indexes for lookups.

A ciphertext is text: ``enc1:<key id>:<urlsafe base64 of nonce + ciphertext + tag>``. The
key id names the key that sealed it, so old rows stay readable after a new key is added
(the newest key is first in ``FIELD_ENCRYPTION_KEYS``) and ``rotate_encryption_keys`` can
find rows still sealed with an old one. The column's name is bound in as associated data:
a ciphertext copied into another column does not decrypt.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext that is malformed, was tampered with, or whose key is not in the ring."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    current_id: str

    @classmethod
    def parse(cls, spec: str) -> "KeyRing":
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep or not kid or ":" in kid:
                raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS entries must be 'kid:base64key'")
            try:
                key = _b64decode(encoded)
            except ValueError:
                raise ImproperlyConfigured(f"encryption key {kid!r} is not valid base64") from None
            if len(key) != 32:
                raise ImproperlyConfigured(f"encryption key {kid!r} must be 32 bytes")
            if kid in keys:
                raise ImproperlyConfigured(f"encryption key id {kid!r} appears twice")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key")
        return cls(keys=keys, current_id=order[0])


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def _ring_for(spec: str) -> KeyRing:
    return KeyRing.parse(spec)


def key_ring() -> KeyRing:
    return _ring_for(settings.FIELD_ENCRYPTION_KEYS)


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def encrypt(plaintext: str, *, context: str) -> str:
    ring = key_ring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(nonce, plaintext.encode(), context.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{PREFIX}:{ring.current_id}:{body}"


def key_id_of(ciphertext: str) -> str:
    prefix, kid, _ = _split(ciphertext)
    return kid


def _split(ciphertext: str) -> tuple[str, str, str]:
    parts = ciphertext.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError("not a ciphertext")
    return parts[0], parts[1], parts[2]


def decrypt(ciphertext: str, *, context: str) -> str:
    _, kid, body = _split(ciphertext)
    key = key_ring().keys.get(kid)
    if key is None:
        raise DecryptionError(f"no key {kid!r} in the key ring")
    try:
        raw = _b64decode(body)
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except Exception as exc:  # InvalidTag, bad base64, short input
        raise DecryptionError("ciphertext does not authenticate") from exc
    return plain.decode()


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash for exact-match lookups of an encrypted value, never reversible."""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
