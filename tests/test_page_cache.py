"""Public pages cached like a static site: HTTP validators, the shared cache, freshness, privacy."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import flask_babel
import pytest
import sqlalchemy as sa
import time_machine

from portal import create_app
from portal.extensions import db
from portal.models import Webinar, WebinarStatus
from portal.models.types import utcnow
from tests.conftest import _test_settings, close_connections, csrf_token_from
from tests.factories import (
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_series,
    make_webinar,
    sign_in,
)


@pytest.fixture
def programme(app):
    series = make_series(slug="cached-series", title="Cached series")
    webinar = make_webinar(series, slug="cached-webinar", title="First title", capacity=3)
    presenter = make_presenter(slug="cached-presenter", name="Casey Cache")
    make_presentation(webinar, [presenter], title="A talk")
    db.session.commit()
    return webinar


def public_paths(webinar) -> list[str]:
    return ["/", "/webinars/", f"/webinars/{webinar.slug}", f"/webinars/{webinar.slug}.ics", "/calendar.ics",
            "/presenters/", "/presenters/cached-presenter", f"/series/{webinar.series.slug}",
            f"/series/{webinar.series.slug}/report", "/privacy", "/accessibility", "/api/v1/webinars",
            f"/api/v1/webinars/{webinar.slug}", "/api/v1/presenters"]


def visit(client, path: str, language: str | None = None, **headers):
    """A GET as a visitor makes it; the test's app context caches Flask-Babel's locale, so it
    is forgotten first (production has a context per request)."""
    flask_babel.refresh()
    if language:
        headers["Accept-Language"] = language
        if language == "fr" and not path.startswith("/api/") and not path.endswith(".ics"):
            path = "/fr" + path  # a page's French address (the API and calendars negotiate)
    return client.get(path, headers=headers)


_other_hosts: list = []


def another_host(app, **settings):
    """A second app on the same database: another worker or another host, with its own memory."""
    other = create_app({**_test_settings(app.config["SQLALCHEMY_DATABASE_URI"], app.config["MAIL_FOLDER"]),
                        **settings})
    _other_hosts.append(other)
    return other


@pytest.fixture(autouse=True)
def _close_other_hosts():
    yield
    while _other_hosts:
        close_connections(_other_hosts.pop())


def as_organiser(app, role="organiser"):
    organiser_client = app.test_client()
    sign_in(organiser_client, make_organiser(role))
    return organiser_client


def test_anonymous_pages_carry_validators_and_shared_cache_headers(client, programme):
    for path in public_paths(programme):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["ETag"], path
        assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=5, stale-while-revalidate=30"
        assert "Set-Cookie" not in response.headers, path
        assert response.headers.get("Vary") == "Cookie, Accept-Language, Accept-Encoding", path
        again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304, path
        assert again.data == b""
        assert again.headers["ETag"] == response.headers["ETag"]


def test_a_cached_page_is_byte_for_byte_the_rendered_one(app, client, programme):
    uncached = another_host(app, PAGE_CACHE_ENABLED=False).test_client()
    for language in ("en", "fr"):
        for path in public_paths(programme):
            first = visit(client, path, language)  # rendered and kept
            second = visit(client, path, language)  # from the cache
            rendered = visit(uncached, path, language)
            assert first.data == second.data == rendered.data, (language, path)
            assert first.headers["ETag"] == second.headers["ETag"] == rendered.headers["ETag"]
            per_answer = ("Date", "X-Request-ID")  # each answer has its own request id
            kept = {k: v for k, v in second.headers.items() if k not in per_answer}
            assert kept == {k: v for k, v in first.headers.items() if k not in per_answer}
            assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def statements_on(engine) -> list[str]:
    found: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: found.append(args[2]))
    return found


def test_a_repeat_visit_is_one_primary_key_lookup(app, client, programme, count_queries):
    client.get(f"/webinars/{programme.slug}")
    with count_queries() as counter:
        assert client.get(f"/webinars/{programme.slug}").status_code == 200
    assert counter.statements == ["SELECT version FROM content_version WHERE id = 1"]


def test_each_language_is_kept_apart(client, programme):
    english = visit(client, "/webinars/", "en").get_data(as_text=True)
    french = visit(client, "/webinars/", "fr").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert '<html lang="fr">' in french
    # The English page, now cached, is not served to a visitor whose cookie says French:
    # the unprefixed address sends them to the French one.
    client.set_cookie("portal_lang", "fr")
    flask_babel.refresh()
    moved = client.get("/webinars/")
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/fr/webinars/")
    api = client.get("/api/v1/webinars", headers={"Accept-Language": "fr"})
    assert api.headers["Vary"] == "Cookie, Accept-Language, Accept-Encoding"


def test_an_edit_is_visible_on_the_next_request_to_every_worker(app, client, programme):
    other = another_host(app).test_client()
    for visitor in (client, other):
        assert "First title" in visitor.get(f"/webinars/{programme.slug}").get_data(as_text=True)
        assert "First title" in visitor.get("/api/v1/webinars").get_data(as_text=True)
    # The organiser's save, as the programme service does it: one transaction.
    db.session.get(Webinar, programme.id).title = "Second title"
    db.session.commit()
    for visitor in (client, other):
        for path in (f"/webinars/{programme.slug}", "/", "/api/v1/webinars", "/calendar.ics"):
            page = visit(visitor, path, "fr").get_data(as_text=True)
            assert "Second title" in page and "First title" not in page, path


def test_publish_and_cancel_through_the_organiser_pages_are_visible_at_once(app, client, programme):
    draft = make_webinar(programme.series, slug="draft-one", title="Soon announced", status=WebinarStatus.DRAFT)
    db.session.commit()
    other = another_host(app).test_client()
    for visitor in (client, other):
        assert visitor.get("/webinars/draft-one").status_code == 404
        assert "Soon announced" not in visitor.get("/webinars/").get_data(as_text=True)
    organiser = as_organiser(app)
    token = csrf_token_from(organiser.get(f"/organiser/webinars/{draft.id}").get_data(as_text=True))
    published = organiser.post(f"/organiser/webinars/{draft.id}/publish",
                               data={"csrf_token": token, "confirm_missing": "yes"})  # English only: confirmed
    assert published.status_code == 302
    for visitor in (client, other):
        assert visitor.get("/webinars/draft-one").status_code == 200
        assert "Soon announced" in visitor.get("/webinars/").get_data(as_text=True)

    page = organiser.get(f"/organiser/webinars/{programme.id}/cancel").get_data(as_text=True)
    response = organiser.post(f"/organiser/webinars/{programme.id}/cancel",
                              data={"csrf_token": csrf_token_from(page), "message": "Called off."})
    assert response.status_code == 302
    for visitor in (client, other):
        for language in ("en", "fr"):
            page = visit(visitor, f"/webinars/{programme.slug}", language)
            assert page.status_code == 200
            assert ("cancelled" if language == "en" else "annulé") in page.get_data(as_text=True).lower()


def test_seats_left_lag_at_most_the_cache_lifetime(app, client, programme):
    path = f"/webinars/{programme.slug}"
    with time_machine.travel(utcnow(), tick=False) as clock:
        before = client.get(path).get_data(as_text=True)
        make_registration(programme)
        make_registration(programme)
        db.session.commit()
        assert client.get(path).get_data(as_text=True) == before  # kept for a few seconds
        clock.shift(timedelta(seconds=app.config["PAGE_CACHE_SECONDS"] + 1))
        after = client.get(path).get_data(as_text=True)
    assert after != before
    assert "1 seat left" in after


# --- nothing personal is cached or served to someone else --------------------------------------------


def test_a_signed_in_organiser_page_is_never_served_to_a_visitor(app, client, programme):
    organiser = as_organiser(app)
    seen_by_organiser = organiser.get("/")
    assert seen_by_organiser.headers["Cache-Control"] == "private, no-cache"
    for _ in range(2):
        page = client.get("/")
        assert "Sign out" not in page.get_data(as_text=True)
        assert "Organiser " not in page.get_data(as_text=True)


def test_flash_messages_stay_with_their_visitor(app, client, programme):
    visitor = app.test_client()
    page = visitor.get(f"/register/{programme.slug}").get_data(as_text=True)
    response = visitor.post(f"/register/{programme.slug}", data={
        "csrf_token": csrf_token_from(page), "full_name": "Flash Person", "email": "flash@example.org",
        "sector": "other", "region": "ON", "preferred_language": "en", "consent": "y"})
    assert response.status_code == 302
    db.session.commit()
    visitor.get(response.location)
    for path in ("/", f"/webinars/{programme.slug}"):
        for viewer in (visitor, client):
            text = viewer.get(path).get_data(as_text=True)
            assert "flash@example.org" not in text and "Flash Person" not in text


def test_csrf_tokens_are_never_shared(app, programme):
    first, second = another_host(app).test_client(), another_host(app).test_client()
    path = f"/register/{programme.slug}"
    one = first.get(path)
    two = second.get(path)
    assert csrf_token_from(one.get_data(as_text=True)) != csrf_token_from(two.get_data(as_text=True))
    assert "public" not in one.headers.get("Cache-Control", "")


def test_manage_pages_are_not_cached(app, client, programme):
    _, token = make_registration(programme, full_name="Private Person")
    db.session.commit()
    response = client.get(f"/registration/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    assert "Private Person" not in client.get("/").get_data(as_text=True)


# --- Redis: shared by every worker and host, and never an error when it is gone ----------------------


def _redis_up(port: int = 6379) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_cache_is_shared_through_redis(app, programme):
    from tests.conftest import require

    require(_redis_up(), "Redis on 127.0.0.1:6379")
    url = "redis://127.0.0.1:6379/14"
    import redis

    redis.Redis.from_url(url).flushdb()
    first = another_host(app, REDIS_URL=url)
    second = another_host(app, REDIS_URL=url)
    rendered = first.test_client().get(f"/webinars/{programme.slug}")
    with second.app_context():
        statements = statements_on(db.engine)
    shared = second.test_client().get(f"/webinars/{programme.slug}")
    assert shared.data == rendered.data
    assert statements == ["SELECT version FROM content_version WHERE id = 1"]  # the page came from Redis
    redis.Redis.from_url(url).flushdb()


def test_a_redis_outage_degrades_to_rendering(app, programme, caplog):
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    visitor = another_host(app, REDIS_URL=f"redis://127.0.0.1:{port}/0").test_client()
    with caplog.at_level(logging.WARNING, logger="portal.page_cache"):
        for _ in range(3):
            response = visitor.get(f"/webinars/{programme.slug}")
            assert response.status_code == 200
            assert "First title" in response.get_data(as_text=True)
    assert "Redis unreachable" in caplog.text


def test_the_registration_form_is_shared_but_each_visitor_gets_a_working_token(app, programme):
    host = another_host(app)
    visitors = [host.test_client() for _ in range(3)]
    pages = [v.get(f"/register/{programme.slug}").get_data(as_text=True) for v in visitors]
    tokens = [csrf_token_from(p) for p in pages]
    assert len(set(tokens)) == 3
    assert pages[1].replace(tokens[1], "T") == pages[2].replace(tokens[2], "T")  # the same page otherwise
    for n, (visitor, token) in enumerate(zip(visitors, tokens, strict=True)):
        response = visitor.post(f"/register/{programme.slug}", data={
            "csrf_token": token, "full_name": f"Shared Form {n}", "email": f"shared{n}@example.org",
            "sector": "other", "region": "ON", "preferred_language": "en", "consent": "y"})
        assert response.status_code == 302, n
    # Someone else's token is refused: each token is bound to its visitor's session.
    stranger = host.test_client()
    stranger.get(f"/register/{programme.slug}")
    refused = stranger.post(f"/register/{programme.slug}", data={
        "csrf_token": tokens[0], "full_name": "Stranger", "email": "stranger@example.org",
        "sector": "other", "region": "ON", "preferred_language": "en", "consent": "y"})
    assert refused.status_code == 400


def test_the_shared_registration_form_follows_an_edit(app, programme):
    host = another_host(app)
    assert "First title" in host.test_client().get(f"/register/{programme.slug}").get_data(as_text=True)
    db.session.get(Webinar, programme.id).title = "Renamed"
    db.session.commit()
    page = host.test_client().get(f"/register/{programme.slug}").get_data(as_text=True)
    assert "Renamed" in page and "First title" not in page


def test_an_answer_from_the_cache_is_logged_and_counted_like_any_other(client, programme, caplog):
    visit(client, f"/webinars/{programme.slug}")
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get(f"/webinars/{programme.slug}", headers={"X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    [record] = [r for r in caplog.records if r.name == "portal.request" and r.request_id == "trace-42"]
    assert (record.route, record.status, record.cached, record.request_id) == (
        "/webinars/<slug>", 200, True, "trace-42")


def test_a_large_cached_page_goes_out_gzipped_to_whoever_accepts_it(client, programme):
    import gzip

    path = f"/webinars/{programme.slug}"
    plain = visit(client, path)
    assert "Content-Encoding" not in plain.headers
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
    assert packed.headers["ETag"] != plain.headers["ETag"]  # another representation, another validator
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data


def test_the_api_is_kept_under_the_language_it_answered_in_not_the_cookie(app, programme):
    """The API's language comes from ?lang= then Accept-Language, never the page cookie: a
    French answer must not be kept as the English one for the next visitor."""
    first, second = app.test_client(), app.test_client()
    first.set_cookie("portal_lang", "en")
    flask_babel.refresh()
    french = first.get("/api/v1/webinars", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "/fr/webinars/" in french
    flask_babel.refresh()
    english = second.get("/api/v1/webinars", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "/fr/webinars/" not in english


@pytest.mark.parametrize("path", ["/healthz", "/organiser/login", "/fr/organiser/login"])
def test_probes_and_the_signed_in_area_do_not_look_up_the_content_version(app, count_queries, path):
    visitor = app.test_client()
    with count_queries() as counter:
        assert visitor.get(path).status_code == 200
    assert not any("content_version" in s for s in counter.statements), counter.statements
