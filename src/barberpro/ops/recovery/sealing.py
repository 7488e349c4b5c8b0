"""Backups are encrypted at rest (AES-256-GCM) and checksummed (SHA-256 of the plaintext).

GCM authenticates every byte, so a flipped bit or a wrong key is refused before any page
reaches the restored database; the SHA-256 links each piece of the chain to the next.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"BPBK1\n"
NONCE_SIZE = 12


class SealError(ValueError):
    """A backup object that is corrupted, truncated or sealed with another key."""


def load_key(encoded: str) -> bytes:
    key = base64.b64decode(encoded)
    if len(key) != 32:
        raise ValueError("the backup key must be 32 bytes, base64-encoded")
    return key


def new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def seal(plaintext: bytes, key: bytes, label: str) -> bytes:
    """`label` (the object's name) is bound as associated data: objects cannot be swapped."""
    nonce = os.urandom(NONCE_SIZE)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, label.encode())


def unseal(blob: bytes, key: bytes, label: str) -> bytes:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE_SIZE + 16:
        raise SealError(f"{label}: not a BarberPro backup object (truncated or foreign)")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_SIZE]
    try:
        return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_SIZE :], label.encode())
    except InvalidTag as error:
        raise SealError(f"{label}: fails authentication (corrupted, or sealed with another key)") from error


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
