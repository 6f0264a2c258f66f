"""Organiser sessions end on the server: logout, idleness, age, a new password."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask_login.utils import encode_cookie
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Organiser
from portal.models.types import utcnow
from portal.services import accounts
from tests.conftest import csrf_token_from
from tests.factories import ORGANISER_PASSWORD, make_organiser, make_webinar, sign_in

NEW_PASSWORD = "a brand new passphrase 2026"


@pytest.fixture
def fresh_client(another_app):
    """``fresh_client()``: a browser of its own (another app on the same database)."""
    return lambda: another_app().test_client()


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(fresh_client, value: str):
    thief = fresh_client()
    thief.set_cookie("session", value)
    return thief


def logout(client):
    token = csrf_token_from(client.get("/organiser/").get_data(as_text=True))
    return client.post("/organiser/logout", data={"csrf_token": token})


def test_cookie_copied_before_logout_no_longer_works(app, fresh_client):
    organiser = make_organiser()
    webinar = make_webinar()
    db.session.commit()
    browser = fresh_client()
    assert sign_in(browser, organiser).status_code == 302
    csv = f"/organiser/webinars/{webinar.id}/registrations.csv"
    copied = session_cookie(browser)
    assert with_cookie(fresh_client, copied).get(csv).status_code == 200  # the copy works while signed in
    assert logout(browser).status_code == 302
    thief = with_cookie(fresh_client, copied)
    response = thief.get(csv)
    assert response.status_code == 302 and response.location.startswith("/organiser/login")
    assert thief.get("/organiser/").status_code == 302


def test_signing_in_again_after_logout_works(app, fresh_client):
    organiser = make_organiser()
    db.session.commit()
    browser = fresh_client()
    sign_in(browser, organiser)
    logout(browser)
    assert sign_in(browser, organiser).status_code == 302
    assert browser.get("/organiser/").status_code == 200


def test_idle_session_expires(app, fresh_client):
    organiser = make_organiser()
    db.session.commit()
    browser = fresh_client()
    start = utcnow()
    with time_machine.travel(start, tick=False):
        sign_in(browser, organiser)
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert browser.get("/organiser/").status_code == 200  # used: the idle clock restarts
    with time_machine.travel(start + timedelta(minutes=59 + 59), tick=False):
        assert browser.get("/organiser/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=59 + 59 + 61), tick=False):
        response = browser.get("/organiser/")
    assert response.status_code == 302 and response.location.startswith("/organiser/login")


def test_idle_minutes_are_a_setting(app, another_app):
    organiser = make_organiser()
    db.session.commit()
    browser = another_app(ORGANISER_IDLE_MINUTES=5).test_client()
    start = utcnow()
    with time_machine.travel(start, tick=False):
        sign_in(browser, organiser)
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert browser.get("/organiser/").status_code == 302


def test_session_ends_after_its_maximum_lifetime_even_when_busy(app, fresh_client):
    organiser = make_organiser()
    db.session.commit()
    browser = fresh_client()
    start = utcnow()
    with time_machine.travel(start, tick=False):
        sign_in(browser, organiser)
    for hours in range(1, 12):  # used every 50 minutes or so all day
        with time_machine.travel(start + timedelta(hours=hours) - timedelta(minutes=10), tick=False):
            assert browser.get("/organiser/").status_code == 200, hours
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert browser.get("/organiser/").status_code == 302


def test_remember_me_cookie_does_not_bypass_the_session_rules(app, fresh_client):
    organiser = make_organiser()
    db.session.commit()
    browser = fresh_client()
    with app.test_request_context():
        browser.set_cookie("remember_token", encode_cookie(str(organiser.id)))
    response = browser.get("/organiser/")
    assert response.status_code == 302 and response.location.startswith("/organiser/login")


def test_a_session_without_the_stamp_is_refused(app, fresh_client):
    """A cookie signed before sessions were stamped (or forged without the stamp) signs nobody in."""
    organiser = make_organiser()
    db.session.commit()
    browser = fresh_client()
    with browser.session_transaction() as session:
        session["_user_id"] = str(organiser.id)
        session["_fresh"] = True
    assert browser.get("/organiser/").status_code == 302


# --- changing one's own password ----------------------------------------------------------


def _change(client, current, new, confirm=None):
    page = client.get("/organiser/password")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/organiser/password", data={"csrf_token": token, "current_password": current,
                                                    "password": new, "confirm": new if confirm is None else confirm})


def test_changing_password_keeps_this_session_and_ends_the_others(app, fresh_client):
    organiser = make_organiser()
    db.session.commit()
    laptop, phone = fresh_client(), fresh_client()
    sign_in(laptop, organiser)
    sign_in(phone, organiser)
    assert _change(laptop, ORGANISER_PASSWORD, NEW_PASSWORD).status_code == 302
    assert laptop.get("/organiser/").status_code == 200
    assert phone.get("/organiser/").status_code == 302
    assert sign_in(fresh_client(), organiser, ORGANISER_PASSWORD).status_code == 422
    assert sign_in(fresh_client(), organiser, NEW_PASSWORD).status_code == 302
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "password")).one()
    assert event.organiser_id == organiser.id and NEW_PASSWORD not in f"{event.summary}{event.changes}"


def test_password_change_needs_the_current_password_and_the_same_rules(app, fresh_client):
    organiser = make_organiser()
    db.session.commit()
    browser = fresh_client()
    sign_in(browser, organiser)
    cases = [
        ("not my password at all", NEW_PASSWORD, None, "This is not your current password."),
        (ORGANISER_PASSWORD, "short", None, "at least 12 characters"),
        (ORGANISER_PASSWORD, "password1234", None, "too common"),
        (ORGANISER_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ."),
        (ORGANISER_PASSWORD, ORGANISER_PASSWORD, None, "different from the current one"),
        (ORGANISER_PASSWORD, "", None, "This field is required."),
        (ORGANISER_PASSWORD, "x" * 500, None, "Field cannot be longer"),
    ]
    for current, new, confirm, message in cases:
        response = _change(browser, current, new, confirm)
        assert response.status_code == 422, (new, response.status_code)
        assert message in response.get_data(as_text=True), message
    db.session.expire_all()
    password_hash = db.session.get(Organiser, organiser.id).password_hash
    assert accounts.check_password_hash(password_hash, ORGANISER_PASSWORD)
    assert browser.get("/organiser/").status_code == 200  # still signed in


def test_password_change_needs_csrf_and_login(app, client):
    assert client.get("/organiser/password").status_code == 302
    organiser = make_organiser(role="viewer")
    sign_in(client, organiser)
    assert client.get("/organiser/password").status_code == 200  # every role may change its own
    response = client.post("/organiser/password", data={"current_password": ORGANISER_PASSWORD,
                                                          "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400


def test_migration_0005_keeps_accounts_and_audit_events(tmp_path):
    """Upgrade from 0004 with data in place, then down again (on a SQLite file of its own)."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path}/migrate.db"
    scratch = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url})
    with scratch.app_context():
        upgrade(revision="0004_outbox_calendar_language")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO organiser (email, name, password_hash, role, active, failed_logins, "
                                 "created_at) VALUES ('a@example.org', 'A', 'h', 'admin', 1, 0, '2026-01-01')"))
            conn.execute(sa.text("INSERT INTO audit_event (organiser_id, action, target_type, summary, created_at) "
                                 "VALUES (1, 'login', 'organiser', 'A', '2026-01-01')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT email, session_version FROM organiser")).all() == [("a@example.org", 0)]
            assert conn.execute(sa.text("SELECT action, client_address FROM audit_event")).all() == [("login", None)]
        downgrade(revision="0004_outbox_calendar_language")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT email FROM organiser")).scalars().all() == ["a@example.org"]
        db.engine.dispose()
