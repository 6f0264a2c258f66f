"""Edits that are allowed but probably slips ask for a second, confirmed submit, saying why;
nothing is saved or emailed before it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import OutboxMessage, RegistrationStatus, Webinar
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in
from tests.test_organiser_programme import _edit


@pytest.fixture
def editor(client):
    sign_in(client, make_organiser("organiser"))


def _outbox_kinds():
    return db.session.scalars(db.select(OutboxMessage.kind)).all()


def test_a_start_moved_into_the_past_asks_before_emailing_anyone(client, editor):
    webinar = make_webinar(starts_at=now() + timedelta(days=10))
    make_registration(webinar)
    db.session.commit()
    original = webinar.starts_at
    yesterday = (now() - timedelta(days=1)).astimezone(webinar.series.zone).date().isoformat()
    response = _edit(client, webinar, start_date=yesterday)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is in the past: registrants would be emailed a time that has already gone" in html
    assert 'name="confirm_changes"' in html and f'value="{yesterday}"' in html  # the form comes back whole
    db.session.expire_all()
    assert db.session.get(Webinar, webinar.id).starts_at == original and _outbox_kinds() == []
    confirmed = _edit(client, webinar, start_date=yesterday, confirm_changes="y")
    assert confirmed.status_code == 302
    assert _outbox_kinds() == ["webinar_changed"]


def test_other_edits_of_a_past_webinar_need_no_confirmation(client, editor):
    webinar = make_webinar(starts_at=(now() - timedelta(days=10)).replace(second=0, microsecond=0))
    db.session.commit()
    assert _edit(client, webinar, title="Renamed afterwards").status_code == 302


def test_a_capacity_below_the_confirmed_seats_asks_first(client, editor):
    webinar = make_webinar(capacity=5)
    for _ in range(3):
        make_registration(webinar)
    make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    response = _edit(client, webinar, capacity="2")
    assert response.status_code == 422
    assert "3 people already have a confirmed seat, more than a capacity of 2" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Webinar, webinar.id).capacity == 5
    assert _edit(client, webinar, capacity="2", confirm_changes="y").status_code == 302
    db.session.expire_all()
    assert db.session.get(Webinar, webinar.id).capacity == 2
    # At or above the seats taken: no question.
    assert _edit(client, webinar, capacity="3").status_code == 302
