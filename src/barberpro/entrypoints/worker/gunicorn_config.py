"""Gunicorn settings for the autoscaled API pool (loaded with ``-c python:<this module>``).

Gunicorn reads hooks and settings from this module's globals, so the names
below are gunicorn's own.
"""

from __future__ import annotations

import os
from typing import Any

from uvicorn_worker import UvicornWorker


class BarberProUvicornWorker(UvicornWorker):  # type: ignore[misc]  # uvicorn-worker ships no types
    """Uvicorn worker without uvicorn's access log.

    The access log costs about 60 µs a request on this class of machine; the
    API logs each request itself, structured, from its own middleware.
    """

    # The base class declares this mutable class attribute; overriding it is its interface.
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "auto", "access_log": False}  # noqa: RUF012


worker_class = f"{__name__}.BarberProUvicornWorker"
# A worker being scaled down finishes its in-flight requests first.
graceful_timeout = 10
timeout = 30
keepalive = 5
# The pool is driven by signals from its parent; gunicorn's control socket (one
# fixed path per user by default) would only collide between pools on one host.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """Lets the multiprocess Prometheus collector drop a stopped worker's live gauges.

    Its counters stay in the shared directory and keep counting towards the
    totals, which is what keeps `barberpro_http_requests_total` monotonic while
    workers come and go.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
