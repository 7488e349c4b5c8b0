"""Payments and invoices over HTTP: prepaid checkout, the MercadoPago webhook, refunds, invoices.

`install(app, platform)` adds the routes, the payment metrics, and the consumer that refunds
cancelled prepaid bookings per shop policy (it listens to BookingCancelled on the bus).
"""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, FastAPI, Header, HTTPException, Request
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, Field
from starlette.responses import Response

from barberpro.adapters.payments.services import PaymentServices
from barberpro.adapters.payments.webhook_signature import InvalidSignature, verify
from barberpro.application import bookings as booking_usecases
from barberpro.application import invoicing, mercadopago_accounts, payment_notifications, payments
from barberpro.application.context import Context
from barberpro.application.payment_ports import (
    GatewayUnauthorized,
    GatewayUnavailable,
    Invoice,
    Payment,
    PaymentGateway,
    PaymentMode,
    ShopPaymentSettings,
)
from barberpro.application.permissions import require_role
from barberpro.bootstrap import Platform
from barberpro.domain.booking import SYSTEM
from barberpro.domain.errors import InvalidValue, NotFound, PolicyViolation, Unauthenticated
from barberpro.domain.events import DomainEvent
from barberpro.entrypoints.http.deps import CallerDep, PlatformDep, StaffDep, context
from barberpro.entrypoints.http.problems import problem
from barberpro.entrypoints.http.routes_bookings import booking_response
from barberpro.entrypoints.http.schemas import BookingIn
from barberpro.entrypoints.http.views import JSON

router = APIRouter(prefix="/api/v1", tags=["payments"])
log = logging.getLogger(__name__)
WEBHOOK_PATH = "/api/v1/payments/webhooks/mercadopago"


class PaymentMetrics:
    def __init__(self, registry: Any) -> None:
        self.outcomes = Counter(
            "barberpro_payments_total",
            "Applied payment notifications by outcome (confirmed, rejected, refunded, ignored...).",
            ["outcome"],
            registry=registry,
        )
        self.webhooks = Counter(
            "barberpro_payment_webhooks_total", "MercadoPago webhooks by verdict.", ["verdict"], registry=registry
        )
        self.confirmation = Histogram(
            "barberpro_payment_confirmation_seconds",
            "From checkout to confirmed payment.",
            buckets=(5, 15, 30, 60, 120, 300, 600, 1800),
            registry=registry,
        )
        self.gateway = Histogram(
            "barberpro_payment_gateway_seconds",
            "Latency of MercadoPago API calls made for a notification.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )


def services(platform: Platform) -> PaymentServices:
    found = platform.extras.get("payments")
    if not isinstance(found, PaymentServices):
        found = PaymentServices(platform.database, platform.settings.var_dir, platform.clock.now)
        platform.extras["payments"] = found
    return found


def _system(platform: Platform, tenant_id: str, request_id: str = "payments") -> Context:
    return Context(tenant_id, SYSTEM, request_id, platform.clock.now())


def payment_view(payment: Payment | None) -> dict[str, Any] | None:
    if payment is None:
        return None
    return {
        "id": payment.id,
        "status": payment.status.value,
        "amount": str(payment.amount),
        "paid": str(payment.paid_amount),
        "refunded": str(payment.refunded_amount),
        "checkout_url": payment.checkout_url,
        "hold_until": payment.hold_until.isoformat(),
        "provider_payment_id": payment.provider_payment_id,
        "chargeback": payment.chargeback.value if payment.chargeback else None,
    }


def invoice_view(invoice: Invoice | None) -> dict[str, Any] | None:
    if invoice is None:
        return None
    return {
        "id": invoice.id,
        "kind": invoice.kind,
        "credits_invoice_id": invoice.credits_invoice_id,
        "status": invoice.status.value,
        "letter": invoicing.LETTER.get(invoice.voucher_type),
        "voucher_type": invoice.voucher_type,
        "point_of_sale": invoice.point_of_sale,
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "total": str(invoice.total),
        "net": str(invoice.net),
        "vat": str(invoice.vat),
        "cae": invoice.cae,
        "cae_due": invoice.cae_due.isoformat() if invoice.cae_due else None,
        "observations": invoice.observations,
        "errors": invoice.errors,
        "pdf_url": f"/api/v1/invoices/{invoice.id}/pdf" if invoice.cae else None,
    }


def _correct_invoice(
    platform: Platform, tenant_id: str, booking_id: str, *, or_invoice: bool = False
) -> Invoice | None:
    """After money moved (a refund, a chargeback's change): the credit or debit note the booking's
    invoice needs, if any; with `or_invoice`, the invoice itself for a payment never invoiced."""
    svc = services(platform)
    correct = invoicing.invoice_or_correct if or_invoice else invoicing.correct_invoice
    try:
        return correct(svc.uows, _system(platform, tenant_id), svc.tax_authority, svc.lock, booking_id)
    except Exception:  # `payments reconcile` drafts and issues it later; the refund itself is done
        log.exception("credit or debit note failed", extra={"booking_id": booking_id})
        return None


def _issue_invoice(platform: Platform, tenant_id: str, booking_id: str) -> Invoice | None:
    svc = services(platform)
    try:
        return invoicing.invoice_booking(
            svc.uows, _system(platform, tenant_id), svc.tax_authority, svc.lock, booking_id
        )
    except Exception:  # the invoice job retries; the payment itself is already safe
        log.exception("invoice failed", extra={"booking_id": booking_id})
        return None


@router.post(
    "/payments/checkout",
    status_code=201,
    summary="Book and, where the shop takes prepayment, get the MercadoPago checkout for it",
)
def checkout(
    request: Request,
    body: BookingIn,
    platform: PlatformDep,
    caller: CallerDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSON:
    svc = services(platform)
    ctx = context(request, platform, caller)
    cmd = booking_usecases.BookAppointment(
        shop_id=body.shop_id,
        service_id=body.service_id,
        barber_id=body.barber_id,
        start=body.start,
        customer=booking_usecases.CustomerDetails(**body.customer.model_dump()),
        notes=body.notes,
    )
    result = booking_usecases.book_appointment(
        platform.uow(caller.tenant.id),
        ctx,
        cmd,
        idempotency_key=f"checkout:{idempotency_key}" if idempotency_key else None,
        request_fingerprint=booking_usecases.fingerprint(body.model_dump(mode="json")),
        prepayment=svc.prepayment,
    )
    payment = None
    if result.replayed:
        with svc.uows(caller.tenant.id, write=False) as uow:
            payment = uow.payments.for_booking(result.booking.id)
    if result.booking.status.value == "pending_payment":
        # The tenant's own address: MercadoPago calls back the host that resolves to this tenant.
        base = str(request.base_url).rstrip("/")
        try:
            payment = payments.start_checkout(
                svc.uows,
                ctx,
                svc.gateway_for(caller.tenant.id),
                result.booking.id,
                notification_url=f"{base}{WEBHOOK_PATH}?source_news=webhooks",
                back_url=f"{base}/reservas/{result.booking.id}",
            )
        except GatewayUnavailable as error:  # the booking keeps its hold; retrying gets the checkout
            raise HTTPException(503, f"MercadoPago is unavailable; retry ({error})") from error
    response = booking_response(
        platform, caller, result.booking, with_token=True, status=200 if result.replayed else 201
    )
    payload = orjson.loads(response.body) | {"payment": payment_view(payment)}
    return JSON(payload, status_code=response.status_code)


@router.post(
    "/payments/webhooks/mercadopago",
    summary="MercadoPago notifications (signed with x-signature); answers at once, applies after",
    include_in_schema=True,
)
def mercadopago_webhook(
    request: Request,
    background: BackgroundTasks,
    platform: PlatformDep,
    caller: CallerDep,
    x_signature: Annotated[str | None, Header(alias="x-signature")] = None,
    x_request_id: Annotated[str | None, Header(alias="x-request-id")] = None,
) -> Response:
    svc = services(platform)
    metrics: PaymentMetrics = request.app.state.payment_metrics
    data_id = request.query_params.get("data.id") or request.query_params.get("id")
    topic = request.query_params.get("type") or request.query_params.get("topic") or "payment"
    # The secret that signed it says which account is notifying: the shop's own, or the platform's
    # (a checkout from before the shop connected its account); the payment is fetched from that one.
    # A shop connected by OAuth shares the platform application's secret: every account whose
    # secret verifies is asked, the shop's first (a payment is visible to the account that took it).
    gateways: list[PaymentGateway] = []
    refusal = InvalidSignature("no webhook secret is configured")
    for secret, candidate in svc.notification_accounts(caller.tenant.id):
        try:
            verify(
                secret,
                x_signature,
                data_id=data_id,
                request_id=x_request_id,
                now=platform.clock.now(),
                tolerance_seconds=svc.environment.webhook_tolerance_seconds,
            )
        except InvalidSignature as error:
            refusal = error
            continue
        gateways.append(candidate)
    if not gateways:
        metrics.webhooks.labels("forged").inc()
        raise Unauthenticated(f"webhook signature rejected: {refusal}")
    # Chargebacks also arrive as a "payment" notification (status charged_back); the "chargebacks"
    # topic carries a chargeback id, which is not a payment id, so it is acknowledged and ignored.
    if not data_id or topic != "payment":
        metrics.webhooks.labels("ignored").inc()
        return Response(status_code=200)
    fresh = payment_notifications.receive_notification(
        svc.uows(caller.tenant.id),
        _system(platform, caller.tenant.id, x_request_id or "-"),
        receipt_key=f"{x_request_id}:{data_id}",
        topic=topic,
        data_id=data_id,
    )
    if not fresh:
        metrics.webhooks.labels("replayed").inc()
        return Response(status_code=200)  # the first delivery is (being) applied
    metrics.webhooks.labels("accepted").inc()
    background.add_task(
        _apply_notification, platform, metrics, caller.tenant.id, data_id, x_request_id or "-", gateways
    )
    return Response(status_code=200)


def _apply_notification(
    platform: Platform,
    metrics: PaymentMetrics,
    tenant_id: str,
    payment_id: str,
    request_id: str,
    gateways: list[PaymentGateway],
) -> None:
    svc = services(platform)
    started = time.perf_counter()
    try:
        for gateway in gateways:  # the first account that knows the payment applies it
            applied = payment_notifications.process_notification(
                svc.uows, _system(platform, tenant_id, request_id), gateway, payment_id
            )
            if applied.outcome != "ignored":
                break
    except Exception:  # the reconciliation job picks it up
        metrics.outcomes.labels("error").inc()
        log.exception("payment notification failed", extra={"payment_id": payment_id})
        return
    finally:
        metrics.gateway.observe(time.perf_counter() - started)
    metrics.outcomes.labels(applied.outcome).inc()
    if applied.latency_seconds is not None:
        metrics.confirmation.observe(applied.latency_seconds)
    if applied.outcome == "confirmed" and applied.booking_id:
        _issue_invoice(platform, tenant_id, applied.booking_id)
    elif applied.outcome in ("refunded", "charged_back") and applied.booking_id:
        # Refunded from MercadoPago's side, or a chargeback (credited once settled against the shop,
        # debited back or, never invoiced, invoiced once won).
        _correct_invoice(platform, tenant_id, applied.booking_id, or_invoice=True)


class PaymentSettingsIn(BaseModel):
    mode: PaymentMode
    deposit_percent: int = Field(default=30, ge=1, le=100)
    hold_minutes: int = Field(default=15, ge=5, le=1440)
    late_refund_percent: int = Field(default=0, ge=0, le=100)


@router.put("/shops/{shop_id}/payment-settings", summary="Owner/manager: deposit or prepayment, hold, refunds")
def put_payment_settings(
    request: Request, shop_id: str, body: PaymentSettingsIn, platform: PlatformDep, caller: CallerDep, _s: StaffDep
) -> JSON:
    settings = ShopPaymentSettings(shop_id=shop_id, **body.model_dump())
    payments.configure_shop_payments(
        services(platform).uows(caller.tenant.id), context(request, platform, caller), settings
    )
    return JSON(body.model_dump(mode="json") | {"shop_id": shop_id})


@router.get("/bookings/{booking_id}/payment", summary="Staff: the booking's payment, refunds and invoice")
def get_payment(booking_id: str, platform: PlatformDep, caller: CallerDep, _s: StaffDep) -> JSON:
    with services(platform).uows(caller.tenant.id, write=False) as uow:
        if uow.bookings.get(booking_id) is None:
            raise NotFound("booking not found", field="booking_id")
        payment = uow.payments.for_booking(booking_id)
        refunds = uow.refunds.for_payment(payment.id) if payment else []
        invoice = uow.invoices.for_booking(booking_id)
        notes = uow.invoices.corrections(invoice.id) if invoice else []
    return JSON(
        {
            "payment": payment_view(payment),
            "refunds": [
                {"id": r.id, "amount": str(r.amount), "status": r.status.value, "reason": r.reason} for r in refunds
            ],
            "invoice": invoice_view(invoice),
            "credit_notes": [invoice_view(n) for n in notes if n.is_credit_note],
            "debit_notes": [invoice_view(n) for n in notes if n.is_debit_note],
        }
    )


class RefundIn(BaseModel):
    amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    reason: str = Field(default="", max_length=200)


@router.post("/bookings/{booking_id}/refunds", status_code=201, summary="Owner/manager: refund (full or partial)")
def refund(
    request: Request,
    booking_id: str,
    body: RefundIn,
    platform: PlatformDep,
    caller: CallerDep,
    _s: StaffDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)] = None,
) -> JSON:
    if not idempotency_key:
        raise InvalidValue("refunds need an Idempotency-Key header", field="Idempotency-Key")
    svc = services(platform)
    try:
        made = payments.refund_payment(
            svc.uows,
            context(request, platform, caller),
            svc.gateway_for_booking(caller.tenant.id, booking_id),
            booking_id,
            amount=body.amount,
            idempotency_key=f"staff-{idempotency_key}",
            reason=body.reason or "refund by staff",
        )
    except GatewayUnavailable as error:  # safe to retry with the same Idempotency-Key
        raise HTTPException(503, f"MercadoPago is unavailable; retry with the same key ({error})") from error
    if made is None:
        raise InvalidValue("nothing left to refund", field="amount")
    note = _correct_invoice(platform, caller.tenant.id, booking_id)
    return JSON(
        {"id": made.id, "amount": str(made.amount), "status": made.status.value, "credit_note": invoice_view(note)},
        status_code=201,
    )


class ReceiverIn(BaseModel):
    doc_type: int = 99
    doc_number: str = Field(default="0", max_length=13)
    iva_condition: int = 5
    name: str = Field(default="Consumidor Final", max_length=200)


@router.post("/bookings/{booking_id}/invoice", summary="Staff: issue (or retry) the booking's invoice")
def issue(
    request: Request,
    booking_id: str,
    platform: PlatformDep,
    caller: CallerDep,
    _s: StaffDep,
    body: ReceiverIn | None = None,
) -> JSON:
    svc = services(platform)
    ctx = context(request, platform, caller)
    receiver = invoicing.Receiver.checked(**body.model_dump()) if body else None
    with svc.uows(caller.tenant.id, write=False) as uow:
        existing = uow.invoices.for_booking(booking_id)
    if existing is not None and existing.status.value == "rejected":
        invoicing.retry_rejected(svc.uows(caller.tenant.id), ctx, existing.id, receiver)
    invoice = invoicing.invoice_booking(svc.uows, ctx, svc.tax_authority, svc.lock, booking_id, receiver)
    if invoice is None:
        raise NotFound("this business has no AFIP tax profile yet", field="tax_profile")
    return JSON(invoice_view(invoice))


@router.post(
    "/bookings/{booking_id}/credit-note", summary="Staff: issue (or retry) the credit or debit note the booking needs"
)
def issue_credit_note(
    request: Request, booking_id: str, platform: PlatformDep, caller: CallerDep, _s: StaffDep
) -> JSON:
    """For a credit or debit note AFIP rejected (after its observations were dealt with) or one
    that could not be sent: back to draft and sent again, with the same amount and association."""
    svc = services(platform)
    ctx = context(request, platform, caller)
    try:
        sent = invoicing.resend_rejected(svc.uows, ctx, svc.tax_authority, svc.lock, booking_id)
    except PolicyViolation:  # nothing rejected
        sent = []
    # A note may be due without a rejected one: its drafting failed, or the invoice was authorised
    # only now, after a refund.
    note = next((v for v in sent if v.is_correction), None) or invoicing.correct_invoice(
        svc.uows, ctx, svc.tax_authority, svc.lock, booking_id
    )
    if note is None:
        raise PolicyViolation("nothing to correct: the invoice matches what the customer paid", field="booking_id")
    return JSON(invoice_view(note))


@router.get("/invoices/{invoice_id}/pdf", summary="Staff: the printed invoice with its QR code")
def invoice_pdf(invoice_id: str, platform: PlatformDep, caller: CallerDep, _s: StaffDep) -> Response:
    from barberpro.adapters.invoicing.printed_invoice import render_pdf

    with services(platform).uows(caller.tenant.id, write=False) as uow:
        invoice = uow.invoices.get(invoice_id)
        profile = uow.tax_profiles.get()
        booking = uow.bookings.get(invoice.booking_id) if invoice else None
        shop = uow.shops.get(booking.shop_id) if booking else None
        credited = uow.invoices.get(invoice.credits_invoice_id) if invoice and invoice.credits_invoice_id else None
    if invoice is None or profile is None or invoice.cae is None:
        raise NotFound("no authorised invoice with this id", field="invoice_id")
    pdf = render_pdf(invoice, profile, shop_name=shop.name if shop else "", credited=credited)
    kind = {"invoice": "factura", "credit_note": "nota-de-credito", "debit_note": "nota-de-debito"}[invoice.kind]
    name = f"{kind}-{invoicing.LETTER.get(invoice.voucher_type)}-{invoice.formatted_number}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


def _refund_cancelled(platform: Platform, event: DomainEvent) -> None:
    svc = services(platform)
    try:
        made = payments.refund_for_cancellation(
            svc.uows,
            _system(platform, event.tenant_id),
            svc.gateway_for_booking(event.tenant_id, event.entity_id),
            event.entity_id,
        )
    except Exception:  # retried by `barberpro payments reconcile`; never breaks the relay
        log.exception("cancellation refund failed", extra={"booking_id": event.entity_id})
        return
    if made is not None:
        _correct_invoice(platform, event.tenant_id, event.entity_id)


class MercadoPagoAccountIn(BaseModel):
    access_token: str = Field(min_length=1, max_length=250)
    webhook_secret: str = Field(min_length=1, max_length=128)


def _account_view(platform: Platform, tenant_id: str) -> dict[str, Any]:
    view = mercadopago_accounts.public_view(services(platform).account_of(tenant_id))
    return {"connected": view is not None, **(view or {})}


@router.get("/staff/mercadopago-account", summary="Owner/manager: whether checkouts pay into the shop's own account")
def get_mercadopago_account(request: Request, platform: PlatformDep, caller: CallerDep, _s: StaffDep) -> JSON:
    require_role(context(request, platform, caller))
    return JSON(_account_view(platform, caller.tenant.id))


@router.put(
    "/staff/mercadopago-account",
    summary="Owner: connect the shop's own MercadoPago account (access token and webhook secret)",
)
def put_mercadopago_account(
    request: Request, body: MercadoPagoAccountIn, platform: PlatformDep, caller: CallerDep, _s: StaffDep
) -> JSON:
    svc = services(platform)
    try:
        mercadopago_accounts.connect_mercadopago_account(
            svc.uows(caller.tenant.id),
            context(request, platform, caller),
            svc.gateway_with,
            access_token=body.access_token,
            webhook_secret=body.webhook_secret,
        )
    except GatewayUnavailable as error:
        raise HTTPException(503, f"MercadoPago is unavailable; retry ({error})") from error
    return JSON(_account_view(platform, caller.tenant.id))


@router.delete(
    "/staff/mercadopago-account", status_code=204, summary="Owner: back to the platform's MercadoPago account"
)
def delete_mercadopago_account(request: Request, platform: PlatformDep, caller: CallerDep, _s: StaffDep) -> Response:
    mercadopago_accounts.disconnect_mercadopago_account(
        services(platform).uows(caller.tenant.id), context(request, platform, caller)
    )
    return Response(status_code=204)


async def _refused_credentials(request: Request, exc: Exception) -> Response:
    # A shop's token revoked or expired at MercadoPago: the owner must connect the account again.
    return problem(
        request,
        status=502,
        code="gateway-credentials",
        title="MercadoPago refused the credentials",
        detail=f"{exc}; the shop's owner must connect the MercadoPago account again",
        errors_=[{"field": "access_token", "reason": "refused by MercadoPago"}],
    )


def install(app: FastAPI, platform: Platform) -> None:
    app.add_exception_handler(GatewayUnauthorized, _refused_credentials)
    app.state.payment_metrics = PaymentMetrics(app.state.metrics.registry)

    def on_cancelled(event: DomainEvent) -> None:
        # The relay publishes inside its own write transaction (on SQLite: the write lock), so the
        # refund, which writes, runs on its own thread after the relay commits.
        threading.Thread(target=_refund_cancelled, args=(platform, event), daemon=True).start()

    platform.bus.subscribe("BookingCancelled", on_cancelled)
    app.include_router(router)
