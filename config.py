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
    """Raised when production settings are missing or unsafe; the message is one line."""


#: Keys copied from examples and tutorials; anyone can sign a session with them.
EXAMPLE_SECRET_KEYS = frozenset({
    "change-me", "changeme", "change-this", "change-me-please", "secret", "secret-key", "secretkey",
    "dev", "development", "test", "testing", "x", "key", "password", "your-secret-key",
    "replace-me", "default", "insecure", "not-a-secret",
})
MIN_SECRET_KEY_LENGTH = 32
#: A 32-character key drawn from hex digits carries 128 bits; fewer distinct characters than
#: this means a pattern ("aaaa…", "abcabc…"), not a random key.
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 10
MAIL_BACKENDS = ("smtp", "file")


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

    # hide_parameters: a database error's text (logged) must not carry the values (emails, names).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
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
    RATELIMIT_ENABLED = True
    TESTING = False


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` cannot sign production sessions, or None when it looks random enough."""
    if key.strip().lower() in EXAMPLE_SECRET_KEYS:
        return "is an example value"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS:
        return "repeats too few characters to be random"
    return None


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(env) -> str:
    level = (env("LOG_LEVEL") or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def _mail_backend(env) -> str | None:
    """``file`` or ``smtp`` when chosen; None lets MAIL_SERVER decide (SMTP when it is set)."""
    backend = (env("MAIL_BACKEND") or "").strip().lower() or None
    if backend is not None and backend not in MAIL_BACKENDS:
        raise ConfigurationError(f"MAIL_BACKEND must be smtp or file, got {backend!r}")
    if backend == "smtp" and not env("MAIL_SERVER"):
        raise ConfigurationError("MAIL_BACKEND=smtp needs MAIL_SERVER")
    return backend


def refuse_unsafe_production(env) -> None:
    """Production starts only with settings that protect people: one line says what is wrong."""
    missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not env(name)]
    if missing:
        raise ConfigurationError("production needs " + " and ".join(missing) + " set in the environment")
    problem = secret_key_problem(env("SECRET_KEY"))
    if problem:
        raise ConfigurationError(f"production refuses SECRET_KEY: it {problem}; "
                                 "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'")
    base_url = env("PORTAL_BASE_URL") or ""
    if not base_url.startswith("https://"):
        raise ConfigurationError("production needs PORTAL_BASE_URL to start with https:// "
                                 f"(got {base_url or 'nothing'!r})")
    if not env("MAIL_SERVER") and _mail_backend(env) != "file":
        raise ConfigurationError("production needs MAIL_SERVER (or MAIL_BACKEND=file to keep "
                                 "email as files in instance/mail/ on purpose)")


def settings_for(environ: os._Environ | dict, instance_path: str) -> dict:
    """Every setting the spec names, with a sensible default for each."""
    env = environ.get
    production = env("PORTAL_ENV", "development") == "production"
    if production:
        refuse_unsafe_production(env)
    database_url = env("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "portal.db")
    redis_url = env("REDIS_URL") or None
    trusted_proxies = _int(env("TRUSTED_PROXIES"), 0)
    if trusted_proxies < 0:
        raise ConfigurationError(f"TRUSTED_PROXIES must be 0 or more, got {trusted_proxies}")
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": env("SECRET_KEY") or persistent_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(database_url),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "MAIL_BACKEND": _mail_backend(env),
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
        "TRUSTED_PROXIES": trusted_proxies,
        # Registrations that would be stored, per client address: a whole office behind one
        # NAT address signs up together, so this is in the hundreds.
        "REGISTRATION_RATE_LIMIT": env("REGISTRATION_RATE_LIMIT") or "300 per hour",
        "REGISTRATION_EMAIL_RATE_LIMIT": env("REGISTRATION_EMAIL_RATE_LIMIT") or "10 per hour",
        "REGISTRATION_WEBINAR_RATE_LIMIT": env("REGISTRATION_WEBINAR_RATE_LIMIT") or "2000 per hour",
        # Failed sign-ins per client address, and per account from one address.
        "LOGIN_RATE_LIMIT": env("LOGIN_RATE_LIMIT") or "30 per 15 minutes",
        "LOGIN_ACCOUNT_RATE_LIMIT": env("LOGIN_ACCOUNT_RATE_LIMIT") or "5 per 15 minutes",
        "ORGANISER_IDLE_MINUTES": _int(env("ORGANISER_IDLE_MINUTES"), 60),
        "ORGANISER_SESSION_HOURS": _int(env("ORGANISER_SESSION_HOURS"), 12),
        "METRICS_TOKEN": env("METRICS_TOKEN") or None,
        "LOG_FORMAT": "text" if (env("LOG_FORMAT") or "json").strip().lower() == "text" else "json",
        "LOG_LEVEL": _log_level(env),
        # Publishing refuses (instead of asking) while a public text lacks its other language.
        "REQUIRE_BOTH_LANGUAGES": _flag(env("REQUIRE_BOTH_LANGUAGES")),
        "FEEDBACK_REMINDER_DAYS_BEFORE": _int(env("FEEDBACK_REMINDER_DAYS_BEFORE"), 3),
        "MATERIALS_FOLDER": env("MATERIALS_FOLDER") or os.path.join(instance_path, "materials"),
        "MATERIALS_MAX_BYTES": _int(env("MATERIALS_MAX_BYTES"), 20 * 1024 * 1024),
        # Attendance reports: upload limit (a 50 000-row Teams report is ~7 MB in UTF-16) and
        # whether Gmail addresses are compared without dots and +tags.
        "ATTENDANCE_MAX_UPLOAD_BYTES": _int(env("ATTENDANCE_MAX_UPLOAD_MB"), 20) * 1024 * 1024,
        "ATTENDANCE_GMAIL_CANONICAL": _flag(env("ATTENDANCE_GMAIL_CANONICAL")),
        **_identity_settings(env),
        "PAGE_CACHE_ENABLED": _flag(env("PAGE_CACHE_ENABLED"), default=True),
        "PAGE_CACHE_SECONDS": _int(env("PAGE_CACHE_SECONDS"), 5),
    }


def _identity_settings(env) -> dict:
    """Defaults for the site identity until an administrator saves the "Site identity" page."""
    names = ["PORTAL_ORG_NAME_EN", "PORTAL_ORG_NAME_FR", "PORTAL_ACCENT_COLOUR", "PORTAL_LOGO_FILE",
             "PORTAL_LOGO_ALT_EN", "PORTAL_LOGO_ALT_FR"] + [
        f"PORTAL_{kind}_URL_{lang}" for kind in ("PRIVACY", "ACCESSIBILITY", "CONTACT", "TERMS")
        for lang in ("EN", "FR")]
    settings = {name: (env(name) or "").strip() for name in names}
    settings["SITE_IDENTITY_CACHE_SECONDS"] = _int(env("SITE_IDENTITY_CACHE_SECONDS"), 30)
    return settings


class TestingConfig:
    """Overlay used by the test-suite: no real mail, no rate limit surprises."""

    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    SERVER_NAME = None
