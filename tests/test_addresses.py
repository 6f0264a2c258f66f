"""Each page has an address per language: English at the contract paths, French under /fr/.

A /fr/ link shows French to everyone; an unprefixed page leads a visitor who prefers French
(cookie, else browser) to its French address; files and data have one address; emails and
calendar files link to the registrant's language.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage
from portal.services import feedback as feedback_rules
from portal.services.outbox import calendar_attachment
from portal.services.registration import queue_reminder
from tests.conftest import csrf_token_from
from tests.factories import (
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_webinar,
    now,
)

FRENCH_BROWSER = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}


@pytest.fixture
def webinar(app):
    found = make_webinar(slug="tech", title="Technology", capacity=50, starts_at=now() + timedelta(days=10))
    make_presentation(found, [make_presenter(slug="ada", name="Ada Lovelace")], title="A talk")
    db.session.commit()
    return found


def html_of(response) -> str:
    return response.get_data(as_text=True)


def links(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action)="([^"]+)"', html)


def test_a_french_address_shows_french_and_keeps_its_links_french(client, webinar):
    response = client.get("/fr/webinars/tech")
    html = html_of(response)
    assert response.status_code == 200 and '<html lang="fr">' in html
    assert "Passer au contenu principal" in html
    hrefs = links(html)
    assert "/fr/presenters/ada" in hrefs and "/fr/webinars/" in hrefs and "/fr/register/tech" in hrefs
    assert "/fr/webinars/tech.ics" in hrefs
    # Files and data keep one address, so caches hold one copy.
    assert any(re.match(r"/static/css/portal(-[0-9a-f]{32})?\.css$", h) for h in hrefs)
    assert not any(h.startswith(("/fr/static/", "/fr/api/")) for h in hrefs)
    assert "/api/v1/webinars" in hrefs


def test_a_french_link_shows_french_whatever_the_cookie_or_browser(client, webinar):
    client.set_cookie("portal_lang", "en")
    response = client.get("/fr/webinars/tech", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and '<html lang="fr">' in html_of(response)


@pytest.mark.parametrize("path", ["/fr", "/fr/"])
def test_the_french_home(client, webinar, path):
    response = client.get(path)
    assert response.status_code == 200 and '<html lang="fr">' in html_of(response)


@pytest.mark.parametrize("path", ["/fr/static/css/portal.css", "/fr/api/v1/webinars", "/fr/language/en",
                                  "/fr/healthz", "/fr/fr/webinars/", "/en/webinars/", "/frx/webinars/"])
def test_shared_paths_have_no_french_copy(client, webinar, path):
    assert client.get(path).status_code == 404


def test_an_unprefixed_page_is_english_for_a_visitor_without_a_french_preference(client, webinar):
    for headers in ({}, {"Accept-Language": "en-CA"}, {"Accept-Language": "de"}):
        response = client.get("/webinars/tech", headers=headers)
        assert response.status_code == 200 and '<html lang="en">' in html_of(response), headers
        assert {"Cookie", "Accept-Language"} <= set(response.vary)


def test_a_french_browser_is_led_to_the_french_address(client, webinar):
    response = client.get("/webinars/tech?from=mail", headers=FRENCH_BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/fr/webinars/tech?from=mail"
    assert {"Cookie", "Accept-Language"} <= set(response.vary)


def test_the_chosen_language_wins_over_the_browser(client, webinar):
    client.set_cookie("portal_lang", "en")
    assert client.get("/webinars/tech", headers=FRENCH_BROWSER).status_code == 200
    client.set_cookie("portal_lang", "fr")
    response = client.get("/webinars/tech", headers={"Accept-Language": "en"})
    assert response.status_code == 302 and response.headers["Location"] == "/fr/webinars/tech"


def test_files_data_and_forms_are_never_redirected(client, webinar):
    client.set_cookie("portal_lang", "fr")
    for path in ("/webinars/tech.ics", "/calendar.ics", "/api/v1/webinars", "/healthz", "/static/css/portal.css"):
        response = client.get(path)
        response.close()
        assert response.status_code == 200, path
    # A form sent from an English page is answered there (not redirected, which would lose it).
    assert client.post("/register/tech", data={}).status_code != 302


def test_the_switch_leads_to_the_same_page_in_the_other_language_and_remembers(client, webinar):
    english = html_of(client.get("/webinars/tech?x=1"))
    switch = re.search(r'<a href="([^"]+)"\s+lang="fr" hreflang="fr">Français</a>', english).group(1)
    assert switch == "/language/fr?next=/fr/webinars/tech?x%3D1"
    followed = client.get(switch)
    assert followed.headers["Location"] == "/fr/webinars/tech?x=1"
    assert "portal_lang=fr" in followed.headers["Set-Cookie"]

    french = html_of(client.get("/fr/webinars/tech?x=1"))
    back = re.search(r'<a href="([^"]+)"\s+lang="en" hreflang="en">English</a>', french).group(1)
    assert back == "/language/en?next=/webinars/tech?x%3D1"
    returned = client.get(back)
    assert returned.headers["Location"] == "/webinars/tech?x=1"
    # The choice is remembered: the English page now stays English even for a French browser.
    assert '<html lang="en">' in html_of(client.get("/webinars/tech?x=1", headers=FRENCH_BROWSER))


def test_an_old_switch_link_to_an_unprefixed_page_lands_on_its_french_address(client, webinar):
    assert client.get("/language/fr?next=/webinars/tech").headers["Location"] == "/fr/webinars/tech"
    assert client.get("/language/en?next=/fr/webinars/tech").headers["Location"] == "/webinars/tech"
    assert client.get("/language/fr?next=/fr").headers["Location"] == "/fr/"


@pytest.mark.parametrize("path", ["/", "/webinars/tech", "/presenters/ada", "/privacy"])
def test_every_public_page_names_its_addresses_in_both_languages(client, webinar, path):
    for shown in (path, "/fr" + path):
        html = html_of(client.get(shown))
        assert f'<link rel="alternate" hreflang="en" href="http://portal.test{path}">' in html, shown
        assert f'<link rel="alternate" hreflang="fr" href="http://portal.test/fr{path}">' in html, shown
        assert f'<link rel="alternate" hreflang="x-default" href="http://portal.test{path}">' in html, shown


def test_error_pages_name_no_alternates(client, webinar):
    html = html_of(client.get("/fr/webinars/nowhere"))
    assert 'hreflang="x-default"' not in html and '<html lang="fr">' in html


def test_organiser_pages_live_in_both_languages(client, webinar):
    response = client.get("/fr/organiser/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/fr/organiser/login")
    login = client.get("/fr/organiser/login")
    assert '<html lang="fr">' in html_of(login)
    organiser = make_organiser("organiser")
    db.session.commit()
    signed_in = client.post("/fr/organiser/login", data={
        "csrf_token": csrf_token_from(html_of(login)), "email": organiser.email,
        "password": "correct horse battery staple 42"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].startswith("/fr/organiser/")
    assert '<html lang="fr">' in html_of(client.get("/fr/organiser/"))


def test_secret_link_pages_stay_out_of_caches_in_french_too(client, webinar):
    _, token = make_registration(webinar, preferred_language="fr")
    db.session.commit()
    response = client.get(f"/fr/registration/{token}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_under_a_path_prefix_the_language_follows_the_prefix(client, webinar):
    response = client.get("/fr/webinars/tech", base_url="http://portal.test/portal/")
    hrefs = links(html_of(response))
    assert "/portal/fr/presenters/ada" in hrefs
    assert any(h.startswith("/portal/static/css/") for h in hrefs)
    redirected = client.get("/webinars/tech", base_url="http://portal.test/portal/", headers=FRENCH_BROWSER)
    assert redirected.headers["Location"] == "/portal/fr/webinars/tech"
    switched = client.get("/language/en?next=/fr/webinars/tech", base_url="http://portal.test/portal/")
    assert switched.headers["Location"] == "/portal/webinars/tech"


# --- links in emails, calendar files and the API ---------------------------------------------

def register(client, webinar, language: str, email: str) -> None:
    page = client.get("/register/tech")
    response = client.post("/register/tech", data={
        "csrf_token": csrf_token_from(html_of(page)), "full_name": "Zoë Tremblay", "email": email,
        "organisation_name": "", "sector": "education", "region": "QC", "preferred_language": language,
        "accessibility_needs": "", "consent": "y"})
    assert response.status_code == 302


def message_to(email: str, kind: str) -> OutboxMessage:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email,
                                                           OutboxMessage.kind == kind)).one()


def test_emails_link_to_the_registrants_language(client, webinar):
    register(client, webinar, "fr", "fr@example.org")
    register(client, webinar, "en", "en@example.org")
    french, english = message_to("fr@example.org", "confirmation"), message_to("en@example.org", "confirmation")
    for body in (french.body_text, french.body_html):
        assert "http://portal.test/fr/registration/" in body
        assert "http://portal.test/fr/webinars/tech" in body
        assert "http://portal.test/registration/" not in body
    for body in (english.body_text, english.body_html):
        assert "http://portal.test/registration/" in body and "/fr/" not in body
    token = re.search(r"http://portal.test/fr/registration/([\w-]+)", french.body_text).group(1)
    assert '<html lang="fr">' in html_of(client.get(f"/fr/registration/{token}"))
    assert "URL:http://portal.test/fr/webinars/tech" in calendar_attachment(french).decode().replace("\r\n ", "")
    assert "URL:http://portal.test/webinars/tech" in calendar_attachment(english).decode().replace("\r\n ", "")


def test_reminders_and_feedback_invitations_sent_from_commands_link_to_the_registrants_language(app, webinar):
    french, _ = make_registration(webinar, email="fr@example.org", preferred_language="fr")
    queue_reminder(french)
    webinar.starts_at = now() - timedelta(hours=3)
    feedback_rules.queue_invitation(french, feedback_rules.feedback_window(webinar))
    db.session.commit()
    assert "http://portal.test/fr/registration/" in message_to("fr@example.org", "reminder").body_text
    invitation = message_to("fr@example.org", "feedback_invitation").body_text
    assert "http://portal.test/fr/feedback/" in invitation and "http://portal.test/fr/webinars/tech" in invitation


def test_the_api_links_pages_in_the_language_asked_for(client, webinar):
    english = client.get("/api/v1/webinars/tech").get_json()
    assert english["url"] == "http://portal.test/webinars/tech"
    for response in (client.get("/api/v1/webinars/tech?lang=fr"),
                     client.get("/api/v1/webinars/tech", headers=FRENCH_BROWSER)):
        body = response.get_json()
        assert body["url"] == "http://portal.test/fr/webinars/tech"
        assert body["ics_url"] == "http://portal.test/fr/webinars/tech.ics"
        assert body["presentations"][0]["presenters"][0]["url"] == "http://portal.test/fr/presenters/ada"
        assert "Accept-Language" in response.vary
    assert client.get("/api/v1/webinars/tech?lang=fr", headers={"Accept-Language": "en"}).get_json()["url"] \
        == "http://portal.test/fr/webinars/tech"
    refused = client.get("/api/v1/webinars?lang=xx")
    assert refused.status_code == 400 and "lang" in refused.get_json()["error"]["detail"]


def test_a_french_calendar_file_links_the_french_page(client, webinar):
    ics = client.get("/fr/webinars/tech.ics").get_data(as_text=True).replace("\r\n ", "")
    assert "URL:http://portal.test/fr/webinars/tech" in ics


def test_the_openapi_document_describes_the_language_parameter(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, item in paths.items():
        assert [p["name"] for p in item["parameters"]] == ["lang"], path
        assert item["parameters"][0]["schema"]["enum"] == ["en", "fr"]
