"""Production refuses unsafe settings; responses carry the security headers; ids and 405s."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import ConfigurationError, secret_key_problem, settings_for
from portal.extensions import db
from portal.services.mailer import FolderTransport, SmtpTransport, open_transport
from tests.factories import make_organiser, make_webinar, sign_in

GOOD_KEY = "9b1f4e7a2c6d8e0f3a5b7c9d1e2f4a6b8c0d2e4f"
SAFE = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": GOOD_KEY,
    "DATABASE_URL": "postgresql://portal@db/portal",
    "PORTAL_BASE_URL": "https://webinars.example.ca",
    "MAIL_SERVER": "smtp.example.ca",
}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def refusal(tmp_path, **changes) -> str:
    environ = {k: v for k, v in {**SAFE, **changes}.items() if v is not None}
    with pytest.raises(ConfigurationError) as refused:
        settings_for(environ, str(tmp_path))
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_safe_production_settings_start(tmp_path):
    settings = settings_for(SAFE, str(tmp_path))
    assert settings["PORTAL_ENV"] == "production" and settings["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("key", ["x", "secret", "change-me", "CHANGE-ME", "short-but-random-3f9a",
                                 "a" * 64, "abababababababababababababababab"])
def test_production_refuses_a_weak_secret_key(tmp_path, key):
    assert "SECRET_KEY" in refusal(tmp_path, SECRET_KEY=key)
    assert secret_key_problem(key) is not None


def test_a_generated_key_is_accepted():
    import secrets

    for _ in range(20):
        assert secret_key_problem(secrets.token_hex(16)) is None
        assert secret_key_problem(secrets.token_urlsafe(32)) is None


@pytest.mark.parametrize("url", [None, "", "http://webinars.example.ca", "webinars.example.ca", "ftp://x"])
def test_production_refuses_a_base_url_without_https(tmp_path, url):
    assert "PORTAL_BASE_URL" in refusal(tmp_path, PORTAL_BASE_URL=url)


def test_production_needs_a_mail_server_unless_files_are_chosen(tmp_path):
    assert "MAIL_SERVER" in refusal(tmp_path, MAIL_SERVER=None)
    settings = settings_for({**SAFE, "MAIL_SERVER": "", "MAIL_BACKEND": "file"}, str(tmp_path))
    assert settings["MAIL_BACKEND"] == "file"
    assert "MAIL_BACKEND" in refusal(tmp_path, MAIL_BACKEND="carrier-pigeon")
    assert "MAIL_SERVER" in refusal(tmp_path, MAIL_SERVER=None, MAIL_BACKEND="smtp")


def test_production_still_needs_secret_key_and_database(tmp_path):
    assert "SECRET_KEY and DATABASE_URL" in refusal(tmp_path, SECRET_KEY=None, DATABASE_URL=None)


def test_mail_backend_file_wins_over_a_mail_server(app):
    app.config.update(MAIL_SERVER="smtp.example.ca", MAIL_BACKEND="file")
    assert isinstance(open_transport(), FolderTransport)
    app.config.update(MAIL_BACKEND=None)
    assert isinstance(open_transport(), SmtpTransport)


def test_flask_command_says_one_line_not_a_traceback(tmp_path):
    environ = {**os.environ, **SAFE, "SECRET_KEY": "change-me", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "outbox", "send"],
                          cwd=REPO, env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["portal: configuration error: production refuses SECRET_KEY: it is an example value; "
                     "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"]


# --- response headers ---------------------------------------------------------------------


def test_every_environment_gets_csp_with_base_and_object_locked(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "base-uri 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain http in development


def test_production_responses_carry_hsts_and_permissions_policy(another_app):
    production = another_app(PORTAL_ENV="production").test_client()
    for path in ("/", "/organiser/login", "/nowhere", "/api/v1/webinars"):
        response = production.get(path, base_url="https://webinars.example.ca")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000"), path
        assert "microphone=()" in response.headers["Permissions-Policy"], path


# --- ids and methods ----------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["2147483648", "99999999999999999999", "-1", "1.5", "1e3", "０１", "0x10"])
def test_out_of_range_or_malformed_ids_are_404(app, client, bad_id):
    sign_in(client, make_organiser(role="admin"))
    for path in (f"/organiser/webinars/{bad_id}", f"/organiser/webinars/{bad_id}/registrations.csv",
                 f"/organiser/accounts/{bad_id}/unlock"):
        method = client.post if path.endswith("unlock") else client.get
        assert method(path).status_code == 404, path


def test_largest_id_is_still_routed(app, client):
    sign_in(client, make_organiser(role="admin"))
    assert client.get("/organiser/webinars/2147483647").status_code == 404  # routed, no such webinar
    webinar = make_webinar()
    db.session.commit()
    assert client.get(f"/organiser/webinars/{webinar.id}").status_code == 200


def test_every_405_carries_allow_in_html_too(app, client):
    webinar = make_webinar()
    db.session.commit()
    for path in ("/organiser/logout", f"/register/{webinar.slug}/sent", "/healthz", "/api/v1/webinars"):
        method = client.get if path == "/organiser/logout" else client.post
        response = method(path)
        assert response.status_code == 405, path
        assert response.headers.get("Allow"), path
    html = client.get("/organiser/logout")
    assert html.mimetype == "text/html" and "POST" in html.headers["Allow"]


@pytest.mark.parametrize("level", ["verbose", "5", "info;rm"])
def test_an_unknown_log_level_is_one_clear_line_not_a_traceback(tmp_path, level):
    assert "LOG_LEVEL must be one of" in refusal(tmp_path, LOG_LEVEL=level)
    assert settings_for({**SAFE, "LOG_LEVEL": " warning "}, str(tmp_path))["LOG_LEVEL"] == "WARNING"
