"""Threat detection over sliding windows: credential stuffing and booking-flow abuse.

The gateway feeds it what it sees (failed log-ins, booking creations and cancellations per
client address) and acts on the detections it returns. The windows, the alert de-duplication
and the throttles live in the key-value store: with Redis, every API replica counts into the
same windows, so an attacker spreading requests over N replicas is not N times as free, and
one replica's alert is not raised again by the others. Time is the store's clock.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from barberpro.adapters.kv.store import KeyValueStore


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
        store: KeyValueStore,
        *,
        window: float = 600.0,
        accounts_per_ip: int = 5,
        accounts_overall: int = 20,
        realert_after: float = 600.0,
    ) -> None:
        self.store = store
        self.window = window
        self.accounts_per_ip = accounts_per_ip
        self.accounts_overall = accounts_overall
        self.realert_after = realert_after

    async def failed_login(self, ip: str, account: str) -> list[Detection]:
        hashed = fingerprint(account)
        from_ip = await self.store.window_add(f"threat|stuffing|accounts|{ip}", hashed, self.window)
        accounts = await self.store.window_add("threat|stuffing|accounts", hashed, self.window)
        sources = await self.store.window_add("threat|stuffing|addresses", ip, self.window)
        detections = []
        if from_ip >= self.accounts_per_ip and await self._fresh("ip|" + ip):
            detections.append(Detection("credential_stuffing_ip", ip, {"accounts": from_ip, "window_s": self.window}))
        if accounts >= self.accounts_overall and await self._fresh("*"):
            detections.append(
                Detection(
                    "credential_stuffing_wide",
                    "*",
                    {"accounts": accounts, "addresses": sources, "window_s": self.window},
                )
            )
        return detections

    async def _fresh(self, subject: str) -> bool:
        """One alert per subject per `realert_after`, whichever replica saw it first."""
        return await self.store.claim("threat|stuffing|alerted|" + subject, self.realert_after)


def _abuse_key(kind: str, tenant: str, ip: str) -> str:
    return f"threat|abuse|{kind}|{tenant}|{ip}"


class BookingAbuseDetector:
    """Bots creating and cancelling bookings, or hoarding slots, from one address in one tenant.

    Flags an address when, within `window`, it created at least `max_creations` bookings
    (hoarding) or cancelled at least `max_cancellations` of its own recent bookings (churn).
    A flagged address stays flagged for `penalty` seconds.
    """

    def __init__(
        self,
        store: KeyValueStore,
        *,
        window: float = 3600.0,
        max_creations: int = 6,
        max_cancellations: int = 4,
        penalty: float = 3600.0,
    ) -> None:
        self.store = store
        self.window = window
        self.max_creations = max_creations
        self.max_cancellations = max_cancellations
        self.penalty = penalty

    async def flagged(self, tenant: str, ip: str) -> float:
        """Seconds the address remains throttled in this tenant (0: not flagged)."""
        return await self.store.held_for(_abuse_key("flagged", tenant, ip))

    async def booking_created(self, tenant: str, ip: str) -> Detection | None:
        return await self._noted("created", tenant, ip)

    async def booking_cancelled(self, tenant: str, ip: str) -> Detection | None:
        return await self._noted("cancelled", tenant, ip)

    async def _noted(self, event: str, tenant: str, ip: str) -> Detection | None:
        # Each event is its own member: the window counts events, not distinct values.
        await self.store.window_add(_abuse_key(event, tenant, ip), uuid.uuid4().hex, self.window)
        created = await self.store.window_count(_abuse_key("created", tenant, ip), self.window)
        cancelled = await self.store.window_count(_abuse_key("cancelled", tenant, ip), self.window)
        if created < self.max_creations and cancelled < self.max_cancellations:
            return None
        if not await self.store.claim(_abuse_key("flagged", tenant, ip), self.penalty):
            return None  # flagged already (here or by another replica)
        reason = "slot_hoarding" if created >= self.max_creations else "create_cancel_churn"
        return Detection(
            "booking_abuse",
            ip,
            {"tenant": tenant, "reason": reason, "created": created, "cancelled": cancelled, "window_s": self.window},
        )
