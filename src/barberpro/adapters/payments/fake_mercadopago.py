"""An in-memory MercadoPago API with the shapes of the real one, for tests and development.

Serve it to the real client through `httpx.MockTransport(fake.handle)`. Like MercadoPago,
refunds honour `X-Idempotency-Key` (the same key returns the same refund and pays nothing
more) and a refund larger than what is left is refused. Each access token acts for one
account (`accounts`; the platform's `TEST-token` by default, shops' via `add_account`): a
payment belongs to the account whose preference was paid, and another account's token sees
404 for it, as at MercadoPago; an unknown token gets 401.

OAuth: `authorize` is what a seller's consent on MercadoPago's authorization page does (a
one-time code bound to the platform application, the redirect URI and the PKCE challenge);
POST /oauth/token exchanges it, with the application's secret and the verifier, for an access
token (180 days) and a single-use refresh token, and exchanges a refresh token for a new pair
(the old access token stops working). `revoke` is the seller withdrawing the authorisation.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx

from barberpro.adapters.payments.mercadopago_oauth import pkce_challenge


@dataclass
class FakePayment:
    id: int
    external_reference: str
    amount: Decimal
    status: str
    status_detail: str
    updated_at: datetime
    refunded: Decimal = Decimal("0.00")
    collector: str = "platform"  # the account that was paid

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "status_detail": self.status_detail,
            "external_reference": self.external_reference,
            "transaction_amount": float(self.amount),
            "transaction_amount_refunded": float(self.refunded),
            "currency_id": "ARS",
            "date_last_updated": self.updated_at.isoformat(timespec="milliseconds"),
        }


@dataclass
class FakeMercadoPago:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    preferences: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[int, FakePayment] = field(default_factory=dict)
    refunds_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: list[Decimal] = field(default_factory=list)  # money actually returned to customers
    fail_next: int = 0  # answer the next N calls with 503 (after doing nothing)
    drop_after_refund: int = 0  # perform the next N refunds, then lose the answer
    accounts: dict[str, str] = field(default_factory=lambda: {"TEST-token": "platform"})  # token -> user id
    sites: dict[str, str] = field(default_factory=dict)  # user id -> site (MLA unless said)
    client_id: str = "4455667788990011"  # the platform's MercadoPago application (OAuth)
    client_secret: str = "fake-client-secret-0123456789"  # noqa: S105 - the fake's own, not a real one
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> whose, for whom, challenge
    refresh_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # refresh -> (user, access token)
    token_requests: list[dict[str, str]] = field(default_factory=list)  # every /oauth/token form received
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what a customer (or MercadoPago) does -----------------------------------------------

    def add_account(self, user_id: str, *, site_id: str = "MLA") -> str:
        """A seller's account and an access token for it (as its application's credentials page shows)."""
        token = f"APP_USR-{next(self._ids)}-{user_id}-fake"
        with self._lock:
            self.accounts[token] = user_id
            self.sites[user_id] = site_id
        return token

    def authorize(self, user_id: str, *, client_id: str, redirect_uri: str, code_challenge: str) -> str:
        """The seller consents on the authorization page: a one-time code for the application."""
        code = f"TG-{secrets.token_hex(12)}-{user_id}"
        with self._lock:
            self.sites.setdefault(user_id, "MLA")
            self.codes[code] = {
                "user_id": user_id,
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "code_challenge": code_challenge,
            }
        return code

    def revoke(self, user_id: str) -> None:
        """The seller withdraws the platform's access: its refresh tokens stop working."""
        with self._lock:
            for refresh, (owner, _) in list(self.refresh_tokens.items()):
                if owner == user_id:
                    del self.refresh_tokens[refresh]

    def pay(self, external_reference: str, *, status: str = "approved", amount: Decimal | None = None) -> str:
        with self._lock:
            preference = next(
                (p for p in self.preferences.values() if p["external_reference"] == external_reference), None
            )
            if amount is None:
                if preference is None:
                    raise KeyError(f"no preference for {external_reference}")
                amount = Decimal(str(preference["items"][0]["unit_price"])).quantize(Decimal("0.01"))
            self.now += timedelta(seconds=1)
            collector = preference["collector_id"] if preference else "platform"
            payment = FakePayment(
                next(self._ids), external_reference, amount, status, "accredited", self.now, collector=collector
            )
            self.payments[payment.id] = payment
            return str(payment.id)

    def set_status(self, payment_id: str, status: str, detail: str = "") -> None:
        with self._lock:
            self.now += timedelta(seconds=1)
            payment = self.payments[int(payment_id)]
            payment.status, payment.status_detail, payment.updated_at = status, detail or status, self.now

    # --- the HTTP API ----------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/oauth/token":
            return self._token(dict(parse_qsl(request.content.decode())))
        header = request.headers.get("authorization", "")
        user = self.accounts.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
        if user is None:
            return httpx.Response(401, json={"message": "invalid access token", "status": 401})
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return httpx.Response(503, json={"message": "service unavailable"})
        path = request.url.path
        if request.method == "GET" and path == "/users/me":
            return httpx.Response(
                200, json={"id": user, "nickname": f"SELLER{user}", "site_id": self.sites.get(user, "MLA")}
            )
        if request.method == "POST" and path == "/checkout/preferences":
            return self._create_preference(json.loads(request.content), user)
        if request.method == "GET" and path == "/v1/payments/search":
            reference = request.url.params.get("external_reference", "")
            with self._lock:
                found = [
                    p.as_json()
                    for p in self.payments.values()
                    if p.external_reference == reference and p.collector == user
                ]
            found.sort(key=lambda item: item["id"], reverse=True)
            return httpx.Response(200, json={"results": found, "paging": {"total": len(found)}})
        parts = path.strip("/").split("/")
        if len(parts) >= 3 and parts[:2] == ["v1", "payments"] and parts[2].isdigit():
            payment_id = int(parts[2])
            if request.method == "GET" and len(parts) == 3:
                with self._lock:
                    payment = self.payments.get(payment_id)
                    return (
                        httpx.Response(200, json=payment.as_json())
                        if payment and payment.collector == user
                        else httpx.Response(404, json={"message": "Payment not found"})
                    )
            if request.method == "POST" and parts[3:] == ["refunds"]:
                return self._refund(payment_id, request, user)
        return httpx.Response(404, json={"message": "not found"})

    def _token(self, form: dict[str, str]) -> httpx.Response:
        refused = httpx.Response(400, json={"error": "invalid_grant", "message": "invalid_grant", "status": 400})
        with self._lock:
            self.token_requests.append(form)
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return httpx.Response(401, json={"error": "invalid_client", "status": 401})
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)  # single use, even when refused
                verifier = form.get("code_verifier", "")
                challenge = pkce_challenge(verifier)
                if (
                    grant is None
                    or grant["client_id"] != self.client_id
                    or grant["redirect_uri"] != form.get("redirect_uri")
                    or grant["code_challenge"] != challenge
                ):
                    return refused
                user = grant["user_id"]
            elif form.get("grant_type") == "refresh_token":
                found = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if found is None:
                    return refused
                user, old_token = found
                self.accounts.pop(old_token, None)
            else:
                return httpx.Response(400, json={"error": "unsupported_grant_type", "status": 400})
            access = f"APP_USR-{next(self._ids)}-{user}-oauth"
            refresh = f"TG-{secrets.token_hex(16)}"
            self.accounts[access] = user
            self.refresh_tokens[refresh] = (user, access)
        return httpx.Response(
            200,
            json={
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 15_552_000,
                "scope": "offline_access payments read write",
                "user_id": int(user) if user.isdigit() else user,
                "refresh_token": refresh,
                "public_key": f"APP_USR-{user}-public",
                "live_mode": True,
            },
        )

    def _create_preference(self, body: dict[str, Any], user: str) -> httpx.Response:
        item = body["items"][0]
        if not body.get("external_reference") or float(item["unit_price"]) <= 0:
            return httpx.Response(400, json={"message": "invalid preference"})
        with self._lock:
            preference_id = f"pref-{next(self._ids)}"
            self.preferences[preference_id] = body | {"id": preference_id, "collector_id": user}
        url = f"https://www.mercadopago.com.ar/checkout/v1/redirect?pref_id={preference_id}"
        return httpx.Response(201, json={"id": preference_id, "init_point": url, "sandbox_init_point": url})

    def _refund(self, payment_id: int, request: httpx.Request, user: str) -> httpx.Response:
        key = request.headers.get("x-idempotency-key")
        if not key:
            return httpx.Response(400, json={"message": "X-Idempotency-Key is required"})
        body = json.loads(request.content or b"{}")
        with self._lock:
            if key in self.refunds_by_key:
                return httpx.Response(201, json=self.refunds_by_key[key])
            payment = self.payments.get(payment_id)
            if payment is None or payment.collector != user:
                return httpx.Response(404, json={"message": "Payment not found"})
            if payment.status not in ("approved", "refunded"):
                return httpx.Response(400, json={"message": f"cannot refund a {payment.status} payment"})
            amount = Decimal(str(body.get("amount") or payment.amount - payment.refunded)).quantize(Decimal("0.01"))
            if amount <= 0 or payment.refunded + amount > payment.amount:
                return httpx.Response(400, json={"message": "amount exceeds the refundable balance"})
            self.now += timedelta(seconds=1)
            payment.refunded += amount
            payment.updated_at = self.now
            if payment.refunded == payment.amount:
                payment.status, payment.status_detail = "refunded", "refunded"
            refund = {"id": next(self._ids), "payment_id": payment_id, "amount": float(amount), "status": "approved"}
            self.refunds_by_key[key] = refund
            self.payouts.append(amount)
            if self.drop_after_refund > 0:
                self.drop_after_refund -= 1
                raise httpx.ReadTimeout("answer lost after the refund was made", request=request)
        return httpx.Response(201, json=refund)
