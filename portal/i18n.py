"""Language choice: an explicit switch (remembered in a cookie), else Accept-Language."""

from __future__ import annotations

from flask import current_app, has_request_context, request

LANGUAGE_COOKIE = "portal_lang"


def supported_languages() -> tuple[str, ...]:
    return tuple(current_app.config["PORTAL_LANGUAGES"])


def select_locale() -> str:
    if not has_request_context():
        # Commands (outbox send, reminders) render outside a request: use the default
        # unless the caller wraps the work in flask_babel.force_locale.
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported_languages():
        return chosen
    return request.accept_languages.best_match(supported_languages()) or "en"
