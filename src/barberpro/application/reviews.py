"""Reviews: one per completed booking, by the customer holding the manage token."""

from __future__ import annotations

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.pagination import decode_cursor, encode_cursor
from barberpro.application.ports import Page, UnitOfWork
from barberpro.domain.booking import Review
from barberpro.domain.errors import NotFound, PolicyViolation
from barberpro.domain.events import DomainEvent
from barberpro.domain.identifiers import new_id


def post_review(uow: UnitOfWork, ctx: Context, *, booking_id: str, rating: int, text: str) -> Review:
    with uow:
        booking = uow.bookings.get(booking_id)
        if booking is None:
            raise NotFound("booking not found", field="booking_id")
        if uow.reviews.by_booking(booking_id) is not None:
            raise PolicyViolation("this visit already has a review", field="booking_id")
        review = Review.for_booking(id=new_id(), booking=booking, rating=rating, text=text, now=ctx.now)
        uow.reviews.add(review)
        record(
            uow,
            ctx,
            action="ReviewPosted",
            entity_type="review",
            entity_id=review.id,
            after=review,
            event=DomainEvent(
                "ReviewPosted",
                ctx.tenant_id,
                review.id,
                ctx.now,
                {"shop_id": review.shop_id, "barber_id": review.barber_id, "rating": rating},
            ),
        )
        uow.commit()
        return review


def list_reviews(uow: UnitOfWork, *, shop_id: str, cursor: str | None, limit: int) -> Page[Review]:
    with uow:
        if uow.shops.get(shop_id) is None:
            raise NotFound("shop not found", field="shop_id")
        items = uow.reviews.list(shop_id, after=decode_cursor(cursor), limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1].created_at, items[-1].id) if more else None)
