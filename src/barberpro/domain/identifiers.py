"""Identifiers: UUID4 strings, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
