"""Real Chromium against a live server: axe-core (WCAG 2.1 A/AA), keyboard use, 320 px layout.

One server and one browser serve the whole module; the demo series is loaded
into the test database once, and the tables are emptied again at the end, as
the ``app`` fixture does after every other test.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from portal import create_app
from portal.extensions import db
from portal.models import Organisation, Presentation, Series, Webinar
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FOCUS_RING_JS,
    OVERFLOWING_JS,
    SCROLL_WIDTH_JS,
    TABBABLE_JS,
    LiveServer,
    Site,
    chromium_available,
    describe_violations,
    playwright_available,
    run_axe,
)
from tests.conftest import _empty_all_tables, _test_settings, require
from tests.factories import make_presentation, make_registration, make_series, make_webinar, now

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_PASSWORD = "correct horse battery staple 42"

#: Every page a visitor can reach, by name: a path template filled from the loaded data.
PUBLIC_PAGES = {
    "home": "/",
    "webinars": "/webinars/",
    "webinar": "/webinars/{webinar_slug}",
    "past-webinar": "/webinars/{past_webinar_slug}",
    "presenters": "/presenters/",
    "presenter": "/presenters/{presenter_slug}",
    "series": "/series/{series_slug}",
    "series-report": "/series/{series_slug}/report",
    "privacy": "/privacy",
    "accessibility": "/accessibility",
    "not-found": "/webinars/no-such-webinar",
    "register": "/register/{webinar_slug}",
    "register-sent": "/register/{webinar_slug}/sent",
    "manage": "/registration/{manage_token}",
    "cancel": "/registration/{manage_token}/cancel",
    "feedback": "/feedback/{feedback_token}",
    "erase": "/registration/{feedback_token}/erase",
    "erased": "/registration/erased",
    "organiser-login": "/organiser/login",
    "certificate": "/certificates/{certificate_code}",
}

#: Pages behind the organiser sign-in, visited as an admin.
ORGANISER_PAGES = {
    "dashboard": "/organiser/",
    "password": "/organiser/password",
    "programme": "/organiser/programme",
    "series-new": "/organiser/series/new",
    "series-edit": "/organiser/series/{series_id}",
    "theme-edit": "/organiser/themes/{theme_id}",
    "webinar-new": "/organiser/series/{series_id}/webinars/new",
    "webinar-admin": "/organiser/webinars/{webinar_id}",
    "webinar-edit": "/organiser/webinars/{webinar_id}/edit",
    "webinar-cancel": "/organiser/webinars/{webinar_id}/cancel",
    "presentation-new": "/organiser/webinars/{webinar_id}/presentations/new",
    "presentation-edit": "/organiser/presentations/{presentation_id}",
    "presenter-new": "/organiser/presenters/new",
    "presenter-edit": "/organiser/presenters/{presenter_id}",
    "organisation-new": "/organiser/organisations/new",
    "organisation-edit": "/organiser/organisations/{organisation_id}",
    "registrations": "/organiser/webinars/{webinar_id}/registrations",
    "checkin": "/organiser/webinars/{webinar_id}/checkin",
    "attendance": "/organiser/webinars/{past_webinar_id}/attendance",
    "feedback-results": "/organiser/webinars/{past_webinar_id}/feedback",
    "feedback-summary": "/organiser/webinars/{past_webinar_id}/feedback/summary",
    "series-feedback": "/organiser/series/{past_series_id}/feedback",
    "message": "/organiser/webinars/{webinar_id}/message",
    "series-translations": "/organiser/series/{series_id}/translations",
    "invitations": "/organiser/webinars/{webinar_id}/invitations",
    "series-questions": "/organiser/series/{series_id}/questions",
    "webinar-questions": "/organiser/webinars/{webinar_id}/questions",
    "question-edit": "/organiser/questions/{question_id}",
    "panel-questions": "/organiser/webinars/{webinar_id}/panel-questions",
    "presenter-brief": "/organiser/webinars/{webinar_id}/presenter-brief",
    "accounts": "/organiser/accounts",
    "audit": "/organiser/audit",
    "after-webinar": "/organiser/webinars/{past_webinar_id}/after",
    "series-certificates": "/organiser/series/{past_series_id}/certificates",
    "followup-preview": "/organiser/webinars/{past_webinar_id}/followup/{followup_version}/{followup_language}",
    "site-identity": "/organiser/site-identity",
    "add-registration": "/organiser/webinars/{webinar_id}/registrations/new",
}

#: Routes that are not HTML pages (files, JSON, redirects) or only answer POST.
NOT_PAGES = re.compile(
    r"\.(ics|csv|json|pdf|zip)$|/materials/<int:material_id>$|^/api/|^/(healthz|readyz|metrics)$|^/static/|^/language/|^/organiser/logout$|^/organiser/signups$"
    r"|^/site/"
)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_app(_migrated, tmp_path_factory):
    require(playwright_available(), "the playwright package is not installed (pip install -r requirements-dev.txt)")
    require(chromium_available(), f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    settings = _test_settings(_migrated, tmp_path_factory.mktemp("live-mail"))
    # Let Chromium cache the stylesheets and script instead of revalidating them on every page.
    app = create_app({**settings, "SEND_FILE_MAX_AGE_DEFAULT": 3600})
    yield app
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture(scope="module")
def site(live_app):
    """The demo series (dates shifted ahead, with fake sign-ups) plus a past webinar, served live."""
    with live_app.app_context():
        _empty_all_tables()
        result = live_app.test_cli_runner().invoke(args=["demo", "load", "--upcoming", "--with-registrations"])
        assert result.exit_code == 0, result.output
        values = _scene()
        db.session.commit()
        db.session.remove()
    with LiveServer(live_app) as server:
        yield Site(url=server.url, values=values, admin_email="admin@example.org", admin_password=ADMIN_PASSWORD)


def _scene() -> dict:
    """Names and secrets of the records the pages show; adds what the demo has not got."""
    from portal.services import accounts

    series = db.session.scalars(db.select(Series).order_by(Series.id)).first()
    webinar = db.session.scalars(
        db.select(Webinar).where(Webinar.series_id == series.id).order_by(Webinar.starts_at)
    ).first()
    presentation = db.session.scalars(
        db.select(Presentation).where(Presentation.webinar_id == webinar.id).order_by(Presentation.position)
    ).first()
    presenter = presentation.presenters[0]
    organisation = db.session.scalars(db.select(Organisation).order_by(Organisation.id)).first()
    theme = series.key_themes[0] if getattr(series, "key_themes", None) else None
    alex, manage_token = make_registration(webinar, full_name="Alex Tremblay", email="alex@example.org")
    question = _questions_and_invitations(series, webinar, alex, presentation)
    vetted = make_webinar(series, slug="vetted-briefing", title="Vetted briefing", capacity=5,
                          starts_at=now() + timedelta(minutes=20), join_url=JOIN_URL)
    past, feedback_token = _past_webinar_with_feedback(presenter)
    accounts.create_organiser(email="admin@example.org", name="Ada Admin", role="admin", password=ADMIN_PASSWORD)
    return {
        "series_slug": series.slug, "series_id": series.id,
        "webinar_slug": webinar.slug, "webinar_id": webinar.id,
        "past_webinar_slug": past.slug, "past_webinar_id": past.id, "past_series_id": past.series_id,
        "presentation_id": presentation.id,
        "presenter_slug": presenter.slug, "presenter_id": presenter.id,
        "organisation_id": organisation.id,
        "theme_id": theme.id if theme else 0,
        "manage_token": manage_token, "feedback_token": feedback_token,
        "question_id": question.id, "vetted_slug": vetted.slug, "vetted_id": vetted.id,
        "certificate_code": _certificate_code(past), "followup_version": "missed", "followup_language": "fr",
    }


JOIN_URL = "https://meet.example.org/vetted-room-2718"


def _questions_and_invitations(series, webinar, registration, presentation):
    """A series question, an invitation and a question for the panel, so their pages show something."""
    from portal.models import PanelQuestion, Question, QuestionKind
    from portal.services import invitations
    from portal.services import questions as rules

    question = Question(series_id=series.id, kind=QuestionKind.ONE_CHOICE, label_en="Your role",
                        label_fr="Votre rôle", help_en="", help_fr="", required=False, position=0,
                        choices=[{"code": "c1", "en": "Analyst", "fr": "Analyste"}])
    db.session.add(question)
    rules.touch(series, None)
    invitations.invite(webinar, [invitations.Invitee("Invited Person", "invited@example.org")])
    db.session.add(PanelQuestion(webinar_id=webinar.id, registration_id=registration.id,
                                 presentation_id=presentation.id, text="How do you triage reports?",
                                 share_name=True))
    db.session.flush()
    return question


def _certificate_code(past: Webinar) -> str:
    """Sam Roy's certificate (and a material) for the past webinar's manage, verification and organiser pages."""
    from portal.models import Material, MaterialKind, Registration
    from portal.services import certificates

    db.session.add(Material(webinar_id=past.id, kind=MaterialKind.LINK, title="Reporting checklist",
                            url="https://example.org/checklist"))
    sam = db.session.scalars(db.select(Registration).where(Registration.email == "sam@example.org",
                                                           Registration.webinar_id == past.id)).one()
    return certificates.certificate_for(sam).code


def _past_webinar_with_feedback(presenter) -> tuple[Webinar, str]:
    """The demo's dates are shifted ahead, so feedback pages need a webinar that is over."""
    from portal.services import feedback

    archive = make_series(slug="pilot-sessions", title="Pilot sessions",
                          summary="A pilot session held before the series.")
    past = make_webinar(archive, slug="pilot-online-safety-basics", title="Pilot: online safety basics",
                        starts_at=now() - timedelta(days=2), duration_minutes=60, attendance_final_at=now(),
                        recording_url="https://video.example.org/pilot",
                        highlights="Participants asked how to report exploitation material.")
    talks = [make_presentation(past, [presenter], title=title) for title in ("Reporting", "Prevention")]
    for n, rating in enumerate((5, 4, 2)):
        registration, _ = make_registration(past, attended=True)
        feedback.submit(registration, feedback.Answers(
            overall_rating=rating, presentation_ratings={talks[0].id: rating, talks[1].id: 3}, relevance=4,
            most_useful=f"Comment {n}: the reporting walkthrough.", quote_consent=n % 2 == 0))
    _, token = make_registration(past, full_name="Sam Roy", email="sam@example.org", attended=True)
    make_registration(past, full_name="Priya Raman", email="priya.raman@example.ca")
    # A Zoom report, so the attendance page shows its summary and people to match by name.
    from portal.services import attendance

    report = (Path(__file__).parent / "data" / "attendance" / "plain.csv").read_bytes() + b"Nobody,,soon\n"
    attendance.import_report(past, io.BytesIO(report), filename="plain.csv")
    return past, token


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _context(browser, **options):
    """A visitor abroad (Paris), so "your time" differs from the series' Toronto time."""
    return browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA",
                               timezone_id="Europe/Paris", **options)


@pytest.fixture
def page(browser):
    """A fresh visitor; the Content-Security-Policy stays in force and any violation fails the test."""
    context = _context(browser)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert not problems, "browser console errors (CSP violations, script errors):\n" + "\n".join(problems)


def _is_problem(message) -> bool:
    """Errors in the console, except the browser noting a 4xx answer the test asked for (a 404, a 422 form)."""
    return message.type == "error" and not re.match(r"Failed to load resource: .*status of 4\d\d", message.text)


@pytest.fixture(scope="module")
def axe_page(browser):
    """axe-core is injected as an inline script, which the portal's CSP rightly forbids: bypass it here only.

    One tab serves every page in turn, which keeps the module fast.
    """
    context = _context(browser, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def organiser_page(browser, site):
    """One tab signed in as an admin (through the real sign-in form)."""
    context = _context(browser, bypass_csp=True)
    page = context.new_page()
    page.goto(site("/organiser/login"))
    page.fill("#email", site.admin_email)
    page.fill("#password", site.admin_password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/organiser/login" not in page.url, "admin sign-in failed: " + page.inner_text("main")
    yield page
    context.close()


def _route_missing(app, path: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except MethodNotAllowed:
        return True
    except NotFound:
        return True
    return endpoint == "http_error"


def _visit(page, site, path: str, status: int = 200):
    response = page.goto(site(path))
    assert response.status == status, f"{path}: HTTP {response.status}"
    return page


def _assert_fits_320px(page, what: str) -> None:
    """WCAG 1.4.10 reflow: at 320 CSS px wide nothing may need sideways scrolling."""
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        width = page.evaluate(SCROLL_WIDTH_JS)
        assert width <= 320, f"{what} is {width} px wide at 320 px; sticking out: {page.evaluate(OVERFLOWING_JS, 320)}"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _assert_accessible(page, what: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe-core found WCAG 2.1 A/AA violations on {what}:\n" + describe_violations(violations)


# --- axe-core on every page --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page_passes_axe_and_fits_320px(name, site, live_app, axe_page):
    path = site.path(PUBLIC_PAGES[name])
    if name != "not-found" and _route_missing(live_app, path):
        pytest.skip(f"route for {PUBLIC_PAGES[name]} does not exist yet")
    _visit(axe_page, site, path, status=404 if name == "not-found" else 200)
    _assert_accessible(axe_page, f"{name} ({path})")
    _assert_fits_320px(axe_page, f"{name} ({path})")


@pytest.mark.parametrize("name", list(ORGANISER_PAGES))
def test_organiser_page_passes_axe_and_fits_320px(name, site, live_app, organiser_page):
    path = site.path(ORGANISER_PAGES[name])
    if _route_missing(live_app, path):
        pytest.skip(f"route for {ORGANISER_PAGES[name]} does not exist yet")
    _visit(organiser_page, site, path)
    _assert_accessible(organiser_page, f"organiser {name} ({path})")
    _assert_fits_320px(organiser_page, f"organiser {name} ({path})")


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page_passes_axe_at_its_french_address(name, site, live_app, axe_page):
    """Every public page again at /fr/…: French words are longer and must still fit and pass."""
    path = site.path(PUBLIC_PAGES[name])
    if name != "not-found" and _route_missing(live_app, path):
        pytest.skip(f"route for {PUBLIC_PAGES[name]} does not exist yet")
    _visit(axe_page, site, "/fr" + path, status=404 if name == "not-found" else 200)
    assert axe_page.evaluate("document.documentElement.lang") == "fr"
    _assert_accessible(axe_page, f"{name} in French (/fr{path})")
    _assert_fits_320px(axe_page, f"{name} in French (/fr{path})")


@pytest.mark.parametrize("name", list(ORGANISER_PAGES))
def test_organiser_page_passes_axe_and_fits_320px_at_its_french_address(name, site, live_app, organiser_page):
    path = site.path(ORGANISER_PAGES[name])
    if _route_missing(live_app, path):
        pytest.skip(f"route for {ORGANISER_PAGES[name]} does not exist yet")
    _visit(organiser_page, site, "/fr" + path)
    assert organiser_page.evaluate("document.documentElement.lang") == "fr"
    _assert_accessible(organiser_page, f"organiser {name} in French (/fr{path})")
    _assert_fits_320px(organiser_page, f"organiser {name} in French (/fr{path})")


def test_the_language_switch_leads_to_the_french_page_and_passes_axe(site, axe_page):
    path = site.path(PUBLIC_PAGES["webinar"])
    try:
        _visit(axe_page, site, path)
        with axe_page.expect_navigation():
            axe_page.click("header a[hreflang=fr]")
        assert axe_page.url == site("/fr" + path)
        assert axe_page.evaluate("document.documentElement.lang") == "fr"
        _assert_accessible(axe_page, f"the webinar page after the switch (/fr{path})")
    finally:
        axe_page.context.clear_cookies()


def test_french_registration_form_with_errors_passes_axe(site, axe_page):
    _visit(axe_page, site, "/fr" + site.path("/register/{webinar_slug}"))
    with axe_page.expect_navigation():
        axe_page.click("form button[type=submit]")
    assert axe_page.locator("[role=alert] a").count() >= 3
    _assert_accessible(axe_page, "the French registration form showing errors")
    _assert_fits_320px(axe_page, "the French registration form showing errors")


def test_registration_form_with_errors_passes_axe(site, axe_page):
    _visit(axe_page, site, site.path("/register/{webinar_slug}"))
    with axe_page.expect_navigation():
        axe_page.click("form button[type=submit]")
    assert axe_page.locator("[role=alert] a").count() >= 3
    _assert_accessible(axe_page, "the registration form showing errors")
    _assert_fits_320px(axe_page, "the registration form showing errors")


def test_feedback_form_with_errors_passes_axe(site, axe_page):
    _visit(axe_page, site, site.path("/feedback/{feedback_token}"))
    with axe_page.expect_navigation():
        axe_page.click("form button[type=submit]")
    assert axe_page.locator("[role=alert] a").count() >= 1
    _assert_accessible(axe_page, "the feedback form showing errors")
    _assert_fits_320px(axe_page, "the feedback form showing errors")


def test_organiser_login_with_errors_passes_axe(site, axe_page):
    _visit(axe_page, site, "/organiser/login")
    axe_page.fill("#email", "nobody@example.org")
    axe_page.fill("#password", "wrong")
    with axe_page.expect_navigation():
        axe_page.click("form button[type=submit]")
    _assert_accessible(axe_page, "the organiser sign-in showing an error")


def test_every_html_route_is_checked(live_app):
    """A page added later without a line above would escape the checks: list every GET route."""
    listed = {re.sub(r"\{[a-z_]+\}", "<>", p) for p in (*PUBLIC_PAGES.values(), *ORGANISER_PAGES.values())}
    missing = []
    for rule in live_app.url_map.iter_rules():
        if "GET" not in rule.methods or NOT_PAGES.search(rule.rule) or rule.endpoint == "static":
            continue
        shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        if shape not in listed:
            missing.append(rule.rule)
    assert not missing, f"pages not checked by axe-core: {missing}"


# --- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["webinar", "presenter"])
def test_breadcrumb_lines_up_with_the_page_content(name, site, page):
    """Pico pulls the first list of any <nav> out by its link padding; the breadcrumb must not follow."""
    page.goto(site(site.path(PUBLIC_PAGES[name])))
    crumb = page.locator(".breadcrumb a").first.bounding_box()
    heading = page.locator("main h1").first.bounding_box()
    assert abs(crumb["x"] - heading["x"]) < 1, f"breadcrumb at x={crumb['x']}, heading at x={heading['x']}"


# --- keyboard ---------------------------------------------------------------------------------


def test_skip_link_is_first_visible_and_moves_focus_to_main(site, page):
    page.goto(site("/"))
    page.keyboard.press("Tab")
    focused = page.evaluate("() => ({cls: document.activeElement.className, href: document.activeElement.getAttribute('href')})")
    assert focused == {"cls": "skip-link", "href": "#main"}
    box = page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 20, f"skip link not on screen when focused: {box}"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    inside_main = page.evaluate("document.getElementById('main').contains(document.activeElement)")
    assert inside_main, "after the skip link, Tab should continue inside the main content"


@pytest.mark.parametrize("name", ["home", "webinar", "register", "feedback"])
def test_tab_reaches_every_control_in_order_with_a_visible_focus_ring(name, site, page):
    page.goto(site(site.path(PUBLIC_PAGES[name])))
    _assert_tab_walk(page)


def test_organiser_dashboard_tab_order_and_focus_ring(site, organiser_page):
    organiser_page.goto(site("/organiser/"))
    _assert_tab_walk(organiser_page)


def _assert_tab_walk(page) -> None:
    """Tab from the top: every link and control, in document order, each visibly focused."""
    expected = page.evaluate(TABBABLE_JS)
    assert len(expected) > 5
    reached, unringed = [], []
    for _ in range(len(expected)):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING_JS)
        reached.append(ring.pop("active"))
        if not (ring["focusVisible"] and ring["ringed"] and ring["differs"]):
            unringed.append((reached[-1], ring))
    assert reached == expected, "Tab order differs from the document order of links and controls"
    assert not unringed, f"focused without a visible focus indicator: {unringed[:5]}"


def _tab_to(page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_registration_form_works_with_the_keyboard_alone(site, page):
    page.goto(site(site.path("/register/{webinar_slug}")))

    # Sent empty: the errors are announced and each links to its field.
    _tab_to(page, "form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.locator(".error-summary[role=alert]")
    assert summary.is_visible()
    assert "/register/" in page.url
    assert page.evaluate("document.activeElement.id") == "error-summary", "focus should start on the error summary"
    links = summary.locator("a")
    assert links.count() >= 4
    for n in range(links.count()):
        target = links.nth(n).get_attribute("href").lstrip("#")
        links.nth(n).focus()
        page.keyboard.press("Enter")
        focused = page.evaluate("[document.activeElement.id, document.activeElement.getAttribute('aria-invalid')]")
        assert focused[0] == target, f"error link #{target} moved focus to #{focused[0]}"
        if page.evaluate("t => ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.getElementById(t).tagName)", target):
            assert focused[1] == "true", f"#{target} is not marked aria-invalid"

    # Filled in and sent with keys only.
    page.goto(site(site.path("/register/{webinar_slug}")))
    _tab_to(page, "#full_name")
    page.keyboard.type("Geneviève Côté")
    page.keyboard.press("Tab")
    page.keyboard.type("genevieve.cote@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("École secondaire")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "sector"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "region"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "preferred_language"
    page.keyboard.press("Space")
    _tab_to(page, "#consent")
    page.keyboard.press("Space")
    assert page.is_checked("#consent")
    _tab_to(page, "form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".error-summary").count() == 0, page.inner_text("main")
    assert "/sent" in page.url or "check your email" in page.inner_text("main").lower(), page.inner_text("main")


def test_organiser_signs_in_with_the_keyboard_alone(site, page):
    page.goto(site("/organiser/login"))
    if page.evaluate("document.activeElement.id") != "email":
        _tab_to(page, "#email")
    page.keyboard.type(site.admin_email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(site.admin_password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/").endswith("/organiser"), page.url
    assert page.locator("h1").inner_text() != ""


def test_your_time_is_written_like_the_page_in_french(site, page):
    """Paris visitor, French page: the script's "your time" line uses Canadian French like the server."""
    page.goto(site("/language/fr?next=" + site.path("/webinars/{webinar_slug}")))
    line = page.locator("p[data-prefix]:not([hidden])").first
    text = line.inner_text()
    assert text.startswith(line.get_attribute("data-prefix")), text
    assert re.search(r"\b\d{1,2} h \d{2}\b", text), text
    assert not re.search(r"\b\d{1,2}:\d{2}\b", text), text


# --- a vetted session, end to end ---------------------------------------------------------------


def test_approval_webinar_with_a_conditional_question_end_to_end(site, organiser_page, page, live_app):
    """The organiser makes a webinar need approval and adds a question asked only after "yes"; an
    attendee registers (the question appears when "yes" is chosen), waits, is approved, and then
    finds the join link on their page."""
    from portal.models import Registration
    from portal.services.registration import manage_token

    organiser = organiser_page
    organiser.goto(site("/organiser/webinars/{vetted_id}/edit"))
    organiser.select_option("#audience", "approval")
    organiser.click("main button:has-text('Save')")
    organiser.wait_for_load_state()
    assert "Every registration approved by an organiser" in organiser.inner_text("main")

    organiser.goto(site("/organiser/webinars/{vetted_id}/questions"))
    organiser.select_option("#kind", "yes_no")
    organiser.fill("#label_en", "Do you work in law enforcement?")
    organiser.fill("#label_fr", "Travaillez-vous dans l’application de la loi?")
    organiser.check("#required")
    organiser.click("text=Add the question")
    organiser.wait_for_load_state()
    organiser.select_option("#kind", "short_text")
    organiser.fill("#label_en", "Which police service?")
    organiser.fill("#label_fr", "Quel service de police?")
    organiser.check("#required")
    organiser.select_option("#condition", label="Do you work in law enforcement? = Yes")
    organiser.click("text=Add the question")
    organiser.wait_for_load_state()
    assert "Which police service?" in organiser.inner_text("main")

    page.goto(site("/register/{vetted_slug}"))
    dependent = page.locator("[data-condition-field]")
    assert dependent.is_hidden()  # the script hides it until "Yes"
    page.fill("#full_name", "Robin Officer")
    page.fill("#email", "robin@york.police.ca")
    page.select_option("#sector", "law_enforcement")
    page.select_option("#region", "ON")
    page.get_by_label("Yes", exact=True).first.check()
    assert dependent.is_visible()
    dependent.locator("input").fill("York Regional Police")
    page.check("#consent")
    page.click("main button:has-text('Register')")
    page.wait_for_load_state()
    assert "Check your email" in page.inner_text("main"), page.inner_text("main")

    with live_app.app_context():
        registration = db.session.scalars(db.select(Registration).where(Registration.email == "robin@york.police.ca")).one()
        token = manage_token(registration)
        db.session.remove()
    page.goto(site(f"/registration/{token}"))
    assert "Awaiting approval" in page.inner_text("main") and JOIN_URL not in page.content()

    organiser.goto(site("/organiser/webinars/{vetted_id}/registrations?status=pending"))
    main = organiser.inner_text("main")
    assert "robin@york.police.ca" in main and "Law enforcement" in main
    organiser.click("summary:has-text('Answers')")
    assert "York Regional Police" in organiser.inner_text("main")
    organiser.check(f"#select-{registration.id}")
    organiser.select_option("#action", "approve")
    organiser.click("text=Continue")
    organiser.wait_for_load_state()
    organiser.click("button:has-text('Yes: Approve')")
    organiser.wait_for_load_state()
    assert "1 registration updated" in organiser.inner_text("main")

    page.goto(site(f"/registration/{token}"))
    assert page.get_by_role("button", name="Join the webinar").get_attribute("href") == JOIN_URL
