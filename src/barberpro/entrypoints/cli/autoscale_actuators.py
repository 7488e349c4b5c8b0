"""`barberpro autoscale keda-scaler`: the commands that act on real replicas.

Registered on the `barberpro autoscale` app by `register(app)`. The worker pool
behind `barberpro serve --workers auto` is
`barberpro.entrypoints.worker.autoscaled_server.run`.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

_METRICS_HELP = "Prometheus text endpoint with the request counter (the app's /metrics, or /federate)."
_CAPACITY_HELP = "Requests/s one replica serves at the SLO (default: the autoscaling config's figure)."
_POLICY_HELP = "auto (the shipped default), hybrid, predictive or hpa."
_ACTIVATION_HELP = "IsActive is false at or below this rate (req/s)."


def register(app: typer.Typer) -> None:
    @app.command("keda-scaler")
    def keda_scaler(
        listen: Annotated[str, typer.Option(help="gRPC address to listen on.")] = "0.0.0.0:9090",
        metrics_url: Annotated[str, typer.Option(help=_METRICS_HELP)] = "http://127.0.0.1:8000/metrics",
        counter: Annotated[str, typer.Option(help="Request counter.")] = "barberpro_http_requests_total",
        policy: Annotated[str, typer.Option(help=_POLICY_HELP)] = "auto",
        capacity_per_replica: Annotated[float | None, typer.Option(help=_CAPACITY_HELP)] = None,
        min_replicas: Annotated[int, typer.Option(min=1)] = 1,
        max_replicas: Annotated[int, typer.Option(min=1)] = 20,
        step_seconds: Annotated[float, typer.Option(help="Demand history step.")] = 60.0,
        scrape_interval: Annotated[float, typer.Option(help="Seconds between scrapes.")] = 15.0,
        cold_start_seconds: Annotated[float, typer.Option(help="Pod start to ready.")] = 120.0,
        activation_request_rate: Annotated[float, typer.Option(help=_ACTIVATION_HELP)] = 0.0,
    ) -> None:
        """Serve KEDA's external scaler gRPC API, answering with the policy's desired replicas.

        Every setting is a default: a ScaledObject may override it in its trigger
        metadata (metricsUrl, capacityPerReplica, minReplicas, policy, ...).
        """
        from barberpro.entrypoints.keda_scaler.scaler_metadata import MetadataError, TargetSettings, validate
        from barberpro.entrypoints.keda_scaler.server import serve_forever, start_scaler

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        chosen = {
            "metrics_url": metrics_url, "counter": counter, "policy": policy,
            "min_replicas": min_replicas, "max_replicas": max_replicas, "step_seconds": step_seconds,
            "scrape_interval": scrape_interval, "cold_start_seconds": cold_start_seconds,
            "activation_request_rate": activation_request_rate,
        }  # fmt: skip
        if capacity_per_replica is not None:
            chosen["capacity_per_replica"] = capacity_per_replica
        defaults = TargetSettings(**chosen)  # type: ignore[arg-type]
        try:
            validate(defaults)
        except MetadataError as exc:
            raise typer.BadParameter(str(exc)) from exc
        running = start_scaler(defaults, address=listen)
        typer.echo(f"KEDA external scaler on port {running.port}: policy {policy}, metrics {metrics_url}")
        serve_forever(running)


def serve_autoscaled(host: str, port: int, min_workers: int = 1, max_workers: int | None = None) -> None:
    """`barberpro serve --workers auto`: the API under the autoscaled gunicorn pool, until Ctrl-C/SIGTERM."""
    from barberpro.entrypoints.worker.autoscaled_server import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    typer.echo(f"BarberPro serving on http://{host}:{port} with autoscaled workers ({min_workers} minimum)")
    code = run("barberpro.entrypoints.http.app:create_app", host, port, min_workers, max_workers)
    if code:
        raise typer.Exit(code)
