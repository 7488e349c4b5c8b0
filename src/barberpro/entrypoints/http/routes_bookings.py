"""Bookings: create (idempotent), read, cancel, reschedule, review; staff status changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from barberpro.adapters.payments.unit_of_work import InTransactionPrepaymentPolicy
from barberpro.application import bookings as usecases
from barberpro.application.manage_tokens import issue_manage_token
from barberpro.application.reviews import post_review
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Booking
from barberpro.domain.consent import ConsentChannel
from barberpro.domain.customers import Customer
from barberpro.domain.errors import NotFound, PolicyViolation, SlotUnavailable
from barberpro.domain.tenancy import Shop
from barberpro.entrypoints.http.deps import (
    Caller,
    CallerDep,
    ManageToken,
    PlatformDep,
    StaffDep,
    context,
    customer_actor,
)
from barberpro.entrypoints.http.schemas import BlockIn, BookingIn, CancelIn, RescheduleIn, ReviewIn, WalkInIn
from barberpro.entrypoints.http.views import JSON, booking_view, review_view
from barberpro.entrypoints.web.privacy_notice import current_notice_version

router = APIRouter(prefix="/api/v1", tags=["bookings"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retries with the same key and body return the same booking",
    ),
]


def _answer(
    platform: Platform,
    caller: Caller,
    booking: Booking,
    shop: Shop,
    customer: Customer | None,
    *,
    with_token: bool,
    status: int = 200,
) -> JSON:
    token = issue_manage_token(platform.secret, caller.tenant.id, booking.id) if with_token else None
    url = f"{platform.settings.public_url}/reservas/{booking.id}?token={token}" if token else None
    return JSON(
        booking_view(booking, shop.zone, manage_token=token, manage_url=url, customer=customer),
        status_code=status,
    )


def booking_response(
    platform: Platform, caller: Caller, booking: Booking, *, with_token: bool, status: int = 200
) -> JSON:
    """The booking as the API shows it, read in its own transaction (shop zone, customer)."""
    with platform.uow(caller.tenant.id, write=False) as uow:
        shop = uow.shops.get(booking.shop_id)
        customer = uow.customers.get(booking.customer_id) if booking.customer_id else None
    if shop is None:  # pragma: no cover - foreign key
        raise NotFound("shop not found")
    return _answer(platform, caller, booking, shop, customer, with_token=with_token, status=status)


def _fingerprinted(body: BookingIn) -> dict[str, Any]:
    """The body as a retry must repeat it. Without consent the digest is the one bodies had before
    the field existed, so a retry across an upgrade is still recognised as the same request."""
    payload = body.model_dump(mode="json")
    if not body.privacy_notice_accepted:
        del payload["privacy_notice_accepted"]
    return payload


def _create(request: Request, platform: Platform, caller: Caller, body: BookingIn, key: str | None, kind: str) -> JSON:
    cmd = usecases.BookAppointment(
        shop_id=body.shop_id,
        service_id=body.service_id,
        barber_id=body.barber_id,
        start=body.start,
        customer=usecases.CustomerDetails(**body.customer.model_dump()),
        notes=body.notes,
        kind=kind,
        consent=usecases.ConsentGiven(current_notice_version(), ConsentChannel.API)
        if body.privacy_notice_accepted
        else None,
    )
    from barberpro.entrypoints.http.routes_payments import services as payment_services

    metrics = request.app.state.metrics
    # The platform's unit of work plus the payment repositories, same connection and transaction:
    # the prepayment check, the booking and what the answer shows are read and written in one.
    uow = payment_services(platform).uows(caller.tenant.id)
    try:
        result = usecases.book_appointment(
            uow,
            context(request, platform, caller),
            cmd,
            idempotency_key=key,
            request_fingerprint=usecases.fingerprint(_fingerprinted(body)),
            prepayment=InTransactionPrepaymentPolicy(uow),
            # A shop that takes payment up front books only through the checkout, never around it.
            refuse_prepaid=True,
        )
    except usecases.PrepaymentRequired:
        raise PolicyViolation(
            "this shop takes payment when booking: use POST /api/v1/payments/checkout", field="shop_id"
        ) from None
    except SlotUnavailable:
        metrics.bookings.labels("conflict").inc()
        raise
    metrics.bookings.labels("replayed" if result.replayed else "created").inc()
    if result.shop is None:  # pragma: no cover - foreign key
        raise NotFound("shop not found")
    response = _answer(platform, caller, result.booking, result.shop, result.customer, with_token=True, status=201)
    response.headers["Location"] = f"/api/v1/bookings/{result.booking.id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.post(
    "/bookings",
    status_code=201,
    summary="Book a barber (or any barber) for a service at a free slot",
    responses={
        409: {"description": "The time is no longer free (problem+json)"},
        422: {"description": "Invalid input, or Idempotency-Key reused with another body"},
    },
)
def create_booking(
    request: Request,
    body: BookingIn,
    platform: PlatformDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> JSON:
    return _create(request, platform, caller, body, idempotency_key, "appointment")


@router.post("/staff/bookings", status_code=201, summary="Staff: create a booking or walk-in off the slot grid")
def create_walk_in(
    request: Request,
    body: WalkInIn,
    platform: PlatformDep,
    caller: CallerDep,
    _staff: StaffDep,
    idempotency_key: IdempotencyKey = None,
) -> JSON:
    return _create(request, platform, caller, body, idempotency_key, body.kind)


def _booking_for(platform: Platform, caller: Caller, booking_id: str, token: str | None) -> tuple[Booking, Any]:
    with platform.uow(caller.tenant.id, write=False) as uow:
        booking = uow.bookings.get(booking_id)
    if booking is None:
        raise NotFound("booking not found", field="booking_id")
    actor = customer_actor(platform, caller, booking_id, token, booking.customer_id)
    return booking, actor


@router.get("/bookings/{booking_id}", summary="A booking (staff, or the customer with the manage token)")
def get_booking(booking_id: str, platform: PlatformDep, caller: CallerDep, token: ManageToken = None) -> JSON:
    booking, _ = _booking_for(platform, caller, booking_id, token)
    return booking_response(platform, caller, booking, with_token=caller.staff is None)


@router.post("/bookings/{booking_id}/cancel", summary="Cancel (customer until the shop's cut-off; staff)")
def cancel(
    request: Request,
    booking_id: str,
    platform: PlatformDep,
    caller: CallerDep,
    body: CancelIn | None = None,
    token: ManageToken = None,
) -> JSON:
    _, actor = _booking_for(platform, caller, booking_id, token)
    ctx = context(request, platform, caller, actor)
    cancelled = usecases.cancel_booking(platform.uow(caller.tenant.id), ctx, booking_id, body.reason if body else "")
    request.app.state.metrics.bookings.labels("cancelled").inc()
    return booking_response(platform, caller, cancelled, with_token=False)


@router.post("/bookings/{booking_id}/reschedule", summary="Move to another free slot")
def reschedule(
    request: Request,
    booking_id: str,
    body: RescheduleIn,
    platform: PlatformDep,
    caller: CallerDep,
    token: ManageToken = None,
) -> JSON:
    _, actor = _booking_for(platform, caller, booking_id, token)
    ctx = context(request, platform, caller, actor)
    moved = usecases.reschedule_booking(
        platform.uow(caller.tenant.id), ctx, booking_id, start=body.start, barber_id=body.barber_id
    )
    request.app.state.metrics.bookings.labels("rescheduled").inc()
    return booking_response(platform, caller, moved, with_token=False)


@router.post("/bookings/{booking_id}/complete", summary="Staff: mark the visit completed")
def complete(request: Request, booking_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    done = usecases.mark_completed(platform.uow(caller.tenant.id), context(request, platform, caller), booking_id)
    return booking_response(platform, caller, done, with_token=False)


@router.post("/bookings/{booking_id}/no-show", summary="Staff: mark the customer as a no-show")
def no_show(request: Request, booking_id: str, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    missed = usecases.mark_no_show(platform.uow(caller.tenant.id), context(request, platform, caller), booking_id)
    return booking_response(platform, caller, missed, with_token=False)


@router.post("/bookings/{booking_id}/review", status_code=201, summary="Review a completed visit (once)")
def review(
    request: Request,
    booking_id: str,
    body: ReviewIn,
    platform: PlatformDep,
    caller: CallerDep,
    token: ManageToken = None,
) -> JSON:
    _, actor = _booking_for(platform, caller, booking_id, token)
    created = post_review(
        platform.uow(caller.tenant.id),
        context(request, platform, caller, actor),
        booking_id=booking_id,
        rating=body.rating,
        text=body.text,
    )
    return JSON(review_view(created), status_code=201)


@router.post("/staff/blocks", status_code=201, summary="Staff: block a barber's time")
def block(request: Request, body: BlockIn, platform: PlatformDep, caller: CallerDep, _staff: StaffDep) -> JSON:
    created = usecases.block_time(
        platform.uow(caller.tenant.id),
        context(request, platform, caller),
        barber_id=body.barber_id,
        start=body.start,
        end=body.end,
        note=body.note,
    )
    return booking_response(platform, caller, created, with_token=False, status=201)
