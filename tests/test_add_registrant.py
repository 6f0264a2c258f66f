"""An organiser adds a registrant by hand: the public form's rules and emails, through the same service."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEvent, OutboxMessage, Registration, RegistrationStatus
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_webinar, sign_in


@pytest.fixture
def editor(client):
    sign_in(client, make_organiser("organiser"))


def _add(client, webinar, **overrides):
    path = f"/organiser/webinars/{webinar.id}/registrations/new"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, "full_name": "Phone Caller", "email": "caller@example.org",
            "organisation_name": "", "sector": "education", "region": "ON", "preferred_language": "fr",
            "accessibility_needs": "", "consent": "y", **overrides}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def test_a_registrant_added_by_hand_gets_a_seat_and_the_same_email(client, editor):
    webinar = make_webinar(capacity=2)
    db.session.commit()
    response = _add(client, webinar)
    assert response.status_code == 302
    registration = db.session.scalar(db.select(Registration).where(Registration.email == "caller@example.org"))
    assert registration.status == RegistrationStatus.CONFIRMED and registration.preferred_language == "fr"
    [message] = db.session.scalars(db.select(OutboxMessage)).all()
    assert message.kind == "confirmation" and message.recipient == "caller@example.org"
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.target_type == "registration")).action == "create"
    assert "Registered: they have a seat" in client.get(response.location).get_data(as_text=True)


def test_full_webinar_puts_them_on_the_waiting_list_and_duplicates_are_not_doubled(client, editor):
    webinar = make_webinar(capacity=1)
    make_registration(webinar)
    db.session.commit()
    assert _add(client, webinar).status_code == 302
    assert db.session.scalar(db.select(Registration.status).where(Registration.email == "caller@example.org")) \
        == RegistrationStatus.WAITLISTED
    again = _add(client, webinar, email="CALLER@example.org")
    assert "already registered" in client.get(again.location).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)
                             .where(Registration.email_normalised == "caller@example.org")) == 1


def test_a_full_webinar_without_waiting_list_refuses_and_says_why(client, editor):
    webinar = make_webinar(capacity=1, waitlist_enabled=False)
    make_registration(webinar)
    db.session.commit()
    response = _add(client, webinar)
    assert response.status_code == 409
    assert "full and has no waiting list" in response.get_data(as_text=True)


@pytest.mark.parametrize("overrides, message", [
    ({"email": "not-an-email"}, "Enter an email address"), ({"full_name": ""}, "Enter your full name"),
    ({"consent": None}, "needs their agreement"), ({"sector": "spy"}, "Sector"),
])
def test_bad_input_comes_back_whole_with_the_reason(client, editor, overrides, message):
    webinar = make_webinar()
    db.session.commit()
    response = _add(client, webinar, organisation_name="Kept Org", **overrides)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'value="Kept Org"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0


def test_viewers_cannot_add(client):
    sign_in(client, make_organiser("viewer"))
    webinar = make_webinar()
    db.session.commit()
    assert client.get(f"/organiser/webinars/{webinar.id}/registrations/new").status_code == 403


def test_added_to_an_approval_webinar_they_await_a_decision_and_the_flash_says_so(client, editor):
    from portal.models import WebinarAudience

    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    db.session.commit()
    response = _add(client, webinar)
    assert response.status_code == 302
    assert db.session.scalar(db.select(Registration.status).where(Registration.email == "caller@example.org")) \
        == RegistrationStatus.PENDING
    page = client.get(response.location).get_data(as_text=True)
    assert "needs your decision" in page and "already registered" not in page
