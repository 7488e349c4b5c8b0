"""The embedded event bus: handlers called in the publishing thread, errors isolated."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from barberpro.domain.events import DomainEvent

Handler = Callable[[DomainEvent], None]
log = logging.getLogger(__name__)


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.published = 0

    def subscribe(self, name: str, handler: Handler) -> None:
        """`name` is an event name, or "*" for every event."""
        self._handlers[name].append(handler)

    def publish(self, event: DomainEvent) -> None:
        self.published += 1
        for handler in (*self._handlers.get(event.name, ()), *self._handlers.get("*", ())):
            try:
                handler(event)
            except Exception:  # one failing consumer must not stop the others
                log.exception("event handler failed", extra={"event": event.name})
