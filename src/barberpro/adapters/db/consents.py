"""The tenant-scoped repository of privacy consents (table `privacy_consents`, migration 0006)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select

from barberpro.adapters.db import tables as t
from barberpro.adapters.db.repositories import _Scoped
from barberpro.domain.consent import ConsentChannel, PrivacyConsent

_C = t.privacy_consents.c
_INSERT = insert(t.privacy_consents)
# ix_privacy_consents_tenant_customer serves this; (granted_at, id) makes the order total.
_OF_CUSTOMER = (
    select(t.privacy_consents)
    .where(_C.tenant_id == bindparam("t"), _C.customer_id == bindparam("customer"))
    .order_by(_C.granted_at, _C.id)
)


def consent_row(consent: PrivacyConsent) -> dict[str, Any]:
    return {
        "id": consent.id,
        "customer_id": consent.customer_id,
        "booking_id": consent.booking_id,
        "notice_version": consent.notice_version,
        "granted_at": consent.granted_at,
        "channel": consent.channel.value,
    }


def consent_from(row: Any) -> PrivacyConsent:
    return PrivacyConsent(
        id=row.id,
        tenant_id=row.tenant_id,
        customer_id=row.customer_id,
        booking_id=row.booking_id,
        notice_version=row.notice_version,
        granted_at=row.granted_at,
        channel=ConsentChannel(row.channel),
    )


class SqlConsentRepository(_Scoped):
    """Built with a tenant id like every repository: the tenant column is always this one's."""

    def add(self, consent: PrivacyConsent) -> None:
        # The row's tenant is the repository's, whatever the entity says.
        self._c.execute(_INSERT, consent_row(consent) | {"tenant_id": self._tenant})

    def of_customer(self, customer_id: str) -> list[PrivacyConsent]:
        rows = self._c.execute(_OF_CUSTOMER, {"t": self._tenant, "customer": customer_id})
        return [consent_from(r) for r in rows]
