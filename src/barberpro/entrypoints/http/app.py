"""The FastAPI application: `create_app()` is the factory servers and tests use."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from starlette.responses import PlainTextResponse, Response

from barberpro.bootstrap import Platform, build
from barberpro.config import Settings
from barberpro.entrypoints.http import problems, routes_payments
from barberpro.entrypoints.http.gateway_setup import install_gateway
from barberpro.entrypoints.http.logging_setup import configure_logging
from barberpro.entrypoints.http.metrics import HttpMetrics
from barberpro.entrypoints.http.middleware import GatewayMiddleware
from barberpro.entrypoints.http.routes_auth import router as auth_router
from barberpro.entrypoints.http.routes_bookings import router as bookings_router
from barberpro.entrypoints.http.routes_public import router as public_router
from barberpro.entrypoints.http.routes_staff import router as staff_router
from barberpro.entrypoints.http.tenancy import TenantResolver
from barberpro.entrypoints.http.views import JSON
from barberpro.entrypoints.web.router import router as web_router
from barberpro.ops.recovery.continuous import install_continuous_backup

DESCRIPTION = """
BarberPro's JSON API. Public reads and booking creation need no credentials (the tenant
comes from the Host); staff endpoints take `Authorization: Bearer <token>` from
`POST /api/v1/auth/tokens`. Errors are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    settings = settings or (platform.settings if platform else Settings())
    configure_logging(settings.log_level, settings.log_json)
    owns_platform = platform is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.platform.relay.start(settings.outbox_poll_seconds)
        structlog.get_logger("barberpro").info(
            "started",
            database=app.state.platform.database.dialect,
            row_level_security=bool(app.state.platform.database.rls_role),
        )
        # Long-lived start-up objects need not be scanned by every collection (p99 tail).
        gc.collect()
        gc.freeze()
        yield
        app.state.platform.relay.stop()
        if owns_platform:
            app.state.platform.close()

    app = FastAPI(
        title="BarberPro API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    platform = platform or build(settings)
    metrics = HttpMetrics()
    app.state.platform = platform
    app.state.metrics = metrics
    app.state.tenant_resolver = TenantResolver(platform.directory, settings.base_domain, settings.default_tenant)
    problems.install(app)
    install_gateway(app, platform, settings)  # inside GatewayMiddleware: refusals still logged
    # Continuous SQLite backup when BARBERPRO_BACKUP_TO is set (sync mode holds each answer until shipped).
    install_continuous_backup(app, settings.database_url)
    app.add_middleware(GatewayMiddleware, metrics=metrics, hsts=settings.secure_cookies)

    @app.get("/healthz", tags=["ops"], summary="Liveness and database reachability")
    def healthz() -> JSON:
        from sqlalchemy import text

        try:
            with platform.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return JSON({"status": "error", "database": str(type(exc).__name__)}, status_code=503)
        return JSON({"status": "ok", "database": platform.database.dialect})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/hello", tags=["ops"], include_in_schema=False)
    async def hello() -> PlainTextResponse:
        """The bare endpoint benchmarks compare against (same app, same middleware)."""
        return PlainTextResponse("hello")

    app.include_router(public_router)
    app.include_router(bookings_router)
    app.include_router(staff_router)
    app.include_router(auth_router)
    routes_payments.install(app, platform)
    app.include_router(web_router)
    return app
