"""Personal-data requests under Argentina's Ley 25.326: a customer asks for their data or its deletion.

The request is recorded (audit entry + outbox event, one transaction) for the shop to answer
within the law's terms (10 days for access, 5 for deletion); nothing is erased here, because
bookings and invoices must be kept for tax purposes and a person decides what can go.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.application.ports import UnitOfWork
from barberpro.domain.customers import normalise_email, normalise_phone
from barberpro.domain.errors import InvalidValue
from barberpro.domain.events import DomainEvent
from barberpro.domain.identifiers import new_id


class DataRequestKind(enum.StrEnum):
    ACCESS = "access"
    DELETION = "deletion"


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
