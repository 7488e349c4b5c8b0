"""Wires the API gateway into the FastAPI app: store, read cache, guard, HTTP caching."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from starlette.types import ASGIApp

from barberpro.adapters.kv.redis_store import open_store
from barberpro.adapters.kv.store import KeyValueStore
from barberpro.application.audit import record
from barberpro.application.context import Context
from barberpro.bootstrap import Platform
from barberpro.config import Settings
from barberpro.domain.booking import SYSTEM
from barberpro.entrypoints.http.gateway_cache import ReadCacheFastPath, invalidation_handler
from barberpro.entrypoints.http.gateway_guard import GatewayGuard, GuardConfig
from barberpro.entrypoints.http.gateway_http_cache import HttpCacheMiddleware
from barberpro.entrypoints.http.gateway_shedding import LoadShedder, pause_point
from barberpro.ops.gateway.concurrency import CriticalGate, GradientLimiter
from barberpro.ops.gateway.credentials import VerifiedCredentials
from barberpro.ops.gateway.policies import PolicyBook
from barberpro.ops.gateway.read_cache import ReadCache
from barberpro.ops.gateway.security_log import SecurityLog
from barberpro.ops.gateway.threats import Detection


def install_gateway(app: FastAPI, platform: Platform, settings: Settings) -> None:
    """Call before GatewayMiddleware is added, so that it stays the outermost layer."""
    existing = platform.extras.get("kv")
    store: KeyValueStore = existing if existing is not None else open_store(settings.redis_url)  # type: ignore[assignment]
    platform.extras["kv"] = store
    resolver = app.state.tenant_resolver

    def tenant_of(host: str) -> str:
        tenant, _ = resolver.resolve(host)
        return str(tenant.id) if tenant is not None else ""

    security = SecurityLog(platform.database.write_engine, tenant_of)
    app.state.security_log = security
    on_write = None
    if settings.read_cache_enabled:
        cache = ReadCache(store if store.shared else None)
        app.state.read_cache = cache
        platform.bus.subscribe("*", invalidation_handler(cache))

        def on_write(host: str) -> None:
            tenant_id = tenant_of(host)
            if tenant_id:
                cache.invalidate(tenant_id)

    def audit_booking_abuse(host: str, detection: Detection) -> None:
        tenant_id = tenant_of(host)
        if not tenant_id:
            return
        ctx = Context(tenant_id, SYSTEM, "gateway", platform.clock.now())
        with platform.uow(tenant_id) as uow:
            record(
                uow,
                ctx,
                action="BookingAbuseDetected",
                entity_type="client_address",
                entity_id=detection.subject[:36],
                after=dict(detection.detail),
            )
            uow.commit()

    limiter = GradientLimiter()
    app.state.concurrency_limiter = limiter
    if settings.read_cache_enabled:
        # Innermost of the gateway layers: hits still get rate limits, ETags and compression.
        app.add_middleware(ReadCacheFastPath, cache=cache, resolve=tenant_of)
    app.add_middleware(HttpCacheMiddleware)
    app.add_middleware(
        GatewayGuard,
        store=store,
        config=GuardConfig(
            rate_limit_enabled=settings.rate_limit_enabled,
            max_request_bytes=settings.max_request_bytes,
            trusted_proxy_hops=settings.trusted_proxy_hops,
            policies=PolicyBook(
                tenant_plans=dict(settings.rate_limit_plans), overrides=dict(settings.rate_limit_policies)
            ),
        ),
        security=security,
        on_booking_abuse=audit_booking_abuse,
        on_write=on_write,
    )

    if settings.load_shedding_enabled:
        install_shedding(app, limiter, security, hsts=settings.secure_cookies, engine=platform.database.engine)
    document_gateway_responses(app)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        log = structlog.get_logger("barberpro.gateway")
        if not settings.rate_limit_enabled:
            log.warning("rate_limiting_disabled", reason="BARBERPRO_RATE_LIMIT_ENABLED=false")
        if not settings.load_shedding_enabled:
            log.warning("load_shedding_disabled", reason="BARBERPRO_LOAD_SHEDDING_ENABLED=false")
        else:
            log.info("load_shedding", gil_switch_interval=sys.getswitchinterval())

        log.info("gateway", store="redis" if store.shared else "memory", read_cache=settings.read_cache_enabled)
        security.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            security.stop()

    app.router.lifespan_context = lifespan


# With load shedding on, the interpreter hands the GIL over every 0.5 ms instead of 5 ms
# (process-wide). Under overload the event loop, busy parsing and refusing requests, always
# wants the GIL; a booking's worker thread gives it up at every database call and then waits
# up to one switch interval to get it back, dozens of times per booking.
GIL_SWITCH_INTERVAL = 0.0005


def install_shedding(
    app: FastAPI, limiter: GradientLimiter, security: SecurityLog, *, hsts: bool, engine: Engine | None = None
) -> None:
    """LoadShedder around the whole middleware stack, Starlette's error handler included:
    a refusal then runs no other layer (add_middleware can only place it inside that handler).
    With `engine`, every statement is a pause point where admitted browsing waits for a booking
    in flight under overload (`CriticalGate`)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    build = app.build_middleware_stack
    gate = CriticalGate()
    app.state.critical_gate = gate
    verified = VerifiedCredentials()
    app.state.verified_credentials = verified  # filled by the auth dependency (deps.get_caller)
    if engine is not None and not event.contains(engine, "before_cursor_execute", pause_point):
        event.listen(engine, "before_cursor_execute", pause_point)  # one module-level hook per engine

    def build_with_shedding() -> ASGIApp:
        shedder = LoadShedder(build(), limiter=limiter, hsts=hsts, gate=gate, verified=verified)
        app.state.load_shedder = shedder
        security.add_source(lambda: {(host, "shed", rc): n for (host, rc), n in shedder.drain().items()})
        app.state.metrics.registry.register(_SheddingCollector(shedder, limiter))
        return shedder

    app.build_middleware_stack = build_with_shedding  # type: ignore[method-assign]


class _SheddingCollector(Collector):
    """Read at scrape time, so the request path only moves plain integers."""

    def __init__(self, shedder: LoadShedder, limiter: GradientLimiter) -> None:
        self.shedder = shedder
        self.limiter = limiter

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "barberpro_gateway_shed", "Requests refused by load shedding (503).", value=self.shedder.shed_total
        )
        yield GaugeMetricFamily(
            "barberpro_gateway_concurrency_limit", "Adaptive concurrency limit.", value=self.limiter.limit
        )
        yield GaugeMetricFamily(
            "barberpro_gateway_in_flight", "Requests admitted and not finished.", value=self.limiter.in_flight
        )
        yield CounterMetricFamily(
            "barberpro_gateway_critical_gate_closed",
            "Times admitted browsing was held for a booking or payment webhook under overload.",
            value=self.shedder.gate.closed_count,
        )
        yield CounterMetricFamily(
            "barberpro_gateway_browsing_paused_seconds",
            "Time admitted browsing spent waiting for bookings in flight (the critical gate).",
            value=self.shedder.paused_seconds,
        )


GATEWAY_RESPONSES = {
    # Problem answers any API operation can give (problems.py maps domain errors globally).
    "400": "Malformed request (problem+json)",
    "401": "Authentication required or failed (problem+json)",
    "403": "Not allowed for this caller (problem+json)",
    "404": "Not found, or no shop at this address (problem+json)",
    "409": "Conflicts with the current state (problem+json)",
    "422": "Invalid input (problem+json)",
    "423": "Account locked after failed log-ins (problem+json)",
    # Answers of the gateway itself.
    "413": "Request body too large (problem+json)",
    "429": "Rate limited, or too many failed log-ins; see Retry-After and RateLimit (problem+json)",
    "503": "Load shed under overload; retry after Retry-After (problem+json)",
}


def document_gateway_responses(app: FastAPI) -> None:
    """Every API operation can also be answered by the gateway: say so in /openapi.json."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()
        problem = {"application/problem+json": {"schema": {"type": "object"}}}
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in GATEWAY_RESPONSES.items():
                    responses.setdefault(status, {"description": description, "content": problem})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
