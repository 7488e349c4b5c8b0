"""Which tenant a request is for: custom domain, `{slug}.{base domain}`, or the default tenant."""

from __future__ import annotations

import threading
import time

from barberpro.application.ports import PlatformDirectory
from barberpro.domain.tenancy import Tenant


class TenantResolver:
    """Caches host look-ups briefly: every request needs one, and tenants rarely change."""

    def __init__(
        self, directory: PlatformDirectory, base_domain: str, default_slug: str | None, ttl: float = 10.0
    ) -> None:
        self._directory = directory
        self._base = "." + base_domain.lower().strip(".")
        self._default = default_slug or None
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Tenant | None, bool]] = {}
        self._lock = threading.Lock()

    def peek(self, host: str) -> tuple[Tenant | None, bool] | None:
        """The cached answer for `host`, or None when resolving it needs the database."""
        cached = self._cache.get(host.split(":", 1)[0].lower().rstrip("."))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        return None

    def resolve(self, host: str) -> tuple[Tenant | None, bool]:
        """Returns the tenant and whether the host named it explicitly (not the default)."""
        name = host.split(":", 1)[0].lower().rstrip(".")
        now = time.monotonic()
        cached = self._cache.get(name)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        tenant, explicit = self._lookup(name)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[name] = (now + self._ttl, tenant, explicit)
        return tenant, explicit

    def _lookup(self, name: str) -> tuple[Tenant | None, bool]:
        tenant = self._directory.tenant_by_domain(name)
        if tenant is not None:
            return tenant, True
        if name.endswith(self._base):
            slug = name[: -len(self._base)]
            if slug and "." not in slug:
                tenant = self._directory.tenant_by_slug(slug)
                return tenant, True
        if self._default:
            return self._directory.tenant_by_slug(self._default), False
        return None, False

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
