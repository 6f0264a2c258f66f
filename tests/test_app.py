"""The application factory, configuration and the schema."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config import ConfigurationError, settings_for
from portal.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_production_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY and DATABASE_URL"):
        settings_for({"PORTAL_ENV": "production"}, str(tmp_path))


def test_production_secure_cookies(tmp_path):
    settings = settings_for(
        {"PORTAL_ENV": "production", "SECRET_KEY": "3f9c2a7e1b5d8064c9e2f7a1b3d5e8c0",
         "DATABASE_URL": "postgres://u@h/d", "PORTAL_BASE_URL": "https://webinars.example.ca",
         "MAIL_SERVER": "smtp.example.ca"},
        str(tmp_path),
    )
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"


def test_default_secret_key_is_generated_once_and_kept(tmp_path):
    first = settings_for({}, str(tmp_path))["SECRET_KEY"]
    second = settings_for({}, str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_instance(tmp_path):
    assert settings_for({}, str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": True}


def test_healthz_unavailable_when_database_is_unreachable(tmp_path):
    from portal import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] is False


@pytest.mark.parametrize("command", ["reminders send", "feedback invite", "feedback remind", "followup send",
                                     "privacy purge"])
def test_every_timed_command_has_a_systemd_timer(command):
    """What nobody runs is never sent: each periodic command of the spec has a service and a timer."""
    import pathlib

    units = pathlib.Path(__file__).parent.parent / "deploy" / "systemd"
    services = [p for p in units.glob("*.service") if f"flask --app portal {command}" in p.read_text()]
    assert len(services) == 1, command
    timer = services[0].with_suffix(".timer")
    assert timer.exists() and f"Unit={services[0].name}" in timer.read_text()
    assert timer.name in (pathlib.Path(__file__).parent.parent / "README.md").read_text()
