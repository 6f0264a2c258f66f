"""App-wide web plumbing: error pages, the language switch, health, template helpers."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from urllib.parse import urlsplit

import flask_babel
from flask import (
    Flask,
    current_app,
    has_request_context,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from portal import dates
from portal.extensions import db
from portal.i18n import (
    LANGUAGE_COOKIE,
    LanguagePrefix,
    address_language,
    is_page,
    path_in,
    preferred_language,
    prefixed_languages,
    select_locale,
    shared_endpoint,
    strip_language,
    supported_languages,
    unprefixed_root,
)
from portal.models.types import LARGEST_ID

ONE_YEAR = 365 * 24 * 3600
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=()")
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: digits only and at most LARGEST_ID, so a negative, huge or
    malformed id is a 404 before it reaches the database (where it would be an error).
    SQLite's ids reach further, but the same bound keeps the two databases answering alike.
    ASCII digits only: werkzeug's ``\\d`` also matches other scripts' digits ("０１" read as 1)."""

    regex = r"[0-9]+"

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, LARGEST_ID if max is None else max, signed)


def register_converters(app: Flask) -> None:
    """Before any route is added, so every ``<int:…>`` uses the bounded converter."""
    app.url_map.converters["int"] = IdConverter


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only same-site paths: an absolute or scheme-relative URL could send people away."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    return target


def absolute_url(endpoint: str, *, language: str | None = None, **values) -> str:
    """A full URL under PORTAL_BASE_URL, the same inside a request or from a command.

    The request's own host is ignored on purpose: links in emails, calendar files
    and the API must point at the public address, not at whatever a proxy forwarded.
    The page is addressed in ``language`` (``/fr/…`` for French); without one, in the
    language being rendered (the page's, or the one ``force_locale`` set for an email).
    Shared endpoints (static files, the API) have one address in every language.
    """
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    script_name = base.path.rstrip("/")
    language = language or rendering_language()
    if language in prefixed_languages() and not shared_endpoint(endpoint):
        script_name += "/" + language
    adapter = current_app.url_map.bind(
        base.netloc, script_name=script_name or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def rendering_language() -> str:
    locale = flask_babel.get_locale()
    return locale.language if locale is not None else current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def page_url_in(language: str) -> str:
    """This page's absolute address in ``language`` under PORTAL_BASE_URL (for ``hreflang``)."""
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    return base + path_in(language, request.path)


def switch_url(language: str) -> str:
    """The language switch's link: remembers the choice, then shows this page in ``language``."""
    here = request.full_path if request.query_string else request.path
    return url_for("choose_language", code=language, next=path_in(language, here))


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_page(error: HTTPException, template: str = "errors/error.html"):
    if wants_json():
        response = jsonify(error={"status": error.code, "message": error.name,
                                  "detail": error.description})
    else:
        # An error has no address in another language to announce.
        response = make_response(render_template(template, error=error, alternates_wanted=False))
    response.status_code = error.code or 500
    # Keep headers the status requires (Allow on 405, Retry-After on 429…), in HTML too.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def release_date(app: Flask) -> str:
    """The "Date modified" of pages without a date of their own: when this version of the
    templates was installed (the newest template file), as GC pages write it (2026-12-02)."""
    if "PORTAL_RELEASE_DATE" not in app.config:
        newest = max((os.path.getmtime(os.path.join(folder, name))
                      for folder, _dirs, names in os.walk(app.template_folder) for name in names),
                     default=0)
        app.config["PORTAL_RELEASE_DATE"] = datetime.fromtimestamp(newest, UTC).date().isoformat()
    return app.config["PORTAL_RELEASE_DATE"]


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 404:
            return _error_page(error, "errors/404.html")
        return _error_page(error)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        error.description = _("The form had expired or was sent from elsewhere. "
                              "Please go back, reload the page and try again.")
        return _error_page(error)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        if wants_json():
            return jsonify(error={"status": 500, "message": "Internal Server Error"}), 500
        return render_template("errors/500.html", alternates_wanted=False), 500

    app.wsgi_app = LanguagePrefix(app.wsgi_app, prefixed_languages(app.config))

    @app.get("/language/<code>")
    def choose_language(code: str):
        """Remember the visitor's choice and show ``next`` at its address in that language.

        The header's switch links here from every page, so the choice is stored before the
        visitor reaches an unprefixed page that would otherwise send them back.
        """
        target = safe_next(request.args.get("next"), "/")
        if code in supported_languages():
            target = path_in(code, strip_language(target))
        response = make_response(redirect(unprefixed_root() + target))
        if code in supported_languages():
            response.set_cookie(LANGUAGE_COOKIE, code, max_age=ONE_YEAR, samesite="Lax",
                                httponly=True, secure=app.config["SESSION_COOKIE_SECURE"])
        return response

    @app.before_request
    def send_to_preferred_language():
        """An unprefixed page asked for by someone who chose French (cookie) or whose browser
        prefers it (no choice yet) is shown at its French address. A ``/fr/…`` link always
        shows French, whatever the cookie."""
        if request.method not in ("GET", "HEAD") or address_language() or not is_page(request.url_rule):
            return None
        preferred = preferred_language()
        if preferred not in prefixed_languages():
            return None
        here = request.full_path if request.query_string else request.path
        response = redirect(request.script_root + path_in(preferred, here))
        response.vary.update(("Cookie", "Accept-Language"))
        return response

    @app.after_request
    def vary_unprefixed_pages(response):
        # The same unprefixed address redirects or not depending on these two headers.
        if address_language() is None and is_page(request.url_rule):
            response.vary.update(("Cookie", "Accept-Language"))
        elif request.path.startswith("/api/"):
            response.vary.add("Accept-Language")
        return response

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not healthy"
            db.session.rollback()
            return jsonify(status="unavailable", database=False), 503
        return jsonify(status="ok", database=True)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config.get("PORTAL_ENV") == "production":
            # Browsers refuse plain http for this host for a year once they have seen it over https.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(("/registration/", "/feedback/", "/organiser/")):
            # Pages reached by a secret link or behind login must not linger in caches.
            response.headers["Cache-Control"] = "no-store"
        return response

    # Stored codes (statuses, audit actions) are shown through this one filter, in the reader's
    # language. Imported here: labels reuses the registration form's words, and that package
    # imports this module.
    from portal import labels
    from portal.services import site_identity

    app.add_template_filter(labels.label, "label")

    from portal.typography import label_and_text

    app.add_template_global(label_and_text, "label_and_text")

    @app.context_processor
    def template_helpers():
        return {
            "current_language": select_locale(),
            "other_languages": [c for c in supported_languages() if c != select_locale()],
            "switch_url": switch_url,
            "page_url_in": page_url_in,
            "alternates_wanted": has_request_context() and is_page(request.url_rule),
            "dates": dates,
            "identity": site_identity.current(),
            "date_modified": release_date(app),
        }
