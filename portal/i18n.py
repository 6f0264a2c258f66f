"""Language choice: the address says the language of a page; the cookie and the browser only
decide where a visitor lands.

Every page has one address per language: English at the contract paths (``/webinars/x``),
French under ``/fr`` (``/fr/webinars/x``). ``LanguagePrefix`` moves ``/fr`` out of the path
into ``SCRIPT_NAME`` before Flask routes the request, so one set of routes serves both and
``url_for`` keeps a French reader on French addresses everywhere. What every language shares
(static files, the JSON API, health checks, the switch itself) has a single address.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app, has_request_context, request

LANGUAGE_COOKIE = "portal_lang"

#: WSGI environ keys set by ``LanguagePrefix``.
PREFIX_LANGUAGE = "portal.language"
BASE_SCRIPT_NAME = "portal.base_script_name"

#: Paths (after the prefix) and endpoints with one address for every language.
SHARED_PATHS = ("/static/", "/api/", "/language/", "/healthz", "/readyz", "/metrics", "/site/")
SHARED_ENDPOINTS = ("static", "choose_language", "healthz", "readyz", "metrics",
                    "public.identity_stylesheet", "public.logo")  # the site identity's CSS and logo


def supported_languages() -> tuple[str, ...]:
    return tuple(current_app.config["PORTAL_LANGUAGES"])


def prefixed_languages(config=None) -> tuple[str, ...]:
    """Languages whose pages live under ``/<code>``: all but the default (English).

    ``config`` is the app's (while it is being built); the current app's otherwise."""
    config = config if config is not None else current_app.config
    default = config.get("BABEL_DEFAULT_LOCALE", "en")
    return tuple(code for code in config["PORTAL_LANGUAGES"] if code != default)


class LanguagePrefix:
    """WSGI middleware: ``/fr/webinars/x`` is served as ``/webinars/x`` with ``SCRIPT_NAME``
    ending in ``/fr`` and the language recorded in the environ.

    Shared paths (``/fr/static/…``, ``/fr/api/…``) are left alone, so they answer 404 rather
    than becoming a second, separately cached copy.
    """

    def __init__(self, wsgi_app, languages: tuple[str, ...]) -> None:
        self.wsgi_app = wsgi_app
        self.languages = languages

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for code in self.languages:
            prefix = "/" + code
            if path != prefix and not path.startswith(prefix + "/"):
                continue
            rest = path[len(prefix):] or "/"
            if not _shared_path(rest):
                script_name = environ.get("SCRIPT_NAME", "")
                environ[BASE_SCRIPT_NAME] = script_name
                environ["SCRIPT_NAME"] = script_name + prefix
                environ["PATH_INFO"] = rest
                environ[PREFIX_LANGUAGE] = code
            break
        return self.wsgi_app(environ, start_response)


def _shared_path(path: str) -> bool:
    return path.startswith(SHARED_PATHS) or path.rstrip("/") in {p.rstrip("/") for p in SHARED_PATHS}


def shared_endpoint(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint in SHARED_ENDPOINTS or endpoint.startswith("api."))


class LanguageAwareFlask(Flask):
    """``url_for`` that builds shared endpoints without the page's language prefix, so
    ``/fr/…`` pages load the same ``/static/…`` files (one cache entry) and API links."""

    def url_for(self, endpoint: str, /, **values) -> str:  # type: ignore[override]
        url = super().url_for(endpoint, **values)
        if not has_request_context() or PREFIX_LANGUAGE not in request.environ:
            return url
        if not shared_endpoint(_absolute_endpoint(endpoint)):
            return url
        prefix = "/" + request.environ[PREFIX_LANGUAGE]
        return _swap_script_root(url, request.script_root, request.script_root[: -len(prefix)])


def _absolute_endpoint(endpoint: str) -> str:
    # url_for(".name") inside a blueprint means "<blueprint>.name".
    if endpoint.startswith(".") and request.blueprint:
        return request.blueprint + endpoint
    return endpoint.lstrip(".")


def _swap_script_root(url: str, old_root: str, new_root: str) -> str:
    parts = urlsplit(url)
    if parts.path == old_root or parts.path.startswith(old_root + "/"):
        return urlunsplit(parts._replace(path=new_root + parts.path[len(old_root):]))
    return url


def address_language() -> str | None:
    """The language named by the address (``/fr/…``), or ``None`` for an unprefixed path."""
    if not has_request_context():
        return None
    return request.environ.get(PREFIX_LANGUAGE)


def preferred_language() -> str:
    """The visitor's own preference: the switch's cookie, else the browser's Accept-Language."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in supported_languages():
        return chosen
    return request.accept_languages.best_match(supported_languages()) or _default()


def select_locale() -> str:
    """Pages: the address decides (``/fr/…`` French, unprefixed English). The JSON API has one
    address, so there ``?lang=`` decides, else Accept-Language."""
    if not has_request_context():
        # Commands (outbox send, reminders) render outside a request: use the default
        # unless the caller wraps the work in flask_babel.force_locale.
        return _default()
    from_address = address_language()
    if from_address:
        return from_address
    if request.path.startswith("/api/"):
        asked = request.args.get("lang")
        if asked in supported_languages():
            return asked
        return request.accept_languages.best_match(supported_languages()) or _default()
    return _default()


def _default() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def path_in(language: str, path: str) -> str:
    """``path`` (script-relative, e.g. ``request.full_path``) as it is addressed in ``language``."""
    if language in prefixed_languages():
        return "/" + language + path
    return path


def strip_language(path: str) -> str:
    """A site path without its language prefix: ``/fr/webinars/`` → ``/webinars/``, ``/fr`` → ``/``."""
    for code in prefixed_languages():
        prefix = "/" + code
        rest = path[len(prefix):]
        if path.startswith(prefix) and (rest == "" or rest[0] in "/?"):
            return rest if rest.startswith("/") else "/" + rest
    return path


def unprefixed_root() -> str:
    """The script root without the page's language: where shared paths and English pages live."""
    code = address_language()
    return request.script_root[: -len(code) - 1] if code else request.script_root


def is_page(rule) -> bool:
    """A route that answers an HTML page (not a shared path, not a ``.ics``/``.csv`` file)."""
    if rule is None or shared_endpoint(rule.endpoint):
        return False
    last_segment = rule.rule.rstrip("/").rsplit("/", 1)[-1]
    return "." not in last_segment
