"""Credential stuffing and booking abuse detection."""

from __future__ import annotations

from barberpro.ops.gateway.threats import (
    BookingAbuseDetector,
    CredentialStuffingDetector,
    fingerprint,
    progressive_delay,
)


def test_progressive_delay_grows_and_is_capped() -> None:
    delays = [progressive_delay(n) for n in range(10)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:6] == [0.25, 0.5, 1.0]
    assert max(delays) == 4.0 and delays == sorted(delays)


def test_one_address_many_accounts_alerts_once() -> None:
    detector = CredentialStuffingDetector(accounts_per_ip=5, accounts_overall=1_000)
    found = [d for i in range(12) for d in detector.failed_login(float(i), "1.2.3.4", f"user{i}@x.com")]
    assert [d.kind for d in found] == ["credential_stuffing_ip"]
    assert found[0].subject == "1.2.3.4" and found[0].detail["accounts"] == 5


def test_one_account_many_failures_is_brute_force_not_stuffing() -> None:
    detector = CredentialStuffingDetector(accounts_per_ip=5, accounts_overall=20)
    assert not [d for i in range(50) for d in detector.failed_login(float(i), "1.2.3.4", "owner@x.com")]


def test_pattern_across_many_addresses_alerts() -> None:
    detector = CredentialStuffingDetector(accounts_per_ip=5, accounts_overall=20)
    found = [d for i in range(25) for d in detector.failed_login(float(i), f"10.0.{i}.1", f"u{i}@x.com")]
    assert [d.kind for d in found] == ["credential_stuffing_wide"]
    assert found[0].detail["addresses"] == 20


def test_old_failures_leave_the_window() -> None:
    detector = CredentialStuffingDetector(window=60, accounts_per_ip=5)
    for i in range(4):
        assert not detector.failed_login(i * 100.0, "1.2.3.4", f"u{i}@x.com")


def test_accounts_are_hashed() -> None:
    assert fingerprint(" Owner@X.com ") == fingerprint("owner@x.com")
    assert "@" not in fingerprint("owner@x.com")


def test_slot_hoarding_is_flagged_per_tenant_and_address() -> None:
    detector = BookingAbuseDetector(max_creations=6, penalty=3600)
    results = [detector.booking_created(float(i), "t1", "5.5.5.5") for i in range(6)]
    assert results[:5] == [None] * 5
    assert results[5] is not None and results[5].detail["reason"] == "slot_hoarding"
    assert detector.flagged(10.0, "t1", "5.5.5.5") > 3500
    assert detector.flagged(10.0, "t2", "5.5.5.5") == 0
    assert detector.flagged(10.0, "t1", "6.6.6.6") == 0
    assert detector.flagged(4000.0, "t1", "5.5.5.5") == 0


def test_create_cancel_churn_is_flagged() -> None:
    detector = BookingAbuseDetector(max_creations=100, max_cancellations=4)
    found = None
    for i in range(4):
        detector.booking_created(float(i), "t", "7.7.7.7")
        found = detector.booking_cancelled(float(i) + 0.5, "t", "7.7.7.7") or found
    assert found is not None and found.detail["reason"] == "create_cancel_churn"
