"""A customer's consent to the shop's privacy notice (Ley 25.326 Art. 5): when, to which notice, how.

The record is evidence the shop keeps: it holds no personal data of its own, only the ids of the
customer and the booking it came with, the version of the notice that was shown, the instant
and the channel. The notice version is a digest of the notice's own text, so a changed notice
is a new version without anyone having to remember to number it.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from barberpro.domain.errors import InvalidValue

NOTICE_VERSION_LENGTH = 12  # hex digits of SHA-256: 48 bits, plenty for a handful of notice texts


class ConsentChannel(enum.StrEnum):
    WEB = "web"
    API = "api"


def notice_version(source: str) -> str:
    """The version of a notice: the first hex digits of the SHA-256 of its exact text."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:NOTICE_VERSION_LENGTH]


@dataclass(frozen=True)
class PrivacyConsent:
    id: str
    tenant_id: str
    customer_id: str
    booking_id: str
    notice_version: str
    granted_at: datetime
    channel: ConsentChannel

    def __post_init__(self) -> None:
        if self.granted_at.tzinfo is None:
            raise InvalidValue("granted_at must be timezone-aware", field="granted_at")
        if self.granted_at.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "granted_at", self.granted_at.astimezone(UTC))
        if not self.notice_version or len(self.notice_version) > 64:
            raise InvalidValue("notice version must be 1 to 64 characters", field="notice_version")
        try:
            object.__setattr__(self, "channel", ConsentChannel(self.channel))
        except ValueError as exc:
            raise InvalidValue("channel must be web or api", field="channel") from exc
