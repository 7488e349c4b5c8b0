"""The explicit, unscoped path: which tenant a host or token belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from barberpro.adapters.db import mapping as m
from barberpro.adapters.db import tables as t
from barberpro.adapters.db.engine import Database
from barberpro.adapters.db.repositories import fetch_tenant
from barberpro.application.ports import ApiToken
from barberpro.domain.tenancy import Tenant


class SqlPlatformDirectory:
    def __init__(self, database: Database) -> None:
        self._db = database

    def _tenant_where(self, condition: Any) -> Tenant | None:
        with self._db.engine.connect() as connection:
            return fetch_tenant(connection, condition)

    def tenant(self, tenant_id: str) -> Tenant | None:
        return self._tenant_where(t.tenants.c.id == tenant_id)

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        return self._tenant_where(t.tenants.c.slug == slug)

    def tenant_by_domain(self, domain: str) -> Tenant | None:
        with self._db.engine.connect() as connection:
            tenant_id = connection.execute(
                select(t.tenant_domains.c.tenant_id).where(t.tenant_domains.c.domain == domain.lower())
            ).scalar_one_or_none()
        return self.tenant(tenant_id) if tenant_id else None

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        with self._db.engine.connect() as connection:
            row = connection.execute(select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)).one_or_none()
        return m.token_from(row) if row else None

    def list_tenants(self) -> list[Tenant]:
        with self._db.engine.connect() as connection:
            ids = connection.execute(select(t.tenants.c.id).order_by(t.tenants.c.slug)).scalars().all()
        return [tenant for tenant in (self.tenant(i) for i in ids) if tenant is not None]
