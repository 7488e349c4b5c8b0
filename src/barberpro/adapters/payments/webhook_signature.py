"""MercadoPago webhook signatures: `x-signature: ts=<ts>,v1=<hex HMAC-SHA256>`.

The signed manifest is `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`, keyed with the
application's webhook secret. A part is left out of the manifest when it is absent, as
MercadoPago does. Comparison is constant-time; an old or future timestamp is refused so
that a captured notification cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The notification was not signed by MercadoPago with our secret (or is too old)."""


@dataclass(frozen=True)
class SignatureHeader:
    ts: str
    v1: str


def parse_signature(header: str | None) -> SignatureHeader:
    if not header:
        raise InvalidSignature("missing x-signature")
    parts: dict[str, str] = {}
    for piece in header.split(","):
        key, sep, value = piece.strip().partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    if not parts.get("ts") or not parts.get("v1"):
        raise InvalidSignature("x-signature needs ts and v1")
    return SignatureHeader(parts["ts"], parts["v1"])


def manifest(data_id: str | None, request_id: str | None, ts: str) -> str:
    # MercadoPago lower-cases alphanumeric ids before signing.
    text = f"id:{data_id.lower()};" if data_id else ""
    if request_id:
        text += f"request-id:{request_id};"
    return text + f"ts:{ts};"


def sign(secret: str, data_id: str | None, request_id: str | None, ts: str) -> str:
    message = manifest(data_id, request_id, ts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, data_id: str | None, request_id: str | None, ts: str) -> str:
    return f"ts={ts},v1={sign(secret, data_id, request_id, ts)}"


def _seconds(ts: str) -> float:
    value = float(ts)
    return value / 1000 if value > 10_000_000_000 else value  # milliseconds or seconds


def verify(
    secret: str,
    header: str | None,
    *,
    data_id: str | None,
    request_id: str | None,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> SignatureHeader:
    if not secret:
        raise InvalidSignature("no webhook secret configured")
    parsed = parse_signature(header)
    expected = sign(secret, data_id, request_id, parsed.ts)
    if not hmac.compare_digest(expected, parsed.v1.lower()):
        raise InvalidSignature("signature does not match")
    try:
        age = now.timestamp() - _seconds(parsed.ts)
    except ValueError as error:
        raise InvalidSignature("ts is not a number") from error
    if abs(age) > tolerance_seconds:
        raise InvalidSignature("signature timestamp outside the accepted window")
    return parsed
