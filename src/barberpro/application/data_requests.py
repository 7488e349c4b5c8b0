"""Personal-data requests under Argentina's Ley 25.326: a customer asks for their data or its deletion.

The request is recorded (audit entry + outbox event, one transaction) for the shop to answer
within the law's terms (access: ten calendar days, Art. 14; rectification or deletion: five
working days, Art. 16, without weekends and national holidays); nothing is erased here,
because bookings and invoices must be kept for tax purposes and a person decides what can go.
Requests and answers live in the audit trail (one `PersonalDataRequested` entry each, one
`PersonalDataRequestAnswered` once answered).
"""

from __future__ import annotations

import enum
from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.permissions import require_role
from barberpro.application.ports import UnitOfWork
from barberpro.domain.customers import normalise_email, normalise_phone
from barberpro.domain.errors import InvalidTransition, InvalidValue, NotFound
from barberpro.domain.events import DomainEvent
from barberpro.domain.identifiers import new_id
from barberpro.domain.working_days import working_days_after


class DataRequestKind(enum.StrEnum):
    ACCESS = "access"
    DELETION = "deletion"


ACCESS_WITHIN = timedelta(days=10)  # Art. 14: "diez días corridos" from receipt
DELETION_WORKING_DAYS = 5  # Art. 16: "cinco días hábiles" from receipt
BUENOS_AIRES = ZoneInfo("America/Argentina/Buenos_Aires")
END_OF_DAY = time(23, 59)
REQUESTED = "PersonalDataRequested"
ANSWERED = "PersonalDataRequestAnswered"
_LISTED = 500  # a shop receives a handful a year; one page of 500 is plenty


class DataRequestStatus(enum.StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class DataRequest:
    id: str
    kind: DataRequestKind
    matched_customer: bool


def request_personal_data(
    uow: UnitOfWork, ctx: Context, *, kind: str, phone: str, email: str, message: str = ""
) -> DataRequest:
    """Record a request; the answer to the requester is the same whether or not we know them."""
    try:
        wanted = DataRequestKind(kind)
    except ValueError as exc:
        raise InvalidValue("kind must be access or deletion", field="kind") from exc
    normalised_phone = normalise_phone(phone)
    normalised_email = normalise_email(email)
    with uow:
        customer = uow.customers.by_phone(normalised_phone)
        # Both contact details must match: a phone number alone must not reach someone's data.
        matched = customer is not None and customer.email.lower() == normalised_email.lower()
        request_id = new_id()
        details = {
            "kind": wanted.value,
            "customer_id": customer.id if matched and customer else None,
            "phone": normalised_phone,
            "email": normalised_email,
            "message": message.strip()[:1000],
            "requested_at": ctx.now.isoformat(),
        }
        record(
            uow,
            ctx,
            action="PersonalDataRequested",
            entity_type="data_request",
            entity_id=request_id,
            after=details,
            event=DomainEvent(
                "PersonalDataRequested",
                ctx.tenant_id,
                request_id,
                ctx.now,
                {"kind": wanted.value, "matched_customer": matched},
            ),
        )
        uow.commit()
    return DataRequest(request_id, wanted, matched)


@dataclass(frozen=True)
class FiledDataRequest:
    """A request as staff see it: what was asked, by whom, and when it must be answered."""

    id: str
    kind: DataRequestKind
    phone: str
    email: str
    message: str
    customer_id: str | None
    requested_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answer_note: str
    status: DataRequestStatus


def answer_due(kind: DataRequestKind, received: datetime, holidays: Container[date]) -> datetime:
    """When the law's term for a request runs out: ten calendar days after it arrived for access,
    the end of the fifth working day after the day it arrived (Buenos Aires) for deletion."""
    if kind is DataRequestKind.ACCESS:
        return received + ACCESS_WITHIN
    arrived = received.astimezone(BUENOS_AIRES).date()
    return datetime.combine(working_days_after(arrived, DELETION_WORKING_DAYS, holidays), END_OF_DAY, BUENOS_AIRES)


def list_personal_data_requests(uow: UnitOfWork, ctx: Context, holidays: Container[date]) -> list[FiledDataRequest]:
    """The tenant's requests, newest first, with their terms (`holidays`: the national ones).
    Owners and managers only: this shows personal data."""
    require_role(ctx)
    with uow:
        # The newest requests: a long history must not push them off the page. Answers come after
        # their requests, so the newest answers are the ones these requests can have.
        asked = uow.audit.list(action=REQUESTED, limit=_LISTED, newest_first=True)
        answers = {
            entry.entity_id: entry for entry in uow.audit.list(action=ANSWERED, limit=_LISTED, newest_first=True)
        }
    filed = []
    for entry in asked:
        details = entry.after or {}
        kind = DataRequestKind(details["kind"])
        due_at = answer_due(kind, entry.occurred_at, holidays)
        answer = answers.get(entry.entity_id)
        if answer is not None:
            status = DataRequestStatus.ANSWERED
        elif ctx.now > due_at:
            status = DataRequestStatus.OVERDUE
        else:
            status = DataRequestStatus.PENDING
        filed.append(
            FiledDataRequest(
                id=entry.entity_id,
                kind=kind,
                phone=str(details.get("phone", "")),
                email=str(details.get("email", "")),
                message=str(details.get("message", "")),
                customer_id=details.get("customer_id"),
                requested_at=entry.occurred_at,
                due_at=due_at,
                answered_at=answer.occurred_at if answer else None,
                answer_note=str((answer.after or {}).get("note", "")) if answer else "",
                status=status,
            )
        )
    return sorted(filed, key=lambda request: request.requested_at, reverse=True)


def answer_personal_data_request(uow: UnitOfWork, ctx: Context, request_id: str, *, note: str) -> None:
    """Mark a request answered (once); another tenant's id is simply not found here."""
    require_role(ctx)
    with uow:
        # Two staff answering at once: the second waits here, then sees the first one's answer.
        uow.lock("data_request", request_id)
        trail = uow.audit.list(entity_id=request_id, limit=10)
        if not any(entry.action == REQUESTED for entry in trail):
            raise NotFound("no such personal-data request")
        if any(entry.action == ANSWERED for entry in trail):
            raise InvalidTransition("this personal-data request is already answered")
        record(
            uow,
            ctx,
            action=ANSWERED,
            entity_type="data_request",
            entity_id=request_id,
            after={"note": note.strip()[:1000], "answered_at": ctx.now.isoformat()},
            event=DomainEvent(ANSWERED, ctx.tenant_id, request_id, ctx.now, {}),
        )
        uow.commit()
