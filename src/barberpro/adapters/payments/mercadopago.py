"""MercadoPago REST client (Checkout Pro preferences, payments, refunds) over httpx.

The official SDK is synchronous `requests` without a way to inject a transport; httpx lets
the tests run the real client against a fake through `httpx.MockTransport`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from barberpro.application.payment_ports import (
    CheckoutRequest,
    GatewayAccount,
    GatewayPayment,
    GatewayRefund,
    GatewayUnauthorized,
    GatewayUnavailable,
    Preference,
)

API_URL = "https://api.mercadopago.com"


def _when(raw: str | None) -> datetime:
    if not raw:
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)


def _mp_time(moment: datetime) -> str:
    """MercadoPago wants ISO 8601 with milliseconds and an offset."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def payment_from(data: dict[str, Any]) -> GatewayPayment:
    return GatewayPayment(
        id=str(data["id"]),
        status=str(data.get("status", "")),
        status_detail=str(data.get("status_detail", "")),
        external_reference=str(data.get("external_reference") or ""),
        amount=Decimal(str(data.get("transaction_amount", "0"))).quantize(Decimal("0.01")),
        refunded_amount=Decimal(str(data.get("transaction_amount_refunded", "0"))).quantize(Decimal("0.01")),
        updated_at=_when(data.get("date_last_updated")),
        currency=str(data.get("currency_id", "ARS")),
    )


class MercadoPagoGateway:
    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = API_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        collector_id: str | None = None,
        marketplace_fee_percent: Decimal = Decimal("0"),
    ) -> None:
        self.collector_id = collector_id  # a shop's MercadoPago user id; None for the platform's account
        # The platform's commission on checkouts it creates for a seller who authorised its
        # application (OAuth): MercadoPago pays it to the platform out of each payment.
        self.marketplace_fee_percent = marketplace_fee_percent
        self._client = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise GatewayUnavailable(f"MercadoPago did not answer: {type(error).__name__}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnavailable(f"MercadoPago answered {response.status_code}")
        if response.status_code == 401:
            raise GatewayUnauthorized(f"MercadoPago refused the access token ({method} {path})")
        return response

    def current_account(self) -> GatewayAccount:
        response = self._call("GET", "/users/me")
        response.raise_for_status()
        data = response.json()
        return GatewayAccount(
            id=str(data["id"]), site_id=str(data.get("site_id", "")), nickname=str(data.get("nickname", ""))
        )

    def create_preference(self, request: CheckoutRequest) -> Preference:
        body = {
            "items": [
                {
                    "id": request.booking_id,
                    "title": request.title[:250],
                    "quantity": 1,
                    "currency_id": "ARS",
                    "unit_price": float(request.amount),
                }
            ],
            "payer": {"name": request.payer_name, "email": request.payer_email},
            "external_reference": request.booking_id,
            "back_urls": {
                "success": request.back_url,
                "pending": request.back_url,
                "failure": request.back_url,
            },
            "auto_return": "approved",
            "notification_url": request.notification_url,
            # The preference dies with the slot hold: nobody pays for a slot already released.
            "expires": True,
            "expiration_date_to": _mp_time(request.expires_at),
            "date_of_expiration": _mp_time(request.expires_at),
            "binary_mode": True,
        }
        if self.marketplace_fee_percent > 0:
            fee = (request.amount * self.marketplace_fee_percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            body["marketplace_fee"] = float(fee)
        response = self._call("POST", "/checkout/preferences", json=body)
        response.raise_for_status()
        data = response.json()
        return Preference(id=str(data["id"]), checkout_url=str(data["init_point"]))

    def get_payment(self, payment_id: str) -> GatewayPayment | None:
        response = self._call("GET", f"/v1/payments/{payment_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return payment_from(response.json())

    def payments_for(self, external_reference: str) -> list[GatewayPayment]:
        response = self._call(
            "GET",
            "/v1/payments/search",
            params={"external_reference": external_reference, "sort": "date_created", "criteria": "desc"},
        )
        response.raise_for_status()
        return [payment_from(item) for item in response.json().get("results", [])]

    def refund(self, payment_id: str, amount: Decimal, idempotency_key: str) -> GatewayRefund:
        response = self._call(
            "POST",
            f"/v1/payments/{payment_id}/refunds",
            json={"amount": float(amount)},
            headers={"X-Idempotency-Key": idempotency_key},
        )
        response.raise_for_status()
        data = response.json()
        return GatewayRefund(id=str(data["id"]), amount=Decimal(str(data["amount"])).quantize(Decimal("0.01")))
