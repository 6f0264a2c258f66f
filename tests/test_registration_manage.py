"""The attendee's link: status, waiting-list position, join link timing, corrections, cancelling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, Registration, RegistrationStatus, Sector
from portal.services import registration as registrations
from portal.services.outbox import calendar_attachment
from portal.services.tokens import hash_token
from tests.conftest import page_in
from tests.factories import make_registration, make_webinar, now


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 500, "%00%01", "../../etc/passwd", "' OR 1=1 --"])
def test_unknown_or_malformed_tokens_get_a_friendly_404(client, token):
    for path in (f"/registration/{token}", f"/registration/{token}/cancel"):
        response = client.get(path)
        assert response.status_code == 404
        assert "not valid" in response.get_data(as_text=True) or "not found" in response.get_data(as_text=True).lower()


def test_links_emailed_before_the_token_changed_form_keep_working(client):
    """Earlier versions derived the link from the id and creation instant (and stored its hash);
    those links are in sent emails, so later emails must carry the same one and it must open."""
    webinar = make_webinar()
    registration, _ = make_registration(webinar)
    instant = registration.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")
    digest = hmac.new(client.application.config["SECRET_KEY"].encode(),
                      f"registration-link:{registration.id}:{instant}".encode(), hashlib.sha256).digest()
    old_link = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    registration.token_hash = hash_token(old_link)
    db.session.commit()
    assert registrations.manage_token(registration) == old_link
    assert client.get(f"/registration/{old_link}").status_code == 200


def test_manage_page_shows_the_registrants_sector_and_region_as_words(client):
    webinar = make_webinar()
    _, token = make_registration(webinar, sector=Sector.EDUCATION, region="QC")
    english = page_in(client, "en", f"/registration/{token}")
    assert "<dd>Education</dd>" in english and "<dd>Quebec</dd>" in english
    french = page_in(client, "fr", f"/registration/{token}")
    assert "<dd>Éducation</dd>" in french and "<dd>Québec</dd>" in french


def test_manage_page_shows_status_position_and_calendar(client):
    webinar = make_webinar(capacity=1)
    make_registration(webinar)
    first, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    second, token = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    response = client.get(f"/registration/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "number 2 on the waiting list" in html
    assert f"/webinars/{webinar.slug}.ics" in html
    assert second.email in html
    french = client.get(f"/fr/registration/{token}")  # the address French emails link to
    assert french.status_code == 200 and french.headers["Cache-Control"] == "no-store"


def test_join_link_only_when_confirmed_and_close_to_the_start(client, app):
    start = now() + timedelta(days=2)
    webinar = make_webinar(starts_at=start, join_url="https://meet.example/secret-room")
    _, confirmed = make_registration(webinar)
    _, waiting = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    assert "secret-room" not in client.get(f"/registration/{confirmed}").get_data(as_text=True)
    with time_machine.travel(start - timedelta(minutes=29)):
        assert "secret-room" in client.get(f"/registration/{confirmed}").get_data(as_text=True)
        assert "secret-room" not in client.get(f"/registration/{waiting}").get_data(as_text=True)
    with time_machine.travel(start - timedelta(minutes=31)):
        assert "secret-room" not in client.get(f"/registration/{confirmed}").get_data(as_text=True)
    with time_machine.travel(webinar.ends_at + timedelta(minutes=1)):
        assert "secret-room" not in client.get(f"/registration/{confirmed}").get_data(as_text=True)


def test_correcting_name_and_organisation(client):
    webinar = make_webinar()
    registration, token = make_registration(webinar)
    db.session.commit()
    page = client.get(f"/registration/{token}").get_data(as_text=True)
    response = client.post(f"/registration/{token}/details",
                           data={"csrf_token": csrf_of(page), "full_name": "Ada King", "organisation_name": "RCMP"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (registration.full_name, registration.organisation_name) == ("Ada King", "RCMP")

    bad = client.post(f"/registration/{token}/details",
                      data={"csrf_token": csrf_of(page), "full_name": "", "organisation_name": "x" * 201})
    assert bad.status_code == 422
    assert "Enter your full name" in bad.get_data(as_text=True)
    assert client.post(f"/registration/{token}/details", data={"full_name": "No Csrf"}).status_code == 400
    db.session.expire_all()
    assert registration.full_name == "Ada King"


def test_cancel_needs_confirmation_and_csrf_and_promotes_the_oldest(client):
    webinar = make_webinar(capacity=1)
    seated, token = make_registration(webinar)
    older, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    newer, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    confirm = client.get(f"/registration/{token}/cancel")
    assert confirm.status_code == 200 and "Cancel your registration?" in confirm.get_data(as_text=True)
    assert client.post(f"/registration/{token}/cancel", data={}).status_code == 400
    db.session.expire_all()
    assert seated.status == RegistrationStatus.CONFIRMED

    response = client.post(f"/registration/{token}/cancel",
                           data={"csrf_token": csrf_of(confirm.get_data(as_text=True))})
    assert response.status_code == 302
    db.session.expire_all()
    assert [seated.status, older.status, newer.status] == ["cancelled", "confirmed", "waitlisted"]
    kinds = db.session.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)).all()
    assert kinds == [f"cancelled:{seated.id}", f"promoted:{older.id}"]
    # A replayed cancel changes nothing and sends nothing more.
    again = client.post(f"/registration/{token}/cancel",
                        data={"csrf_token": csrf_of(confirm.get_data(as_text=True))})
    assert again.status_code == 302
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 2


def test_raising_capacity_promotes_oldest_in_order(app):
    webinar = make_webinar(capacity=1)
    make_registration(webinar)
    waiting = [make_registration(webinar, status=RegistrationStatus.WAITLISTED)[0] for _ in range(3)]
    db.session.commit()
    promoted = registrations.change_capacity(webinar, 3)
    db.session.commit()
    assert [r.id for r in promoted] == [waiting[0].id, waiting[1].id]
    assert [r.status for r in waiting] == ["confirmed", "confirmed", "waitlisted"]
    assert registrations.change_capacity(webinar, None) == [waiting[2]]
    db.session.commit()
    promoted_mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "promoted")).all()
    assert len(promoted_mail) == 3 and all(b"BEGIN:VEVENT" in calendar_attachment(m) for m in promoted_mail)


def test_move_up_only_into_a_free_seat(app):
    webinar = make_webinar(capacity=1)
    seated, _ = make_registration(webinar)
    first, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    last, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    with pytest.raises(registrations.SeatsFull):
        registrations.move_up(last)
    db.session.rollback()
    registrations.cancel_registration(seated, by_organiser=object())
    db.session.commit()
    assert first.status == RegistrationStatus.CONFIRMED  # cancelling promoted the oldest
    registrations.change_capacity(webinar, 2)
    db.session.commit()
    assert last.status == RegistrationStatus.CONFIRMED
    with pytest.raises(registrations.NotWaitlisted):
        registrations.move_up(last)


def test_organiser_move_up_skips_the_queue(app):
    webinar = make_webinar(capacity=2)
    make_registration(webinar)
    db.session.commit()
    registrations.change_capacity(webinar, 1)
    waiting = [make_registration(webinar, status=RegistrationStatus.WAITLISTED)[0] for _ in range(2)]
    registrations.change_capacity(webinar, 2)  # promotes waiting[0]
    registrations.change_capacity(webinar, 3)
    db.session.commit()
    assert waiting[1].status == RegistrationStatus.CONFIRMED
    rows = db.session.scalars(select(Registration).where(Registration.status == "confirmed")).all()
    assert len(rows) == 3
