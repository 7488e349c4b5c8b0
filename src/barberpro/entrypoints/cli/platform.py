"""Platform commands: serve, db upgrade, demo."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(host: str = "127.0.0.1", port: int | None = None) -> None:
        """Serve the HTTP API and pages."""
        raise typer.Exit(1)
