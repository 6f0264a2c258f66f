"""The webinar portal: a Flask application that runs public webinar series."""

from __future__ import annotations

import os

from flask import Flask

from config import DefaultConfig, TestingConfig, settings_for
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass ``{"TESTING": True, ...}``)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(REPO_ROOT, "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(DefaultConfig)
    config = dict(config or {})
    if config.get("TESTING"):
        app.config.from_object(TestingConfig)
    app.config.update(settings_for(os.environ, app.instance_path))
    app.config.update(config)
    _wait_for_sqlite_lock(app)

    _bind_extensions(app)
    _tune_sqlite(app)
    _register_blueprints(app)
    _register_commands(app)

    from portal import page_cache, static_files, web

    web.init_app(app)
    page_cache.init_app(app)
    static_files.init_app(app)  # outside the page cache: files never reach it
    return app


def _wait_for_sqlite_lock(app: Flask) -> None:
    """SQLite: concurrent writers (registrations racing for seats) wait for the lock instead of failing."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
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
    from portal.models import Organiser
    from portal.models.types import render_migration_item

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
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=os.path.join(REPO_ROOT, "portal", "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "organiser.login"
    login_manager.session_protection = "strong"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_organiser(organiser_id: str) -> Organiser | None:
        if not organiser_id.isdigit():
            return None
        return db.session.get(Organiser, int(organiser_id))


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
