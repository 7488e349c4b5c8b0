"""Opaque cursors for keyset pagination: (sort key, id) of the last item seen."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from barberpro.domain.errors import InvalidValue

Row = TypeVar("Row")


def encode_cursor(moment: datetime, item_id: str) -> str:
    raw = json.dumps([moment.isoformat(), item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, item_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(moment)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidValue("malformed cursor", field="cursor") from exc
    if parsed.tzinfo is None or not isinstance(item_id, str):
        raise InvalidValue("malformed cursor", field="cursor")
    return parsed, item_id


def sweep(
    read: Callable[[tuple[datetime, str] | None], list[Row]], key: Callable[[Row], tuple[datetime, str]]
) -> Iterator[Row]:
    """Every row a job's query finds, page after page: `read(after)` returns the page after the
    key of the last row read, so rows a run leaves as they were cannot hide the rest."""
    after: tuple[datetime, str] | None = None
    while page := read(after):
        yield from page
        after = key(page[-1])
