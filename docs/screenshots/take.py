"""Take the README's screenshots: the demo series in a throw-away database, served live, seen by Chromium.

Run by hand when the pages change (the demo's dates follow today, so every run
changes the PNGs; a test would either churn the files or always be skipped):

    .venv/bin/python docs/screenshots/take.py

It builds a temporary SQLite database with the real migrations, loads
``demo load --upcoming --with-registrations``, adds an admin account, serves the
app on a free local port (tests/browser_support.py's LiveServer) and saves
PNGs next to this file: 1280 × 900, one page at a phone's 375 px and one in French; the
dashboard, the phone home page and the feedback results whole. A page that scrolls sideways at
its width stops the script. The visitor is in Paris, so the "in your time zone" line differs
from the series' Toronto time. The Content-Security-Policy stays in
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
from portal.models import Registration, RegistrationStatus, Sector, Series, Webinar  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, chromium_available  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "screenshots only: not a real password 42"

#: name of the PNG → (page, viewport width), filled from the loaded demo series. One phone width
#: and one French page; every shot fails the script if the page scrolls sideways at its width.
PUBLIC_PAGES = {
    "home": ("/", 1280),
    "webinar": ("/webinars/{webinar_slug}", 1280),
    "registration-form": ("/register/{webinar_slug}", 1280),
    "manage": ("/registration/{manage_token}", 1280),
    "series-report": ("/series/{series_slug}/report", 1280),
    "home-phone": ("/", 375),
    "webinar-fr": ("/fr/webinars/{webinar_slug}", 1280),
}
ORGANISER_PAGES = {
    "organiser-dashboard": ("/organiser/", 1280),
    "registrations": ("/organiser/webinars/{webinar_id}/registrations?need=captions", 1280),
    "feedback-results": ("/organiser/webinars/{past_webinar_id}/feedback", 1280),
}
#: Taken whole rather than the first 900 px: the overview's charts sit below the counts.
FULL_PAGE = {"organiser-dashboard", "home-phone", "feedback-results"}
SCROLL_WIDTH_JS = "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"


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
    from portal.services import registration as registrations

    series = db.session.scalars(db.select(Series).order_by(Series.id)).first()
    webinar = db.session.scalars(
        db.select(Webinar).where(Webinar.series_id == series.id).order_by(Webinar.starts_at)
    ).first()
    [outcome] = registrations.register_for([webinar], registrations.RegistrantDetails(
        full_name="Alex Tremblay", email="alex.tremblay@example.org", organisation_name="Example School Board",
        sector=Sector.EDUCATION, region="QC", preferred_language="en",
        accessibility_needs="Captions, please"))
    past = past_webinar_with_feedback(series)
    return {"series_slug": series.slug, "webinar_slug": webinar.slug, "webinar_id": webinar.id,
            "manage_token": registrations.manage_token(outcome.registration), "past_webinar_id": past.id}


def past_webinar_with_feedback(series: Series) -> Webinar:
    """The demo's dates are shifted ahead, so the feedback results need a session that is over:
    a pilot held before the series, with twenty answers."""
    from datetime import timedelta

    from portal.models import Presentation, WebinarStatus
    from portal.models.types import utcnow
    from portal.services import feedback
    from portal.services import registration as registrations

    first = db.session.scalars(db.select(Webinar).where(Webinar.series_id == series.id)
                               .order_by(Webinar.starts_at)).first()
    past = Webinar(series=series, slug="pilot-session", title="Pilot session: reporting online exploitation",
                   starts_at=utcnow() - timedelta(days=3), duration_minutes=60, status=WebinarStatus.PUBLISHED,
                   language="en", highlights="Participants asked how to report exploitation material.")
    db.session.add(past)
    speakers = [list(first.presentations[n].presenters) for n in range(2)]
    with db.session.no_autoflush:
        talks = [Presentation(webinar=past, position=n, title=title, presenters=speakers[n])
                 for n, title in enumerate(("How reports reach the police", "Supporting young people who report"))]
        db.session.add_all(talks)
    db.session.flush()
    useful = ["The walkthrough of a report from start to finish.", "Concrete examples from schools.",
              "Knowing who to call.", ""]
    for n in range(20):
        registration = Registration(webinar=past, full_name=f"Respondent {n}", email=f"respondent{n}@example.org",
                                    email_normalised=f"respondent{n}@example.org", sector=list(Sector)[n % 9],
                                    region="ON", attended=True, token_hash=f"{n:064x}",
                                    status=RegistrationStatus.CONFIRMED)
        db.session.add(registration)
        db.session.flush()
        overall = (5, 4, 4, 5, 3, 4, 2, 5, 4, 4)[n % 10]
        feedback.submit(registration, feedback.Answers(
            overall_rating=overall, relevance=(4, 5, 3, 4)[n % 4],
            presentation_ratings={talks[0].id: overall, talks[1].id: (3, 4, 5)[n % 3]},
            most_useful=useful[n % 4], quote_consent=n % 3 == 0))
    del registrations
    return past


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
        for name, (path, width) in PUBLIC_PAGES.items():
            saved.append(_save(page, url + path.format(**values), name, width))
        _sign_in(page, url)
        for name, (path, width) in ORGANISER_PAGES.items():
            saved.append(_save(page, url + path.format(**values), name, width))
        browser.close()
    if problems:
        raise SystemExit("browser console errors:\n" + "\n".join(problems))
    return saved


def _is_problem(message) -> bool:
    """Console errors, except 4xx notes: Chromium's own /favicon.ico request (unseen by
    Playwright) is one; a 4xx answer to the page or its assets is caught as a response."""
    return message.type == "error" and not message.text.startswith("Failed to load resource: the server "
                                                                    "responded with a status of 4")


def _save(page, address: str, name: str, width: int) -> Path:
    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 812})
    response = page.goto(address)
    if response.status != 200:
        raise SystemExit(f"{address}: HTTP {response.status}")
    scroll_width, client_width = page.evaluate(SCROLL_WIDTH_JS)
    if scroll_width > client_width:
        raise SystemExit(f"{address} scrolls sideways at {width} px: {scroll_width} px wide")
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
