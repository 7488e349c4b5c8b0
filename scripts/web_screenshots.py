"""Screenshots of BarberPro's main pages at phone and desktop sizes, for docs/screenshots/.

Seeds the demo tenants into a throw-away SQLite database with the clock fixed at Tuesday
3 March 2026, 09:00 in Buenos Aires (so the pictures do not change from run to run), serves
the app with uvicorn on loopback and photographs it with Debian's Chromium through Playwright.

    .venv/bin/python scripts/web_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLOCK = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
PHONE: Any = {"width": 390, "height": 844}  # playwright ViewportSize
DESKTOP: Any = {"width": 1280, "height": 860}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP *.barberpro.localhost 127.0.0.1"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright
    from rich.progress import Progress

    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from live_server import live_server

    from barberpro.adapters.clock import FixedClock
    from barberpro.bootstrap import build, migrate
    from barberpro.config import Settings
    from barberpro.entrypoints.cli.demo_data import DEMO_PASSWORD, PLANS, seed_demo

    written: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/shots.db", var_dir=tmp, secret_key="s" * 40,
                            default_tenant="demo", log_level="WARNING", rate_limit_enabled=False)  # fmt: skip
        migrate(settings)
        platform = build(settings, clock=FixedClock(CLOCK))
        seed_demo(platform)
        tenant = platform.directory.tenant_by_slug("demo")
        assert tenant is not None
        with platform.uow(tenant.id, write=False) as uow:
            shop = uow.shops.list()[0]
            service = uow.services.list(shop.id)[1]
        with live_server(platform) as base, sync_playwright() as playwright:
            port = base.rsplit(":", 1)[1]
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

            def url(slug: str, path: str) -> str:
                return f"http://{slug}.barberpro.localhost:{port}{path}"

            step = f"/reservar?local={shop.id}&servicio={service.id}&barbero=cualquiera&fecha=2026-03-04"
            shots: list[tuple[str, str, str, Any]] = [
                ("shop-phone", "demo", "/", PHONE),
                ("shop-navaja-phone", "navaja", "/", PHONE),
                ("booking-times-phone", "demo", step, PHONE),
                ("booking-details-phone", "demo", step + "&hora=2026-03-04T10:30:00-03:00", PHONE),
                ("shop-desktop", "demo", "/", DESKTOP),
                ("privacy-phone", "demo", "/privacidad", PHONE),
            ]
            with Progress() as progress:
                task = progress.add_task("Capturas", total=len(shots) + 4)
                for name, slug, path, viewport in shots:
                    page = browser.new_page(viewport=viewport)
                    page.goto(url(slug, path))
                    page.screenshot(path=str(out / f"{name}.png"))
                    written.append({"file": f"{name}.png", "url": path.split("?")[0], "viewport": viewport})
                    page.close()
                    progress.advance(task)
                # A booking made through the page, then its confirmation (manage link).
                page = browser.new_page(viewport=PHONE)
                page.goto(url("demo", step + "&hora=2026-03-04T11:30:00-03:00"))
                page.get_by_label("Nombre y apellido").fill("Sofía Romero")
                page.get_by_label("Celular").fill("+54 9 11 3456-7890")
                page.get_by_label("E-mail").fill("sofia@example.com")
                page.get_by_label("Leí el aviso de privacidad", exact=False).check()
                page.get_by_role("button", name="Confirmar turno").click()
                page.get_by_role("heading", name="¡Listo! Tu turno está confirmado").wait_for()
                page.screenshot(path=str(out / "confirmation-phone.png"))
                written.append({"file": "confirmation-phone.png", "url": "/reservas/{id}", "viewport": PHONE})
                page.close()
                progress.advance(task)
                # Staff: agenda and admin, logged in as the demo owner.
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                page.goto(url("demo", "/staff/ingresar"))
                page.get_by_label("E-mail").fill(PLANS[0].owner)
                page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Ingresar").click()
                page.get_by_role("heading", name=f"Agenda · {shop.name}").wait_for()
                page.screenshot(path=str(out / "agenda-desktop.png"))
                written.append({"file": "agenda-desktop.png", "url": "/staff/agenda", "viewport": DESKTOP})
                progress.advance(task)
                page.goto(url("demo", "/staff/admin"))
                page.screenshot(path=str(out / "admin-desktop.png"))
                written.append({"file": "admin-desktop.png", "url": "/staff/admin", "viewport": DESKTOP})
                progress.advance(task)
                page.set_viewport_size(PHONE)
                page.goto(url("demo", "/staff/agenda"))
                page.screenshot(path=str(out / "agenda-phone.png"))
                written.append({"file": "agenda-phone.png", "url": "/staff/agenda", "viewport": PHONE})
                progress.advance(task)
                context.close()
            browser.close()
        platform.close()
    for item in written:
        item["bytes"] = (out / item["file"]).stat().st_size
    print(json.dumps({"screenshots": written, "clock": CLOCK.isoformat()}, indent=2))


if __name__ == "__main__":
    main()
