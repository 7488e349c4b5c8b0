"""The gateway guard (pure ASGI): request size limit, rate limits, log-in and booking abuse
protection. Runs inside GatewayMiddleware (request id, headers, metrics) so every refusal is
still counted, logged and carries the security headers. Load shedding runs before all of
this, as the outermost layer (`gateway_shedding.py`): under overload it must cost less.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from barberpro.adapters.kv.gcra import RateDecision, RatePolicy
from barberpro.adapters.kv.store import KeyValueStore, StoreUnavailable
from barberpro.ops.gateway.policies import LOGIN_FAILURES, PolicyBook, RouteClass, classify
from barberpro.ops.gateway.security_log import SecurityLog
from barberpro.ops.gateway.threats import (
    BookingAbuseDetector,
    CredentialStuffingDetector,
    Detection,
    fingerprint,
    progressive_delay,
)

T = TypeVar("T")
PROBLEM_BASE = "https://barberpro.com.ar/problems/"
_CANCEL = re.compile(r"^/api/v1/bookings/[^/]+/cancel$")
_EMAIL = re.compile(rb'"email"\s*:\s*"([^"]{1,254})"')


class _BodyTooLarge(Exception):
    pass


@dataclass
class GuardConfig:
    rate_limit_enabled: bool = True
    max_request_bytes: int = 64 * 1024
    trusted_proxy_hops: int = 0
    policies: PolicyBook = field(default_factory=PolicyBook)


@dataclass
class _Request:
    scope: Scope
    method: str
    path: str
    host: str
    ip: str
    bearer: str | None
    credentials: bool
    route_class: RouteClass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def client_ip(scope: Scope, trusted_hops: int) -> str:
    peer = scope.get("client")
    ip = str(peer[0]) if peer else "unknown"
    if trusted_hops > 0:
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            # The right-most entries were added by our own proxies; the one before them is the client.
            if len(hops) >= trusted_hops:
                ip = hops[-trusted_hops]
    return ip[:64]


def _problem(
    status: int, code: str, title: str, detail: str, path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[Message, Message]:
    body = orjson.dumps(
        {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail, "instance": path}
    )
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def rate_headers(policy: RatePolicy, decision: RateDecision) -> list[tuple[bytes, bytes]]:
    """IETF draft-ietf-httpapi-ratelimit-headers structured fields."""
    reset = max(0, math.ceil(decision.reset_after))
    return [
        (b"ratelimit-policy", f'"{policy.name}";q={policy.limit};w={round(policy.period)}'.encode()),
        (b"ratelimit", f'"{policy.name}";r={decision.remaining};t={reset}'.encode()),
    ]


class GatewayGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        store: KeyValueStore,
        config: GuardConfig,
        security: SecurityLog | None,
        on_booking_abuse: Callable[[str, Detection], Any] | None = None,
        on_write: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.config = config
        self.security = security
        self.on_booking_abuse = on_booking_abuse
        self.on_write = on_write
        # Their windows live in the store: shared by every replica when it is Redis.
        self.stuffing = CredentialStuffingDetector(store)
        self.booking_abuse = BookingAbuseDetector(store)
        self.log = structlog.get_logger("barberpro.gateway")

    def _count(self, req: _Request, kind: str, subject: str | None = None) -> None:
        if self.security is not None:
            self.security.count(req.host, kind, subject or req.ip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        req = self._describe(scope)
        started_response = False

        async def refuse(status: int, code: str, title: str, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
            start, body = _problem(status, code, title, detail, req.path, headers)
            await send(start)
            await send(body)

        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.config.max_request_bytes):
            self._count(req, "oversized_request")
            await refuse(
                413,
                "payload-too-large",
                "Request too large",
                f"request bodies are limited to {self.config.max_request_bytes} bytes",
                [],
            )
            return

        limit_headers: list[tuple[bytes, bytes]] = []
        if self.config.rate_limit_enabled:
            policies = self.config.policies.for_request(req.host, req.route_class)
            if policies is not None:
                refused, limit_headers = await self._degrading(req, self._rate_limit(req, policies), (None, []))
                if refused is not None:
                    self._count(req, "rate_limited", f"{req.route_class.value}:{req.ip}")
                    await refuse(
                        429,
                        "rate-limited",
                        "Too many requests",
                        "this client sent too many requests; slow down and retry later",
                        refused,
                    )
                    return

        login_email: list[bytes] = []
        # The per-address guards are throttles too: BARBERPRO_RATE_LIMIT_ENABLED=false (load
        # tests) turns them off with the limits; the application's account lock-out stays.
        guards = self.config.rate_limit_enabled
        if guards and req.route_class is RouteClass.LOGIN:
            refused = await self._degrading(req, self._login_precheck(req), None)
            if refused is not None:
                self._count(req, "login_blocked_ip")
                minutes = max(1, math.ceil(float(refused[0][1]) / 60))
                await refuse(
                    429,
                    "too-many-failed-logins",
                    "Too many failed log-ins",
                    f"too many failed log-ins from this address; try again in {minutes} minutes",
                    refused,
                )
                return
        if guards and req.route_class is RouteClass.BOOKING and req.method == "POST":
            throttled = await self._degrading(req, self.booking_abuse.flagged(req.host, req.ip), 0.0)
            if throttled:
                self._count(req, "booking_throttled")
                await refuse(
                    429,
                    "booking-throttled",
                    "Booking temporarily throttled",
                    "too many bookings created or cancelled from this address; try again later",
                    [(b"retry-after", str(math.ceil(throttled)).encode())],
                )
                return

        received = 0
        status = 500
        unsafe = req.method not in ("GET", "HEAD", "OPTIONS")
        too_large = False
        limit = self.config.max_request_bytes

        async def receive_wrapper() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
                if req.route_class is RouteClass.LOGIN:
                    login_email.append(chunk)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started_response
            if too_large:
                # The framework turned our exception into its own error answer: replace it.
                if message["type"] == "http.response.start" and not started_response:
                    started_response = True
                    status = 413
                    self._count(req, "oversized_request")
                    await refuse(
                        413,
                        "payload-too-large",
                        "Request too large",
                        f"request bodies are limited to {limit} bytes",
                        [],
                    )
                return
            if message["type"] == "http.response.start":
                started_response = True
                status = message["status"]
                if unsafe and status < 400 and self.on_write is not None:
                    # Before the answer leaves: the writer's next read already sees its write.
                    self.on_write(req.host)
                if limit_headers:
                    message = {**message, "headers": [*message.get("headers", []), *limit_headers]}
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except _BodyTooLarge:
            if not started_response:
                self._count(req, "oversized_request")
                await refuse(
                    413, "payload-too-large", "Request too large", f"request bodies are limited to {limit} bytes", []
                )
            status = 413
        if guards:
            await self._degrading(req, self._after(req, status, b"".join(login_email)), None)

    async def _degrading(self, req: _Request, work: Coroutine[Any, Any, T], fallback: T) -> T:
        """The shared store's answer, or `fallback` while it is unavailable: the gateway lets
        traffic through unlimited and unwatched rather than failing every request (the breaker in
        the store keeps that cheap; the application's own lock-out still holds). Each such
        request is counted in the security report (`store_unavailable`)."""
        try:
            return await work
        except StoreUnavailable:
            self._count(req, "store_unavailable", "kv")
            return fallback

    def _describe(self, scope: Scope) -> _Request:
        method = scope["method"]
        path = scope["path"]
        host = (_header(scope, b"host") or "").split(":", 1)[0].lower().rstrip(".")[:253]
        auth = _header(scope, b"authorization")
        bearer = auth.partition(" ")[2].strip() if auth and auth.lower().startswith("bearer ") else None
        cookie = _header(scope, b"cookie")
        credentials = bool(bearer) or (cookie is not None and "bp_session=" in cookie)
        return _Request(
            scope,
            method,
            path,
            host,
            client_ip(scope, self.config.trusted_proxy_hops),
            bearer,
            credentials,
            classify(method, path, credentials),
        )

    async def _rate_limit(
        self, req: _Request, policies: Any
    ) -> tuple[list[tuple[bytes, bytes]] | None, list[tuple[bytes, bytes]]]:
        checks: list[tuple[str, RatePolicy]] = []
        if policies.per_ip is not None:
            checks.append((f"{req.host}|ip|{req.ip}|{policies.per_ip.name}", policies.per_ip))
        if policies.per_token is not None and req.bearer:
            token = hashlib.sha256(req.bearer.encode()).hexdigest()[:24]
            checks.append((f"tok|{token}|{policies.per_token.name}", policies.per_token))
        if policies.per_tenant is not None:
            checks.append((f"{req.host}|tenant|{policies.per_tenant.name}", policies.per_tenant))
        tightest: tuple[RatePolicy, RateDecision] | None = None
        for key, policy in checks:
            decision = await self.store.rate_limit(key, policy)
            if not decision.allowed:
                retry = str(max(1, math.ceil(decision.retry_after))).encode()
                return [(b"retry-after", retry), *rate_headers(policy, decision)], []
            if tightest is None or decision.remaining < tightest[1].remaining:
                tightest = (policy, decision)
        return None, rate_headers(*tightest) if tightest else []

    async def _login_precheck(self, req: _Request) -> list[tuple[bytes, bytes]] | None:
        key = f"loginfail|{req.ip}"
        decision = await self.store.rate_limit(key, LOGIN_FAILURES, peek=True)
        if not decision.allowed:
            return [(b"retry-after", str(max(1, math.ceil(decision.retry_after))).encode())]
        failures = LOGIN_FAILURES.capacity - decision.remaining - 1
        delay = progressive_delay(failures)
        if delay:
            # Holds only this request's coroutine: no worker thread is tied up by the wait.
            await asyncio.sleep(delay)
        return None

    async def _after(self, req: _Request, status: int, login_body: bytes) -> None:
        if req.route_class is RouteClass.LOGIN and status in (401, 423):
            await self.store.rate_limit(f"loginfail|{req.ip}", LOGIN_FAILURES)
            match = _EMAIL.search(login_body)
            account = match.group(1).decode("utf-8", "replace") if match else "?"
            if status == 423:
                self._count(req, "account_locked", fingerprint(account))
            else:
                self._count(req, "login_failed")
            for detection in await self.stuffing.failed_login(req.ip, account):
                self._detected(req, detection)
        elif req.route_class is RouteClass.BOOKING and req.method == "POST":
            detection = None
            if status == 201 and req.path == "/api/v1/bookings":
                detection = await self.booking_abuse.booking_created(req.host, req.ip)
            elif status == 200 and _CANCEL.match(req.path):
                detection = await self.booking_abuse.booking_cancelled(req.host, req.ip)
            if detection is not None:
                self._detected(req, detection)
                if self.on_booking_abuse is not None:
                    await asyncio.to_thread(self.on_booking_abuse, req.host, detection)

    def _detected(self, req: _Request, detection: Detection) -> None:
        self.log.warning(
            "security_detection", kind=detection.kind, subject=detection.subject, host=req.host, **detection.detail
        )
        if self.security is not None:
            self.security.detection(req.host, detection.kind, detection.subject, dict(detection.detail))
