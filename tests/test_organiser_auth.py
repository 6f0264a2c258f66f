"""Signing in and out, account rules, and the `flask organiser create` command."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Organiser, Role
from portal.models.types import utcnow
from portal.services.accounts import MAX_FAILED_LOGINS
from tests.conftest import csrf_token_from
from tests.factories import ORGANISER_PASSWORD, make_organiser, sign_in


def _login(client, email, password, next_=None):
    page = client.get("/organiser/login" + (f"?next={next_}" if next_ else ""))
    token = csrf_token_from(page.get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/organiser/login", data=data)


def _events(action):
    return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_login_then_dashboard(app, client):
    organiser = make_organiser()
    response = sign_in(client, organiser)
    assert response.status_code == 302 and response.location == "/organiser/"
    assert client.get("/organiser/").status_code == 200
    events = _events("login")
    assert len(events) == 1 and events[0].organiser_id == organiser.id


def test_session_cookie_is_httponly_and_lax(app, client):
    response = sign_in(client, make_organiser())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unknown_email_and_wrong_password_get_the_same_answer(app, client):
    organiser = make_organiser()
    db.session.commit()
    wrong = _login(client, organiser.email, "not the right password")
    unknown = _login(client, "nobody@example.org", "not the right password")
    assert wrong.status_code == unknown.status_code == 422
    wrong_body = wrong.get_data(as_text=True).replace(organiser.email, "EMAIL")
    unknown_body = unknown.get_data(as_text=True).replace("nobody@example.org", "EMAIL")
    assert wrong_body == unknown_body
    assert "Email or password not recognised" in wrong_body


def test_failed_login_audit_holds_no_typed_email_or_password(app, client):
    _login(client, "stranger@example.org", "secret-typed-password")
    event = _events("login_failed")[0]
    assert event.summary == "unknown account" and event.organiser_id is None
    text = f"{event.summary} {event.changes}"
    assert "stranger" not in text and "secret-typed-password" not in text


def test_repeated_failures_lock_the_account_for_a_while(app, client):
    organiser = make_organiser()
    db.session.commit()
    for _ in range(MAX_FAILED_LOGINS):
        assert _login(client, organiser.email, "wrong password here").status_code == 422
    db.session.expire_all()
    assert db.session.get(Organiser, organiser.id).locked_until > utcnow()
    # Even the right password is refused while locked, with the same answer.
    assert _login(client, organiser.email, ORGANISER_PASSWORD).status_code == 422
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        response = _login(client, organiser.email, ORGANISER_PASSWORD)
    assert response.status_code == 302


def test_deactivated_account_cannot_sign_in(app, client):
    organiser = make_organiser(active=False)
    assert sign_in(client, organiser).status_code == 422


def test_next_only_leads_within_the_site(app, client):
    organiser = make_organiser()
    db.session.commit()
    response = _login(client, organiser.email, ORGANISER_PASSWORD, next_="https://evil.example/")
    assert response.location == "/organiser/"
    client.post("/organiser/logout", data={"csrf_token": csrf_token_from(client.get("/organiser/").get_data(as_text=True))})
    for bad in ("//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = _login(client, organiser.email, ORGANISER_PASSWORD, next_=bad)
        assert response.location == "/organiser/", bad
        client.post("/organiser/logout",
                    data={"csrf_token": csrf_token_from(client.get("/organiser/").get_data(as_text=True))})
    response = _login(client, organiser.email, ORGANISER_PASSWORD, next_="/organiser/programme")
    assert response.location == "/organiser/programme"


def test_anonymous_redirect_carries_next(app, client):
    response = client.get("/organiser/programme")
    assert response.status_code == 302
    assert response.location.startswith("/organiser/login?next=")


def test_logout_is_post_only_and_needs_csrf(app, client):
    sign_in(client, make_organiser())
    assert client.get("/organiser/logout").status_code == 405
    assert client.post("/organiser/logout", data={}).status_code == 400
    assert client.get("/organiser/").status_code == 200  # still signed in
    token = csrf_token_from(client.get("/organiser/").get_data(as_text=True))
    response = client.post("/organiser/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/organiser/").status_code == 302


def test_login_form_errors_are_422_not_500(app, client):
    token = csrf_token_from(client.get("/organiser/login").get_data(as_text=True))
    for data in ({}, {"email": "x" * 300, "password": "y"}, {"email": "é@ü.org", "password": "\u202e" * 10},
                 {"email": "a@b.org", "password": "p" * 5000}, {"email": "a\x00@b.org", "password": "x\x00y"}):
        response = client.post("/organiser/login", data={"csrf_token": token, **data})
        assert response.status_code == 422, data


def test_login_is_rate_limited(app):
    limited = create_app({**app.config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute",
                          "RATELIMIT_STORAGE_URI": "memory://"})
    client = limited.test_client()
    with limited.app_context():
        token = csrf_token_from(client.get("/organiser/login").get_data(as_text=True))
        statuses = [client.post("/organiser/login", data={"csrf_token": token, "email": "a@b.org",
                                                          "password": "whatever password"}).status_code
                    for _ in range(4)]
        db.session.remove()
        db.engine.dispose()
    assert statuses == [422, 422, 422, 429]


# ---------------------------------------------------------------- the command

def test_create_command_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["organiser", "create", "--email", "Ada@Example.org", "--name", "Ada",
                                 "--role", "admin"], input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    organiser = db.session.scalar(db.select(Organiser))
    assert organiser.email == "ada@example.org" and organiser.role == Role.ADMIN
    assert organiser.password_hash.startswith("scrypt:")
    assert "passphrase" not in result.output


def test_create_command_refuses_weak_and_duplicate(app, runner):
    base = ["organiser", "create", "--email", "bob@example.org", "--name", "Bob"]
    for weak in ("short", "password1234", "qwertyuiop123", "aaaaaaaaaaaaaaa"):
        result = runner.invoke(args=base, input=weak + "\n")
        assert result.exit_code != 0 and "password" in result.output.lower() or "characters" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Organiser)) == 0
    assert runner.invoke(args=base, input="a long enough passphrase\n").exit_code == 0
    result = runner.invoke(args=[*base[:3], "BOB@example.org", *base[4:]], input="another long passphrase\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_create_command_refuses_bad_email_and_role(app, runner):
    result = runner.invoke(args=["organiser", "create", "--email", "not-an-email", "--name", "X"],
                           input="a long enough passphrase\n")
    assert result.exit_code != 0 and "valid email" in result.output
    result = runner.invoke(args=["organiser", "create", "--email", "x@example.org", "--name", "X",
                                 "--role", "owner"], input="a long enough passphrase\n")
    assert result.exit_code != 0


# ---------------------------------------------------------------- accounts pages

def _token(client, path="/organiser/accounts"):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def test_admin_creates_an_account(app, client):
    sign_in(client, make_organiser("admin"))
    data = {"csrf_token": _token(client), "name": "Zoë Tremblay", "email": "zoe@example.org",
            "role": "viewer", "password": "a long enough passphrase", "confirm": "a long enough passphrase"}
    response = client.post("/organiser/accounts", data=data)
    assert response.status_code == 302
    created = db.session.scalar(db.select(Organiser).where(Organiser.email == "zoe@example.org"))
    assert created.role == Role.VIEWER and created.password_hash.startswith("scrypt:")
    event = _events("create")[-1]
    assert event.target_id == created.id and "passphrase" not in str(event.changes) + event.summary


def test_account_form_errors(app, client):
    admin = make_organiser("admin")
    sign_in(client, admin)
    base = {"csrf_token": _token(client), "name": "X", "email": "x@example.org", "role": "viewer",
            "password": "a long enough passphrase", "confirm": "a long enough passphrase"}
    for changes, message in (
        ({"confirm": "something else entirely"}, "The two passwords differ"),
        ({"password": "short", "confirm": "short"}, "at least 12"),
        ({"password": "password1234", "confirm": "password1234"}, "too common"),
        ({"email": admin.email}, "already exists"),
        ({"email": "nope"}, "email"),
        ({"role": "owner"}, "Not a valid choice"),
    ):
        response = client.post("/organiser/accounts", data={**base, **changes})
        assert response.status_code == 422, changes
        assert message in response.get_data(as_text=True), changes


def test_last_admin_cannot_be_demoted_or_deactivated(app, client):
    admin = make_organiser("admin")
    sign_in(client, admin)
    token = _token(client)
    response = client.post(f"/organiser/accounts/{admin.id}/role", data={"csrf_token": token, "role": "viewer"})
    assert response.status_code == 409 and "last active administrator" in response.get_data(as_text=True)
    response = client.post(f"/organiser/accounts/{admin.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Organiser, admin.id).role == Role.ADMIN and db.session.get(Organiser, admin.id).active


def test_admin_changes_role_and_deactivates_others(app, client):
    admin = make_organiser("admin")
    other = make_organiser("viewer")
    sign_in(client, admin)
    token = _token(client)
    assert client.post(f"/organiser/accounts/{other.id}/role",
                       data={"csrf_token": token, "role": "admin"}).status_code == 302
    # Now two admins: the first may step down.
    assert client.post(f"/organiser/accounts/{other.id}/deactivate", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    changed = db.session.get(Organiser, other.id)
    assert changed.role == Role.ADMIN and not changed.active
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.target_id == other.id,
                                                                                AuditEvent.target_type == "organiser"))]
    assert "update" in actions and "deactivate" in actions
    # And the deactivated account can no longer sign in.
    with app.app_context():  # a second browser: its own request globals
        assert sign_in(app.test_client(), changed).status_code == 422
