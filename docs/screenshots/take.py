"""Take the README's screenshots: the demo series in a throw-away database, served live, seen by Chromium.

Run by hand when the pages change (the demo's dates follow today, so every run
changes the PNGs; a test would either churn the files or always be skipped):

    .venv/bin/python docs/screenshots/take.py

It builds a temporary SQLite database with the real migrations, loads
``demo load --upcoming --with-registrations``, adds an admin account, serves the
app on a free local port (tests/browser_support.py's LiveServer) and saves
1280 × 900 PNGs next to this file (the organiser dashboard whole, 1280 wide). The visitor is in Paris, so the "your time"
line differs from the series' Toronto time. The Content-Security-Policy stays in
force: a console error (CSP violation, script error) stops the script.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Series, Webinar  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, chromium_available  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "screenshots only: not a real password 42"

#: name of the PNG → page, filled from the loaded demo series.
PUBLIC_PAGES = {
    "home": "/",
    "webinar": "/webinars/{webinar_slug}",
    "series-report": "/series/{series_slug}/report",
    "registration-form": "/register/{webinar_slug}",
}
ORGANISER_PAGES = {"organiser-dashboard": "/organiser/"}
#: Taken whole rather than the first 900 px: the overview's charts sit below the counts.
FULL_PAGE = {"organiser-dashboard"}


def build_app(folder: Path):
    app = create_app({
        "SECRET_KEY": "screenshots",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'portal.db'}",
        "PORTAL_BASE_URL": "http://portal.test",
        "MAIL_SERVER": None,
        "MAIL_FOLDER": str(folder / "mail"),
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        result = app.test_cli_runner().invoke(args=["demo", "load", "--upcoming", "--with-registrations"])
        if result.exit_code != 0:
            raise SystemExit(f"demo load failed:\n{result.output}")
        values = names_in_demo()
        from portal.services import accounts

        accounts.create_organiser(email=ADMIN_EMAIL, name="Ada Admin", role="admin", password=ADMIN_PASSWORD)
        db.session.commit()
        db.session.remove()
    return app, values


def names_in_demo() -> dict:
    series = db.session.scalars(db.select(Series).order_by(Series.id)).first()
    webinar = db.session.scalars(
        db.select(Webinar).where(Webinar.series_id == series.id).order_by(Webinar.starts_at)
    ).first()
    return {"series_slug": series.slug, "webinar_slug": webinar.slug}


def shoot(url: str, values: dict) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA",
                                      timezone_id="Europe/Paris")
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if _is_problem(m) else None)
        page.on("response", lambda r: problems.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        for name, path in PUBLIC_PAGES.items():
            saved.append(_save(page, url + path.format(**values), name))
        _sign_in(page, url)
        for name, path in ORGANISER_PAGES.items():
            saved.append(_save(page, url + path.format(**values), name))
        browser.close()
    if problems:
        raise SystemExit("browser console errors:\n" + "\n".join(problems))
    return saved


def _is_problem(message) -> bool:
    """Console errors, except 4xx notes: Chromium's own /favicon.ico request (unseen by
    Playwright) is one; a 4xx answer to the page or its assets is caught as a response."""
    return message.type == "error" and not message.text.startswith("Failed to load resource: the server "
                                                                    "responded with a status of 4")


def _save(page, address: str, name: str) -> Path:
    response = page.goto(address)
    if response.status != 200:
        raise SystemExit(f"{address}: HTTP {response.status}")
    target = HERE / f"{name}.png"
    page.screenshot(path=str(target), full_page=name in FULL_PAGE)
    return target


def _sign_in(page, url: str) -> None:
    page.goto(url + "/organiser/login")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    if "/organiser/login" in page.url:
        raise SystemExit("admin sign-in failed: " + page.inner_text("main"))


def main() -> None:
    if not chromium_available():
        raise SystemExit(f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)")
    with tempfile.TemporaryDirectory(prefix="portal-screenshots-") as tmp:
        app, values = build_app(Path(tmp))
        with LiveServer(app) as server:
            saved = shoot(server.url, values)
        with app.app_context():
            db.engine.dispose()
    for path in saved:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
