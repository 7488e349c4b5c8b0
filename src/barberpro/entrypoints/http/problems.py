"""Errors as RFC 9457 problem details (`application/problem+json`), with field-level detail."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from barberpro.domain import errors

PROBLEM_BASE = "https://barberpro.com.ar/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.DomainError], tuple[int, str]] = {
    errors.InvalidValue: (422, "Invalid value"),
    errors.NotFound: (404, "Not found"),
    errors.SlotUnavailable: (409, "Slot no longer available"),
    errors.InvalidTransition: (409, "Invalid status change"),
    errors.PolicyViolation: (409, "Not allowed by the shop's policy"),
    errors.PermissionDenied: (403, "Forbidden"),
    errors.Unauthenticated: (401, "Authentication required"),
    errors.IdempotencyConflict: (422, "Idempotency key reused"),
    errors.ConcurrentRequest: (409, "Concurrent request"),
    errors.AccountLocked: (423, "Account locked"),
}


def problem(
    request: Request | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors_: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    if errors_:
        body["errors"] = errors_
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    status, title = next((v for k, v in STATUS_BY_ERROR.items() if isinstance(exc, k)), (400, "Bad request"))
    field_errors = [{"field": exc.field, "reason": exc.detail}] if exc.field else None
    headers = {"WWW-Authenticate": 'Bearer realm="barberpro"'} if status == 401 else None
    return problem(
        request,
        status=status,
        code=exc.code,
        title=title,
        detail=exc.detail,
        errors_=field_errors,
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    field_errors = [
        {"field": _field_path(tuple(e.get("loc", ()))), "reason": str(e.get("msg", "invalid"))} for e in exc.errors()
    ]
    return problem(
        request,
        status=422,
        code="validation-error",
        title="Invalid request",
        detail="; ".join(f"{e['field']}: {e['reason']}" for e in field_errors),
        errors_=field_errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated", 403: "permission-denied"}
    return problem(
        request,
        status=exc.status_code,
        code=codes.get(exc.status_code, f"http-{exc.status_code}"),
        title=str(exc.detail) if exc.status_code != 404 else "Not found",
        detail=str(exc.detail),
        headers=dict(exc.headers or {}),
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    import structlog

    structlog.get_logger("barberpro.http").exception("unhandled error", path=request.url.path)
    return problem(
        request,
        status=500,
        code="internal-error",
        title="Internal error",
        detail="something went wrong on our side; the request id helps us find it",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
