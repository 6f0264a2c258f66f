"""Settings for the portal, read from the environment when the app is created.

Nothing here runs at import time: ``settings_for(environ, instance_path)`` is
called by ``create_app`` so tests and commands can hand it their own
environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigurationError(RuntimeError):
    """Raised when production settings are missing; the message is one line."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as exc:
        raise ConfigurationError(f"expected a whole number, got {value!r}") from exc


def _database_url(url: str) -> str:
    """Accept the ``postgres://`` spelling many hosts hand out."""
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def persistent_secret_key(instance_path: str) -> str:
    """A key generated once and kept in ``instance/`` so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class DefaultConfig:
    """Settings that do not depend on the environment."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    PORTAL_LANGUAGES = ("en", "fr")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "fixed-window"
    TESTING = False


def settings_for(environ: os._Environ | dict, instance_path: str) -> dict:
    """Every setting the spec names, with a sensible default for each."""
    env = environ.get
    production = env("PORTAL_ENV", "development") == "production"
    if production:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not env(name)]
        if missing:
            raise ConfigurationError(
                "production needs " + " and ".join(missing) + " set in the environment"
            )
    database_url = env("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "portal.db")
    redis_url = env("REDIS_URL") or None
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": env("SECRET_KEY") or persistent_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(database_url),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "MAIL_SERVER": env("MAIL_SERVER") or None,
        "MAIL_PORT": _int(env("MAIL_PORT"), 25),
        "MAIL_USERNAME": env("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag(env("MAIL_USE_TLS")),
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER") or "webinars@localhost",
        "MAIL_FOLDER": os.path.join(instance_path, "mail"),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "PORTAL_BASE_URL": (env("PORTAL_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "JOIN_LINK_LEAD_MINUTES": _int(env("JOIN_LINK_LEAD_MINUTES"), 30),
        "REMINDER_HOURS_BEFORE": _int(env("REMINDER_HOURS_BEFORE"), 24),
        "FEEDBACK_WINDOW_DAYS": _int(env("FEEDBACK_WINDOW_DAYS"), 14),
        "REGISTRATION_RATE_LIMIT": env("REGISTRATION_RATE_LIMIT") or "20 per hour",
        "PAGE_CACHE_ENABLED": _flag(env("PAGE_CACHE_ENABLED"), default=True),
        "PAGE_CACHE_SECONDS": _int(env("PAGE_CACHE_SECONDS"), 5),
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT") or "10 per minute",
    }


class TestingConfig:
    """Overlay used by the test-suite: no real mail, no rate limit surprises."""

    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    SERVER_NAME = None
