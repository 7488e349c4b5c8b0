"""The version of the privacy notice a customer accepts when booking.

The notice is the template `_privacy_notice.html` (shown above the consent checkbox of the
booking form; it links to the full page at /privacidad). Its version is a digest of the
template's source text, read once per process: editing the notice changes the version that
new consents record, with nothing to bump by hand.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from barberpro.domain.consent import notice_version

NOTICE_TEMPLATE = "_privacy_notice.html"


def notice_source() -> str:
    return (resources.files("barberpro.entrypoints.web") / "templates" / NOTICE_TEMPLATE).read_text(encoding="utf-8")


@cache
def current_notice_version() -> str:
    """The version of the notice this release shows (computed on first use, then kept)."""
    return notice_version(notice_source())
