"""The webinar portal: a Flask application that runs public webinar series."""

from __future__ import annotations

import os
import sys

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ConfigurationError, DefaultConfig, TestingConfig, settings_for
from portal.extensions import babel, csrf, db, login_manager, migrate

CONFIGURATION_ERROR_EXIT_STATUS = 3
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass ``{"TESTING": True, ...}``)."""
    from portal.i18n import LanguageAwareFlask

    app = LanguageAwareFlask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(REPO_ROOT, "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(DefaultConfig)
    config = dict(config or {})
    if config.get("TESTING"):
        app.config.from_object(TestingConfig)
    try:
        app.config.update(settings_for(os.environ, app.instance_path))
    except ConfigurationError as refused:
        # One clear line for whoever starts it (flask, gunicorn), not a traceback. Exit status 3
        # is gunicorn's "worker failed to boot": its master stops instead of restarting workers.
        print(f"portal: configuration error: {refused}", file=sys.stderr)
        raise SystemExit(CONFIGURATION_ERROR_EXIT_STATUS) from None
    app.config.update(config)
    _wait_for_sqlite_lock(app)

    from portal import web

    web.register_converters(app)
    _bind_extensions(app)
    _tune_sqlite(app)
    _register_blueprints(app)
    _register_commands(app)

    from portal import content_language, health, observability, page_cache, static_files

    web.init_app(app)
    content_language.init_app(app)
    health.init_app(app)
    observability.init_app(app)
    page_cache.init_app(app)
    _collect_between_requests(app)  # around every page, cached or rendered
    static_files.init_app(app)  # outside the page cache: files never reach it
    _trust_proxies(app)  # outermost: the page cache and the logs see the client's own address
    return app


def _collect_between_requests(app: Flask) -> None:
    """See ``portal.collector`` (a CPython 3.11 crash when collecting mid-request). Inside
    WhiteNoise: a static file answer stays the server's file wrapper (gunicorn's sendfile)."""
    if app.config.get("COLLECT_BETWEEN_REQUESTS", True):
        from portal.collector import CollectBetweenRequests

        app.wsgi_app = CollectBetweenRequests(app.wsgi_app)


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` proxies, the client's address, scheme and host are the ones
    the nearest proxies saw (the last hops of X-Forwarded-For/-Proto/-Host); with 0, every
    forwarded header is ignored, so a client cannot choose the address it is counted under."""
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    else:
        app.before_request(_warn_once_about_an_untrusted_proxy(app))


def _warn_once_about_an_untrusted_proxy(app: Flask):
    """A proxy in front while TRUSTED_PROXIES=0 makes every visitor one address (the proxy's):
    the first forwarded request says so in the log, once per process."""
    warned = False

    def check() -> None:
        nonlocal warned
        if not warned and request.headers.get("X-Forwarded-For"):
            warned = True
            app.logger.warning("requests carry X-Forwarded-For but TRUSTED_PROXIES=0: every client is "
                               "counted under the proxy's address; set TRUSTED_PROXIES to the number of proxies")

    return check


def _wait_for_sqlite_lock(app: Flask) -> None:
    """SQLite: concurrent writers (registrations racing for seats) wait for the lock instead of failing."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database host that stops answering must fail a request (503) or a worker pass in
        # seconds, not hang it until the kernel gives up on the connection.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _tune_sqlite(app: Flask) -> None:
    """SQLite: write-ahead log, so pages keep reading while a registration holds the write lock,
    and ``synchronous=NORMAL``, so a commit no longer waits for an fsync (the log is synced at
    checkpoints: a crash of the app loses nothing, a power cut may lose the last commits but
    never splits a registration from its email, and never corrupts the file)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _bind_extensions(app: Flask) -> None:
    from portal import i18n
    from portal.models.types import render_migration_item
    from portal.services import limits, organiser_sessions

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(REPO_ROOT, "migrations"),
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    limits.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=os.path.join(REPO_ROOT, "portal", "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "organiser.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = None

    login_manager.user_loader(organiser_sessions.signed_in_organiser)


def _register_blueprints(app: Flask) -> None:
    from portal.api import bp as api_bp
    from portal.feedback import bp as feedback_bp
    from portal.organiser import bp as organiser_bp
    from portal.public import bp as public_bp
    from portal.registration import bp as registration_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(organiser_bp, url_prefix="/organiser")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def _register_commands(app: Flask) -> None:
    from portal.commands import register_commands

    register_commands(app)
