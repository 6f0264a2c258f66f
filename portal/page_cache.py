"""Anonymous public pages served like a static site, yet fresh the moment the programme changes.

Three pieces:

* views opt in with :func:`public_page` (pages, calendar files and the JSON API); their anonymous responses get an ``ETag``, answer
  ``If-None-Match`` with 304 and carry ``Cache-Control`` that lets a shared cache keep them
  for a few seconds while browsers revalidate;
* :class:`PublicPageCache`, a WSGI middleware in front of Flask, keeps those responses (in
  Redis when ``REDIS_URL`` is set, so every worker and host shares them, else in the process)
  and answers repeat visitors without entering Flask at all;
* every transaction that changes the programme raises ``content_version`` (see
  :mod:`portal.models.publishing`), and a cached page is stored under the version it was
  rendered at: the middleware reads that one row per request, so an edit is visible on the
  very next request anywhere. Seats left, which change with every registration, may lag by
  ``PAGE_CACHE_SECONDS`` (5 by default); the registration itself decides under the lock.

Only requests without a session or remember-me cookie are served from or stored in the cache,
and only responses without ``Set-Cookie``: flash messages, a signed-in organiser's header,
CSRF tokens and manage pages live behind a cookie or a secret path that no view marks public.
"""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Callable, Iterable
from functools import wraps

from flask import Flask, g, request
from sqlalchemy import event, text
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_etags

from portal.extensions import db

log = logging.getLogger(__name__)

#: Set by :func:`public_page` responses for the middleware, never sent to the client.
STORE_HEADER = "X-Portal-Page-Cache"
#: How long a browser-facing shared cache may serve a stale copy while it revalidates.
STALE_WHILE_REVALIDATE = 30
#: Where the middleware tells the app under which key this request's page would be kept.
PAGE_KEY = "portal.page_key"
#: Stands for the visitor's own CSRF token in a shared form page.
CSRF_PLACEHOLDER = "\x00csrf-token\x00"
#: Smaller pages are sent as they are: compressing them saves less than a packet.
GZIP_FROM_BYTES = 1024
#: Paths no view marks public, answered without looking the content version up.
NEVER_PUBLIC = ("/healthz", "/readyz", "/metrics", "/organiser/", "/registration/", "/feedback/")
#: After a Redis error, how long to use the per-process cache before trying Redis again.
REDIS_RETRY_SECONDS = 5.0


def public_page(view: Callable) -> Callable:
    """Mark a view whose anonymous GET response is the same for every visitor of a language."""

    @wraps(view)
    def marked(*args, **kwargs):
        g.public_page = True
        return view(*args, **kwargs)

    return marked


def _accepts_gzip(environ) -> bool:
    return parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING")).quality("gzip") > 0


def _is_anonymous_request(app: Flask, cookies) -> bool:
    return (app.config["SESSION_COOKIE_NAME"] not in cookies
            and app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies)


def _add_http_caching(response):
    """After-request hook: validators and Cache-Control on an anonymous public page."""
    if not g.get("public_page") or request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    app = _current_app()
    if not _is_anonymous_request(app, request.cookies) or response.headers.get("Set-Cookie"):
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    seconds = app.config["PAGE_CACHE_SECONDS"]
    response.headers["Cache-Control"] = (
        f"public, max-age=0, s-maxage={seconds}, stale-while-revalidate={STALE_WHILE_REVALIDATE}")
    # What the page varies on: the language, chosen from the cookie or Accept-Language (an
    # unprefixed address redirects a French reader to /fr/…; the API answers in their language).
    response.headers["Vary"] = "Cookie, Accept-Language, Accept-Encoding"  # gzip from the cache
    response.add_etag()
    if app.config["PAGE_CACHE_ENABLED"]:
        # The URL rule travels with the page, for the log line and metric of each cached answer.
        response.headers[STORE_HEADER] = request.url_rule.rule if request.url_rule else "<unmatched>"
    return response.make_conditional(request)


def _current_app() -> Flask:
    from flask import current_app

    return current_app._get_current_object()


# --- freshness -------------------------------------------------------------------------------------


def _public_content_models() -> tuple[type, ...]:
    """What public pages show: the programme, the registration form's own questions, public
    materials and the site's identity (header and footer of every page)."""
    from portal.models import (
        KeyTheme,
        Material,
        Objective,
        Organisation,
        Presentation,
        Presenter,
        PresenterRole,
        Question,
        Series,
        SiteIdentity,
        ThemePoint,
        Webinar,
    )

    return (Series, Objective, KeyTheme, ThemePoint, Webinar, Presentation, Presenter, PresenterRole,
            Organisation, Question, Material, SiteIdentity)


def _raise_version_when_content_changes(session: Session, _context, _instances) -> None:
    """Before each flush: if the programme changes, raise the version in the same transaction."""
    if session.info.get("content_version_raised"):
        return
    models = _public_content_models()
    changed = any(isinstance(obj, models) for obj in session.new) or any(
        isinstance(obj, models) for obj in session.deleted) or any(
        isinstance(obj, models) and session.is_modified(obj) for obj in session.dirty)
    if changed:
        session.execute(text("UPDATE content_version SET version = version + 1 WHERE id = 1"))
        session.info["content_version_raised"] = True


def _forget_raised_mark(session: Session, *_args) -> None:
    session.info.pop("content_version_raised", None)


def listen_for_content_changes() -> None:
    """Once per process: every SQLAlchemy session raises the version when it changes content."""
    if not event.contains(Session, "before_flush", _raise_version_when_content_changes):
        event.listen(Session, "before_flush", _raise_version_when_content_changes)
        event.listen(Session, "after_commit", _forget_raised_mark)
        event.listen(Session, "after_rollback", _forget_raised_mark)


# --- storage ---------------------------------------------------------------------------------------


class _Stores:
    """Redis when configured (shared by every worker and host), the process's memory otherwise,
    and the process's memory while Redis is unreachable: an outage costs speed, never an error."""

    def __init__(self, redis_url: str | None, seconds: int) -> None:
        from cachelib import SimpleCache

        self.seconds = seconds
        self.local = SimpleCache(threshold=500, default_timeout=seconds)
        self.redis = None
        self.redis_down_until = 0.0
        if redis_url:
            import redis
            from cachelib import RedisCache

            client = redis.Redis.from_url(redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
            self.redis = RedisCache(host=client, default_timeout=seconds, key_prefix="portal:page:")

    def _shared(self):
        if self.redis is None or time.monotonic() < self.redis_down_until:
            return None
        return self.redis

    def _redis_failed(self, error: Exception) -> None:
        if time.monotonic() >= self.redis_down_until:
            log.warning("page cache: Redis unreachable (%s); using this process's memory for %.0f s",
                        type(error).__name__, REDIS_RETRY_SECONDS)
        self.redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def get(self, key: str):
        shared = self._shared()
        if shared is not None:
            try:
                return shared.get(key)
            except Exception as error:  # any Redis failure: serve without it
                self._redis_failed(error)
        return self.local.get(key)

    def set(self, key: str, entry) -> None:
        shared = self._shared()
        if shared is not None:
            try:
                shared.set(key, entry)
                return
            except Exception as error:
                self._redis_failed(error)
        self.local.set(key, entry)


# --- the middleware ---------------------------------------------------------------------------------


class PublicPageCache:
    """WSGI middleware: anonymous GETs of pages that views marked public, from the cache."""

    def __init__(self, wsgi_app, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.flask_app = app
        self.languages = tuple(app.config["PORTAL_LANGUAGES"])
        self.default_language = app.config.get("BABEL_DEFAULT_LOCALE", "en")
        self.stores = _Stores(app.config.get("REDIS_URL"), app.config["PAGE_CACHE_SECONDS"])
        with app.app_context():
            #: The app's own pool: one primary-key look-up per cached page (plus the pool's ping).
            self.engine = db.engine

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        if (environ.get("REQUEST_METHOD") != "GET" or self._never_public(environ.get("PATH_INFO", ""))
                or not self._anonymous(environ)):
            return self.wsgi_app(environ, start_response)
        version = self._content_version()
        if version is None:  # the database is unreachable: let the app answer (503)
            return self.wsgi_app(environ, start_response)
        key = self._key(environ, version)
        entry = self.stores.get(key)
        if entry is not None:
            return self._send(entry, environ, start_response, started)
        environ[PAGE_KEY] = key  # for shared_form_page
        return self._render_and_keep(environ, start_response, key)

    # The language is part of the key. A page's answer follows the reader's choice (cookie, then
    # Accept-Language: an unprefixed address redirects a French reader); the API's, as
    # portal.i18n.select_locale decides it, ``?lang=`` (in the key already), then Accept-Language.
    def _language(self, environ) -> str:
        from werkzeug.http import parse_cookie

        chosen = parse_cookie(environ.get("HTTP_COOKIE", "")).get("portal_lang")
        if chosen in self.languages and not environ.get("PATH_INFO", "").startswith("/api/"):
            return chosen
        accepted = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        return accepted.best_match(self.languages) or self.default_language

    def _never_public(self, path: str) -> bool:
        """Probes, metrics and the personal or signed-in areas: no version look-up for them."""
        for language in self.languages:
            if path.startswith(f"/{language}/"):
                path = path[len(language) + 1:]
                break
        return path.startswith(NEVER_PUBLIC)

    def _anonymous(self, environ) -> bool:
        from werkzeug.http import parse_cookie

        cookie_header = environ.get("HTTP_COOKIE")
        return not cookie_header or _is_anonymous_request(self.flask_app, parse_cookie(cookie_header))

    def _key(self, environ, version: int) -> str:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        host = environ.get("HTTP_HOST", "")
        return f"v{version}|{self._language(environ)}|{host}|{path}?{query}"

    def _content_version(self) -> int | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version FROM content_version WHERE id = 1")).scalar()
        except Exception as error:  # unreachable database, or not migrated yet
            log.warning("page cache: content version unavailable (%s)", type(error).__name__)
            return None

    def _send(self, entry, environ, start_response, started: float) -> Iterable[bytes]:
        from portal.observability import REQUEST_ID_HEADER, record_cached_request

        status, headers, body, etag, route, gzipped = entry
        if gzipped is not None and _accepts_gzip(environ):
            body, etag = gzipped, f"{etag}-gzip" if etag else None
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "etag")]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
            if etag:
                headers.append(("ETag", f'"{etag}"'))
        not_modified = bool(etag) and etag in parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
        code = 304 if not_modified else int(status.split()[0])
        headers = [*headers, (REQUEST_ID_HEADER, record_cached_request(environ, route, code, started))]
        if not_modified:
            kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-type")]
            start_response("304 NOT MODIFIED", kept)
            return [b""]
        start_response(status, headers)
        return [body]

    def _render_and_keep(self, environ, start_response, key: str) -> Iterable[bytes]:
        """Keep the answer when the view marked it public; anything else (a file download, an
        error, a page with a cookie) passes through untouched: not read into memory, and a file
        stays the server's file wrapper."""
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            route = next((v for k, v in headers if k == STORE_HEADER), None)
            headers = [(k, v) for k, v in headers if k != STORE_HEADER]
            keep = (route is not None and status.startswith("200")
                    and not any(k.lower() == "set-cookie" for k, _ in headers))
            captured.update(status=status, headers=headers, route=route, keep=keep)
            if keep:
                return lambda _data: None
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, capture)
        if not captured.get("keep"):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = captured["status"], captured["headers"]
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        kept = [(k, v) for k, v in headers if k.lower() != "x-request-id"]  # each answer has its own
        # Compressed once here, not per request: a large page (3 000 presenters) costs its
        # bytes on every answer, and browsers all accept gzip.
        gzipped = gzip.compress(body, 6) if len(body) >= GZIP_FROM_BYTES else None
        self.stores.set(key, (status, kept, body, etag.strip('"') if etag else None, captured["route"], gzipped))
        start_response(status, headers)
        return [body]


# --- forms: shared page, personal token -----------------------------------------------------------


def may_share_form_page() -> bool:
    """A first visit (no cookie) to a form with no query string: the page is the same for
    everyone but for the CSRF token, so it can be kept with the token left out."""
    return (request.method == "GET" and not request.query_string and PAGE_KEY in request.environ
            and _is_anonymous_request(_current_app(), request.cookies))


def shared_form_page(render: Callable):
    """The form page from the cache with this visitor's own CSRF token put in, or ``render()``'s
    response, kept for the next visitor when it is a plain 200 page."""
    from flask import Response, make_response
    from flask_wtf.csrf import generate_csrf

    stores = _current_app().extensions["page_cache"].stores
    key = "form|" + request.environ[PAGE_KEY]
    entry = stores.get(key)
    if entry is not None:
        body, mimetype = entry
        return Response(body.replace(CSRF_PLACEHOLDER, generate_csrf()), mimetype=mimetype)
    response = make_response(render())
    if response.status_code == 200:
        token = generate_csrf()
        body = response.get_data(as_text=True)
        if token in body:
            stores.set(key, (body.replace(token, CSRF_PLACEHOLDER), response.mimetype))
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("PAGE_CACHE_ENABLED", True)
    app.config.setdefault("PAGE_CACHE_SECONDS", 5)
    listen_for_content_changes()
    app.after_request(_add_http_caching)
    if app.config["PAGE_CACHE_ENABLED"]:
        app.wsgi_app = PublicPageCache(app.wsgi_app, app)
        app.extensions["page_cache"] = app.wsgi_app
