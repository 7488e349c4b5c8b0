"""Shared by the gateway benchmarks: the seeded tenant's host and the uvicorn server.

Seeding, booking bodies, the server and the wrk runner come from api_throughput.py (the
platform's own benchmark), so both measure the same tenant the same way.
"""

from __future__ import annotations

from api_throughput import server

HOST = "bench.barberpro.localhost"

__all__ = ["HOST", "server"]
