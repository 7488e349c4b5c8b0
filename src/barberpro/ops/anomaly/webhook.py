"""Signed, retried JSON webhooks for alerts.

The body is compact JSON; the header ``X-BarberPro-Signature: t=<unix>,v1=<hex>`` carries
HMAC-SHA256 over ``"<t>." + body`` with the shared secret (the timestamp lets receivers
refuse replays). Delivery happens on a background thread so a slow receiver never delays
scraping; failures (connection errors, 5xx, 429) are retried with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from typing import Any

import structlog

log = structlog.get_logger("barberpro.anomaly.webhook")

SIGNATURE_HEADER = "X-BarberPro-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, max_age: float = 300.0, now: float | None = None) -> bool:
    """Receiver side: constant-time check of the signature and of the timestamp's freshness."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > max_age:
        return False
    expected = sign(secret, ts, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


class WebhookSender:
    def __init__(self, url: str, secret: str, attempts: int = 4, backoff: float = 0.2, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=1000)
        self._thread = threading.Thread(target=self._run, name="anomaly-webhook", daemon=True)
        self._thread.start()

    def send(self, payload: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            self.failed += 1
            log.error("anomaly.webhook_dropped", reason="queue full")

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=self.timeout) as client:
            while True:
                payload = self._queue.get()
                if payload is None:
                    return
                self._deliver(client, payload)

    def _deliver(self, client: Any, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        for attempt in range(1, self.attempts + 1):
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.secret, int(time.time()), body),
            }
            try:
                response = client.post(self.url, content=body, headers=headers)
                if response.status_code < 300:
                    self.delivered += 1
                    return True
                retryable = response.status_code >= 500 or response.status_code == 429
                log.warning("anomaly.webhook_status", status=response.status_code, attempt=attempt)
                if not retryable:
                    break
            except Exception as exc:  # network errors are retried like 5xx
                log.warning("anomaly.webhook_error", error=str(exc), attempt=attempt)
            if attempt < self.attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        self.failed += 1
        log.error("anomaly.webhook_failed", url=self.url, attempts=self.attempts)
        return False
