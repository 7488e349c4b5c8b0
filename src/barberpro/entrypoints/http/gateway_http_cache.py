"""HTTP caching for a CDN in front: ETag / If-None-Match, Cache-Control, gzip or brotli.

Only complete GET 200 answers are touched (the API's JSON and the docs); streamed
bodies pass through. Availability answers are `no-cache` (a CDN revalidates them every
time, cheaply, with the ETag) so that a CDN never widens the stale-slot bound.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:  # brotli is optional: gzip alone is enough for a CDN
    import brotli as _brotli
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    _brotli = None

MIN_COMPRESS = 1024
MAX_BUFFER = 2 * 1024 * 1024
_COMPRESSIBLE = (b"application/json", b"application/problem+json", b"text/", b"application/javascript")


def cache_control(path: str, credentials: bool) -> bytes:
    if credentials:
        return b"private, no-cache"
    if path.endswith("/availability"):
        return b"public, no-cache"
    if path.startswith("/api/v1/"):
        return b"public, max-age=30, stale-while-revalidate=60"
    if path in ("/openapi.json", "/docs"):
        return b"public, max-age=300"
    return b"no-store"


def _accepts(header: str, coding: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == coding:
            return "q=0" not in params.replace(" ", "") or "q=0." in params.replace(" ", "")
    return False


def _etag_matches(header: str, etag: bytes) -> bool:
    wanted = etag.decode().removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


class HttpCacheMiddleware:
    def __init__(self, app: ASGIApp, *, brotli_enabled: bool = True) -> None:
        self.app = app
        self.brotli = brotli_enabled and _brotli is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # HEAD answers carry GET's Content-Length with no body: nothing to hash or compress.
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        credentials = "authorization" in headers or "bp_session=" in headers.get("cookie", "")
        path = scope["path"]
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def send_wrapper(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                if message["status"] != 200 or b"content-encoding" in names or b"content-length" not in names:
                    passthrough = True
                    await send(message)
                    return
                start = dict(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > MAX_BUFFER:
                    passthrough = True
                    assert start is not None
                    await send(start)
                    await send(
                        {
                            "type": "http.response.body",
                            "body": b"".join(chunks),
                            "more_body": message.get("more_body", False),
                        }
                    )
                    return
                if not message.get("more_body", False):
                    assert start is not None
                    await self._finish(start, b"".join(chunks), headers, path, credentials, send)

        await self.app(scope, receive, send_wrapper)

    async def _finish(
        self,
        start: dict[str, Any],
        body: bytes,
        request_headers: dict[str, str],
        path: str,
        credentials: bool,
        send: Send,
    ) -> None:
        response_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        names = {k.lower() for k, _ in response_headers}
        own = next((v for k, v in response_headers if k.lower() == b"etag"), None)
        # A route's own validator (static assets) wins; else a weak one from the body.
        etag = own or b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        extra = [(b"vary", b"Accept-Encoding, Authorization")]
        if own is None:
            extra.append((b"etag", etag))
        if b"cache-control" not in names:
            extra.append((b"cache-control", cache_control(path, credentials)))
        inm = request_headers.get("if-none-match")
        if inm and _etag_matches(inm, etag):
            await send({"type": "http.response.start", "status": 304, "headers": response_headers + extra})
            await send({"type": "http.response.body", "body": b""})
            return
        content_type = next((v for k, v in response_headers if k.lower() == b"content-type"), b"")
        accept = request_headers.get("accept-encoding", "")
        if len(body) >= MIN_COMPRESS and content_type.startswith(_COMPRESSIBLE):
            if self.brotli and _accepts(accept, "br"):
                body = _brotli.compress(body, quality=4)
                extra.append((b"content-encoding", b"br"))
            elif _accepts(accept, "gzip"):
                body = gzip.compress(body, compresslevel=5, mtime=0)
                extra.append((b"content-encoding", b"gzip"))
        extra.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": response_headers + extra})
        await send({"type": "http.response.body", "body": body})
