"""Threat detection over sliding windows: credential stuffing and booking-flow abuse.

Pure and clock-injected. The gateway feeds it what it sees (failed log-ins, booking
creations and cancellations per client address) and acts on the detections it returns.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field


def fingerprint(value: str) -> str:
    """Accounts are tracked by a short hash: the detector never holds e-mail addresses."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Detection:
    kind: str  # "credential_stuffing_ip", "credential_stuffing_wide", "booking_abuse"
    subject: str  # the client address, or "*" for a pattern across addresses
    detail: dict[str, object] = field(default_factory=dict)


def progressive_delay(failures: int, *, free: int = 3, base: float = 0.25, cap: float = 4.0) -> float:
    """Seconds to hold a log-in attempt after `failures` recent failures from its address."""
    if failures < free:
        return 0.0
    return min(cap, base * 2.0 ** (failures - free))


class CredentialStuffingDetector:
    """Failed log-ins on many distinct accounts: from one address, or across all addresses."""

    def __init__(
        self,
        *,
        window: float = 600.0,
        accounts_per_ip: int = 5,
        accounts_overall: int = 20,
        realert_after: float = 600.0,
    ) -> None:
        self.window = window
        self.accounts_per_ip = accounts_per_ip
        self.accounts_overall = accounts_overall
        self.realert_after = realert_after
        self._events: deque[tuple[float, str, str]] = deque()  # (time, ip, account)
        self._alerted: dict[str, float] = {}

    def failed_login(self, now: float, ip: str, account: str) -> list[Detection]:
        self._events.append((now, ip, fingerprint(account)))
        while self._events and self._events[0][0] < now - self.window:
            self._events.popleft()
        if len(self._events) > 100_000:  # bounded memory under a flood
            self._events.popleft()
        detections = []
        from_ip = {acc for _, source, acc in self._events if source == ip}
        if len(from_ip) >= self.accounts_per_ip and self._fresh(now, "ip:" + ip):
            detections.append(
                Detection("credential_stuffing_ip", ip, {"accounts": len(from_ip), "window_s": self.window})
            )
        accounts = {acc for _, _, acc in self._events}
        if len(accounts) >= self.accounts_overall and self._fresh(now, "*"):
            sources = len({source for _, source, _ in self._events})
            detections.append(
                Detection(
                    "credential_stuffing_wide",
                    "*",
                    {"accounts": len(accounts), "addresses": sources, "window_s": self.window},
                )
            )
        return detections

    def _fresh(self, now: float, key: str) -> bool:
        last = self._alerted.get(key)
        if last is not None and now - last < self.realert_after:
            return False
        self._alerted[key] = now
        return True


class BookingAbuseDetector:
    """Bots creating and cancelling bookings, or hoarding slots, from one address in one tenant.

    Flags an address when, within `window`, it created at least `max_creations` bookings
    (hoarding) or cancelled at least `max_cancellations` of its own recent bookings (churn).
    A flagged address stays flagged for `penalty` seconds.
    """

    def __init__(
        self,
        *,
        window: float = 3600.0,
        max_creations: int = 6,
        max_cancellations: int = 4,
        penalty: float = 3600.0,
    ) -> None:
        self.window = window
        self.max_creations = max_creations
        self.max_cancellations = max_cancellations
        self.penalty = penalty
        self._created: dict[tuple[str, str], deque[float]] = {}
        self._cancelled: dict[tuple[str, str], deque[float]] = {}
        self._flagged: dict[tuple[str, str], float] = {}

    def flagged(self, now: float, tenant: str, ip: str) -> float:
        """Seconds the address remains throttled in this tenant (0: not flagged)."""
        until = self._flagged.get((tenant, ip))
        if until is None or until <= now:
            self._flagged.pop((tenant, ip), None)
            return 0.0
        return until - now

    def booking_created(self, now: float, tenant: str, ip: str) -> Detection | None:
        return self._count(self._created, now, tenant, ip)

    def booking_cancelled(self, now: float, tenant: str, ip: str) -> Detection | None:
        return self._count(self._cancelled, now, tenant, ip)

    def _count(self, table: dict[tuple[str, str], deque[float]], now: float, tenant: str, ip: str) -> Detection | None:
        if len(table) > 50_000:
            table.clear()  # bounded memory: forgetting old addresses is the safe failure
        times = table.setdefault((tenant, ip), deque())
        times.append(now)
        while times and times[0] < now - self.window:
            times.popleft()
        created = len(self._created.get((tenant, ip), ()))
        cancelled = len(self._cancelled.get((tenant, ip), ()))
        if created < self.max_creations and cancelled < self.max_cancellations:
            return None
        if self.flagged(now, tenant, ip):
            return None
        self._flagged[(tenant, ip)] = now + self.penalty
        reason = "slot_hoarding" if created >= self.max_creations else "create_cancel_churn"
        return Detection(
            "booking_abuse",
            ip,
            {"tenant": tenant, "reason": reason, "created": created, "cancelled": cancelled, "window_s": self.window},
        )
