"""Language choice: an explicit switch (remembered in a cookie), else Accept-Language."""

from __future__ import annotations

from flask import current_app, request

LANGUAGE_COOKIE = "portal_lang"


def supported_languages() -> tuple[str, ...]:
    return tuple(current_app.config["PORTAL_LANGUAGES"])


def select_locale() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported_languages():
        return chosen
    return request.accept_languages.best_match(supported_languages()) or "en"
