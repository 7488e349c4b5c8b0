"""Credentials the process has already verified, so the load shedder can rank by them.

The load shedder decides from the raw request alone, before any authentication: if the
mere presence of an `Authorization: Bearer` header or a session cookie ranked a request as
staff, anyone could claim the staff share under overload with a made-up header. The auth
dependency records a digest of every credential it verified; the shedder ranks a request as
staff only when its credential's digest is in that set, and as anonymous otherwise. A real
staff member's first request to a process (before any verification there) therefore ranks
as anonymous; every later one as staff.

Per process, bounded (the set is cleared when full; entries then come back with the next
verified request of each caller). Only digests are kept, never the credentials.
"""

from __future__ import annotations

import hashlib


def digest(secret: bytes) -> bytes:
    return hashlib.blake2b(secret, digest_size=16).digest()


class VerifiedCredentials:
    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._digests: set[bytes] = set()

    def add(self, secret: bytes) -> None:
        """Called after the credential was verified (any thread)."""
        if len(self._digests) >= self.max_entries:
            self._digests = set()
        self._digests.add(digest(secret))

    def verified(self, secret: bytes) -> bool:
        return bool(secret) and digest(secret) in self._digests

    def __len__(self) -> int:
        return len(self._digests)
