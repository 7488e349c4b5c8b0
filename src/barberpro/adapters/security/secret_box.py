"""Secrets stored in the database (a shop's MercadoPago credentials) are sealed with AES-256-GCM.

The key comes from the environment (`BARBERPRO_SECRETS_KEY`, 32 bytes in base64), never from
the database, so a copy of the database or of a backup does not hold usable credentials.
Each value is bound to where it belongs (associated data: tenant and field), so a sealed
value copied onto another tenant's row, or into another field, does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
NONCE_SIZE = 12


class SecretBoxError(ValueError):
    """A sealed value that does not open with this key and place (tampered, moved or another key)."""


def new_secrets_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class SecretBox:
    def __init__(self, key_b64: str) -> None:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except ValueError as error:
            raise ValueError("BARBERPRO_SECRETS_KEY must be base64") from error
        if len(key) != 32:
            raise ValueError("BARBERPRO_SECRETS_KEY must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, place: str) -> str:
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), place.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, place: str) -> str:
        if not sealed.startswith(PREFIX):
            raise SecretBoxError(f"{place}: not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
            return self._aead.decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], place.encode()).decode()
        except (InvalidTag, ValueError) as error:
            raise SecretBoxError(f"{place}: the sealed value does not open with this key") from error
