"""Signed manage tokens: a customer's key to one booking, sent back at creation.

HMAC-SHA256 over tenant and booking id with the server secret; stateless, compared in
constant time. Rotating the secret revokes every outstanding link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_PREFIX = b"barberpro-manage-v1"


def _mac(secret: bytes, tenant_id: str, booking_id: str) -> str:
    digest = hmac.new(secret, b"|".join([_PREFIX, tenant_id.encode(), booking_id.encode()]), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode().rstrip("=")


def issue_manage_token(secret: bytes, tenant_id: str, booking_id: str) -> str:
    return f"{booking_id}.{_mac(secret, tenant_id, booking_id)}"


def verify_manage_token(secret: bytes, tenant_id: str, booking_id: str, token: str) -> bool:
    claimed_id, _, mac = token.partition(".")
    expected = _mac(secret, tenant_id, booking_id)
    return hmac.compare_digest(claimed_id.encode(), booking_id.encode()) & hmac.compare_digest(
        mac.encode(), expected.encode()
    )
