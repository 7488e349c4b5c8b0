"""A customer's data as a downloadable JSON file: the same answer for the staff API and the staff pages."""

from __future__ import annotations

import json

from starlette.responses import Response

from barberpro.application.context import Context
from barberpro.application.customer_data import export_customer_data
from barberpro.bootstrap import Platform
from barberpro.entrypoints.http.routes_payments import services


def customer_data_download(platform: Platform, ctx: Context, customer_id: str) -> Response:
    """Runs the audited export (403 for other roles, 404 for an unknown or another tenant's id)."""
    document = export_customer_data(services(platform).uows(ctx.tenant_id), ctx, customer_id)
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="datos-cliente-{document["cliente"]["id"]}.json"',
            "Cache-Control": "no-store",
        },
    )
