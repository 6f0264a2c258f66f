"""App-wide web plumbing: error pages, the language switch, health, template helpers."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from portal import dates
from portal.extensions import db
from portal.i18n import LANGUAGE_COOKIE, select_locale, supported_languages

ONE_YEAR = 365 * 24 * 3600


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


def absolute_url(endpoint: str, **values) -> str:
    """A full URL under PORTAL_BASE_URL, the same inside a request or from a command.

    The request's own host is ignored on purpose: links in emails, calendar files
    and the API must point at the public address, not at whatever a proxy forwarded.
    """
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_page(error: HTTPException, template: str = "errors/error.html"):
    if wants_json():
        response = jsonify(error={"status": error.code, "message": error.name,
                                  "detail": error.description})
        response.status_code = error.code or 500
        # Keep headers the status requires (Allow on 405, Retry-After on 429…).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    return render_template(template, error=error), error.code


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
        return render_template("errors/500.html"), 500

    @app.get("/language/<code>")
    def choose_language(code: str):
        """Remember the visitor's choice; links in the header point here from every page."""
        response = make_response(redirect(safe_next(request.args.get("next"), url_for("public.home"))))
        if code in supported_languages():
            response.set_cookie(LANGUAGE_COOKIE, code, max_age=ONE_YEAR, samesite="Lax",
                                httponly=True, secure=app.config["SESSION_COOKIE_SECURE"])
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
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
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

    @app.context_processor
    def template_helpers():
        return {
            "current_language": select_locale(),
            "other_languages": [c for c in supported_languages() if c != select_locale()],
            "dates": dates,
            "identity": site_identity.current(),
            "date_modified": release_date(app),
        }
