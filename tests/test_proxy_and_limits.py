"""Client addresses behind proxies, and rate limits that fit offices behind one address.

The suite runs with the limiter off (``RATELIMIT_ENABLED`` False); every test here
turns it on for its own app, with counts in that app's memory (or a Redis it starts).
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from flask import request
from limits import parse
from sqlalchemy import func, select

from config import settings_for
from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Organiser, Registration
from portal.models.types import utcnow
from portal.services import limits
from tests.conftest import csrf_token_from, require
from tests.factories import ORGANISER_PASSWORD, make_organiser, make_webinar, sign_in
from tests.test_registration import form_data

OFFICE = "198.51.100.10"
ELSEWHERE = "203.0.113.20"
PROXY = "10.0.0.2"


@pytest.fixture
def limited_app(another_app):
    """``limited_app(**settings)``: another app with the limiter on, counting in its own memory."""

    def build(**settings):
        return another_app(**{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", **settings})

    return build


def register(client, webinar, address: str, headers: dict | None = None, **fields):
    path = f"/register/{webinar.slug}"
    token = csrf_token_from(client.get(path, environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post(path, data=form_data(token, **fields), environ_base={"REMOTE_ADDR": address},
                       headers=headers or {})


def registrations() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Registration.id)))


def login(client, email: str, password: str, address: str, headers: dict | None = None):
    page = client.get("/organiser/login", environ_base={"REMOTE_ADDR": address})
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/organiser/login", data={"csrf_token": token, "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


# --- whose address ------------------------------------------------------------------------


def _probe(app):
    app.add_url_rule("/probe", "probe", lambda: f"{request.remote_addr} {request.scheme} {request.host}")
    return app.test_client()


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, limited_app):
    client = _probe(limited_app())
    answer = client.get("/probe", environ_base={"REMOTE_ADDR": PROXY}, headers={
        "X-Forwarded-For": "192.0.2.66", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
        "X-Real-IP": "192.0.2.67", "Forwarded": "for=192.0.2.68;proto=https"})
    assert answer.get_data(as_text=True) == f"{PROXY} http localhost"


def test_one_trusted_proxy_gives_the_last_hop(app, limited_app):
    client = _probe(limited_app(TRUSTED_PROXIES=1))
    answer = client.get("/probe", environ_base={"REMOTE_ADDR": PROXY}, headers={
        "X-Forwarded-For": "192.0.2.1, 192.0.2.66", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "webinars.example.ca"})
    # The client could write anything before the proxy's hop: only the last one is believed.
    assert answer.get_data(as_text=True) == "192.0.2.66 https webinars.example.ca"


def test_trusted_proxies_setting_is_read_and_checked(tmp_path):
    assert settings_for({}, str(tmp_path))["TRUSTED_PROXIES"] == 0
    assert settings_for({"TRUSTED_PROXIES": "2"}, str(tmp_path))["TRUSTED_PROXIES"] == 2
    from config import ConfigurationError

    for bad in ("-1", "one"):
        with pytest.raises(ConfigurationError):
            settings_for({"TRUSTED_PROXIES": bad}, str(tmp_path))


def test_limits_count_the_forwarded_client_not_the_proxy(app, limited_app):
    webinar = make_webinar()
    db.session.commit()
    client = limited_app(TRUSTED_PROXIES=1, REGISTRATION_RATE_LIMIT="1 per hour").test_client()
    first = register(client, webinar, PROXY, {"X-Forwarded-For": OFFICE}, email="a@example.org")
    second = register(client, webinar, PROXY, {"X-Forwarded-For": ELSEWHERE}, email="b@example.org")
    again = register(client, webinar, PROXY, {"X-Forwarded-For": OFFICE}, email="c@example.org")
    assert (first.status_code, second.status_code, again.status_code) == (302, 302, 429)


def test_without_trusted_proxies_a_client_cannot_dodge_the_limit_with_headers(app, limited_app):
    webinar = make_webinar()
    db.session.commit()
    client = limited_app(REGISTRATION_RATE_LIMIT="1 per hour").test_client()
    assert register(client, webinar, OFFICE, {"X-Forwarded-For": "192.0.2.1"}, email="a@example.org").status_code == 302
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        response = register(client, webinar, OFFICE, {header: "192.0.2.99"}, email="b@example.org")
        assert response.status_code == 429, header


def test_audit_log_records_the_forwarded_client_address(app, limited_app):
    organiser = make_organiser()
    db.session.commit()
    client = limited_app(TRUSTED_PROXIES=1).test_client()
    assert login(client, organiser.email, ORGANISER_PASSWORD, PROXY,
                 {"X-Forwarded-For": OFFICE}).status_code == 302
    assert login(limited_app().test_client(), organiser.email, "wrong password here", PROXY,
                 {"X-Forwarded-For": OFFICE}).status_code == 422
    db.session.expire_all()
    events = {e.action: e.client_address for e in db.session.scalars(select(AuditEvent))}
    assert events == {"login": OFFICE, "login_failed": PROXY}


# --- registration limits ------------------------------------------------------------------


def test_default_registration_limit_fits_a_large_office(tmp_path):
    settings = settings_for({}, str(tmp_path))
    assert parse(settings["REGISTRATION_RATE_LIMIT"]).amount >= 100
    assert parse(settings["REGISTRATION_RATE_LIMIT"]).get_expiry() == 3600


def test_only_registrations_that_would_be_stored_count(app, limited_app):
    webinar = make_webinar()
    db.session.commit()
    client = limited_app(REGISTRATION_RATE_LIMIT="2 per hour").test_client()
    # Mistakes and the honeypot cost nothing…
    for _ in range(3):
        assert register(client, webinar, OFFICE, email="not an email").status_code == 422
        assert register(client, webinar, OFFICE, website="http://spam.example").status_code == 302
    assert registrations() == 0
    # …so the office still has its two.
    assert register(client, webinar, OFFICE, email="one@example.org").status_code == 302
    assert register(client, webinar, OFFICE, email="two@example.org").status_code == 302
    assert registrations() == 2
    # Form errors are still reported (422), not hidden behind the limit.
    assert register(client, webinar, OFFICE, email="").status_code == 422


def test_refused_registration_keeps_the_form_and_says_when(app, limited_app):
    webinar = make_webinar()
    db.session.commit()
    client = limited_app(REGISTRATION_RATE_LIMIT="1 per hour").test_client()
    assert register(client, webinar, OFFICE, email="first@example.org").status_code == 302
    refused = register(client, webinar, OFFICE, full_name="Émilie Tremblay", email="emilie@example.org",
                       organisation_name="Sûreté du Québec", accessibility_needs="Sous-titres")
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 3600
    html = refused.get_data(as_text=True)
    for typed in ("Émilie Tremblay", "emilie@example.org", "Sûreté du Québec", "Sous-titres"):
        assert typed in html
    assert "Many registrations were sent from your network" in html
    assert f"Please try again in {-(-retry_after // 60)} minutes." in html
    assert "Nothing was saved" in html
    assert registrations() == 1
    # Another address is not affected.
    assert register(client, webinar, ELSEWHERE, email="other@example.org").status_code == 302


def test_limit_per_email_address_whatever_the_address(app, limited_app):
    first, second = make_webinar(), make_webinar()
    db.session.commit()
    client = limited_app(REGISTRATION_EMAIL_RATE_LIMIT="1 per hour").test_client()
    assert register(client, first, OFFICE, email="same@example.org").status_code == 302
    refused = register(client, second, ELSEWHERE, email="SAME@example.org ")
    assert refused.status_code == 429
    assert "for this email address" in refused.get_data(as_text=True)
    assert register(client, second, ELSEWHERE, email="different@example.org").status_code == 302


def test_limit_per_webinar_counts_every_address(app, limited_app):
    webinar, other = make_webinar(), make_webinar()
    db.session.commit()
    client = limited_app(REGISTRATION_WEBINAR_RATE_LIMIT="2 per hour").test_client()
    assert register(client, webinar, "192.0.2.1", email="a@example.org").status_code == 302
    assert register(client, webinar, "192.0.2.2", email="b@example.org").status_code == 302
    refused = register(client, webinar, "192.0.2.3", email="c@example.org")
    assert refused.status_code == 429 and "receiving more registrations" in refused.get_data(as_text=True)
    assert register(client, other, "192.0.2.3", email="c@example.org").status_code == 302


def test_limit_store_never_holds_an_email_address(app, limited_app):
    webinar = make_webinar()
    db.session.commit()
    limited = limited_app()
    register(limited.test_client(), webinar, OFFICE, email="private.person@example.org")
    storage = limited.extensions["portal.limits"].memory.storage
    assert storage.storage and not any("private" in key for key in storage.storage)


# --- organiser sign-in --------------------------------------------------------------------


def test_failed_sign_ins_from_one_address_do_not_lock_out_others(app, limited_app):
    organiser = make_organiser()
    db.session.commit()
    client = limited_app(LOGIN_RATE_LIMIT="10 per 15 minutes").test_client()
    for n in range(11):
        login(client, f"guess{n}@example.org", "wrong password here", "192.0.2.66")
    assert login(client, "guess@example.org", "wrong password here", "192.0.2.66").status_code == 429
    assert login(client, organiser.email, ORGANISER_PASSWORD, OFFICE).status_code == 302


def test_sign_in_throttle_per_account_from_one_address(app, limited_app):
    target, colleague = make_organiser(), make_organiser()
    db.session.commit()
    app_ = limited_app(LOGIN_ACCOUNT_RATE_LIMIT="5 per 15 minutes")
    attacker = app_.test_client()
    statuses = [login(attacker, target.email, "wrong password here", "192.0.2.66").status_code
                for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    refused = login(attacker, target.email, ORGANISER_PASSWORD, "192.0.2.66")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in refused.get_data(as_text=True)
    # The account is not locked for its owner, nor is the address for other accounts.
    assert login(app_.test_client(), target.email, ORGANISER_PASSWORD, OFFICE).status_code == 302
    assert login(app_.test_client(), colleague.email, ORGANISER_PASSWORD, "192.0.2.66").status_code == 302
    db.session.expire_all()
    assert db.session.get(Organiser, target.id).locked_until is None


def test_unknown_account_is_throttled_the_same_way(app, limited_app):
    client = limited_app(LOGIN_ACCOUNT_RATE_LIMIT="2 per 15 minutes").test_client()
    statuses = [login(client, "nobody@example.org", "wrong password here", OFFICE).status_code
                for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_a_successful_sign_in_forgives_earlier_typos(app, limited_app):
    organiser = make_organiser()
    db.session.commit()
    client = limited_app(LOGIN_ACCOUNT_RATE_LIMIT="2 per 15 minutes").test_client()
    login(client, organiser.email, "wrong password here", OFFICE)
    assert login(client, organiser.email, ORGANISER_PASSWORD, OFFICE).status_code == 302
    client.post("/organiser/logout", data={"csrf_token": csrf_token_from(
        client.get("/organiser/", environ_base={"REMOTE_ADDR": OFFICE}).get_data(as_text=True))},
        environ_base={"REMOTE_ADDR": OFFICE})
    login(client, organiser.email, "wrong password here", OFFICE)
    assert login(client, organiser.email, ORGANISER_PASSWORD, OFFICE).status_code == 302


def test_admin_unlocks_a_locked_account(app, client, another_app):
    admin = make_organiser(role="admin")
    locked = make_organiser(locked_until=utcnow() + timedelta(minutes=10), failed_logins=3)
    sign_in(client, admin)
    page = client.get("/organiser/accounts").get_data(as_text=True)
    assert f"/organiser/accounts/{locked.id}/unlock" in page
    assert client.post(f"/organiser/accounts/{locked.id}/unlock").status_code == 400  # no CSRF
    response = client.post(f"/organiser/accounts/{locked.id}/unlock", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organiser, locked.id).locked_until is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unlock")).one()
    assert event.target_id == locked.id and event.organiser_id == admin.id
    assert sign_in(another_app().test_client(), locked).status_code == 302


def test_only_admins_unlock(app, client):
    locked = make_organiser(locked_until=utcnow() + timedelta(minutes=10))
    sign_in(client, make_organiser(role="organiser"))
    token = csrf_token_from(client.get("/organiser/").get_data(as_text=True))
    assert client.post(f"/organiser/accounts/{locked.id}/unlock", data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Organiser, locked.id).locked_until is not None


# --- where the counts live ----------------------------------------------------------------


def test_production_without_redis_says_limits_are_per_process(app, caplog):
    with caplog.at_level(logging.WARNING):
        create_app({**app.config, "PORTAL_ENV": "production", "REDIS_URL": None})
    assert any("without REDIS_URL" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app({**app.config, "PORTAL_ENV": "development", "REDIS_URL": None})
    assert not any("REDIS_URL" in r.getMessage() for r in caplog.records)


def _free_port() -> int:
    for port in range(18150, 18200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18150-18199")


class RedisServer:
    """A redis-server of the test's own, on its own port, that the test stops and starts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def stored_keys(self) -> list[str]:
        import redis

        return [k.decode() for k in redis.Redis(port=self.port).keys("*")]


@pytest.fixture
def redis_server():
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = RedisServer(_free_port())
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_limits_survive_a_redis_outage_and_return_to_it(app, redis_server, caplog, monkeypatch, limited_app):
    monkeypatch.setattr(limits, "RECHECK_SECONDS", 0.2)
    webinar = make_webinar()
    organiser = make_organiser()
    db.session.commit()
    shared = limited_app(REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/0",
                         RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_server.port}/0")
    client = shared.test_client()
    assert register(client, webinar, OFFICE, email="before@example.org").status_code == 302
    assert any("registration-address" in key for key in redis_server.stored_keys())

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="portal.limits"):
        assert register(client, webinar, OFFICE, email="during@example.org").status_code == 302
        assert login(client, organiser.email, "wrong password here", OFFICE).status_code == 422
        assert login(client, organiser.email, ORGANISER_PASSWORD, OFFICE).status_code == 302
    assert any("unreachable" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert shared.extensions["portal.limits"].using_memory
    assert registrations() == 2

    redis_server.start()
    time.sleep(0.3)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="portal.limits"):
        assert register(client, webinar, ELSEWHERE, email="after@example.org").status_code == 302
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert not shared.extensions["portal.limits"].using_memory
    assert any("registration-email" in key for key in redis_server.stored_keys())
    assert registrations() == 3


def test_a_repeat_registration_counts_for_its_email(app, limited_app):
    """It re-sends the manage link: the per-email limit stops anyone filling a stranger's inbox."""
    webinar = make_webinar()
    db.session.commit()
    client = limited_app(REGISTRATION_EMAIL_RATE_LIMIT="2 per hour").test_client()
    statuses = [register(client, webinar, f"192.0.2.{n}", email="victim@example.org").status_code
                for n in range(3)]
    assert statuses == [302, 302, 429]
    assert registrations() == 1


def test_audit_page_shows_the_client_address(app, client):
    admin = make_organiser(role="admin")
    sign_in(client, admin)
    page = client.get("/organiser/audit").get_data(as_text=True)
    assert "127.0.0.1" in page  # the test client's address, recorded with the sign-in


def test_a_forwarded_request_without_trusted_proxies_is_pointed_out_once(limited_app, caplog):
    client = limited_app().test_client()
    with caplog.at_level(logging.WARNING):
        client.get("/healthz")
        for _ in range(3):
            client.get("/healthz", headers={"X-Forwarded-For": "192.0.2.1"})
    warnings = [r for r in caplog.records if "TRUSTED_PROXIES=0" in r.getMessage()]
    assert len(warnings) == 1 and "192.0.2.1" not in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        limited_app(TRUSTED_PROXIES=1).test_client().get("/healthz", headers={"X-Forwarded-For": "192.0.2.1"})
    assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
