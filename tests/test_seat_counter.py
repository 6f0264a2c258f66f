"""The confirmed-seat counter kept by database triggers follows the rows on every path."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal.extensions import db
from portal.models import Registration, RegistrationStatus, Webinar
from portal.services import registration as service
from tests.factories import make_registration, make_webinar


def rows_and_counter(webinar_id: int) -> tuple[int, int]:
    db.session.commit()
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.webinar_id == webinar_id, Registration.status == RegistrationStatus.CONFIRMED))
    counter = db.session.scalar(sa.select(Webinar.confirmed_count).where(Webinar.id == webinar_id))
    return rows, counter


def person(n: int) -> service.RegistrantDetails:
    return service.RegistrantDetails(full_name=f"Counted {n}", email=f"counted{n}@example.org")


def test_the_counter_follows_every_path(app):
    webinar = make_webinar(capacity=2)
    db.session.commit()
    outcomes = [service.register(webinar, person(n)) for n in range(4)]
    db.session.commit()
    assert [o.outcome for o in outcomes] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert rows_and_counter(webinar.id) == (2, 2)

    service.cancel_registration(outcomes[0].registration)  # frees a seat: the first waitlisted is promoted
    assert rows_and_counter(webinar.id) == (2, 2)
    service.change_capacity(db.session.get(Webinar, webinar.id), 3)  # promotes the next
    assert rows_and_counter(webinar.id) == (3, 3)
    service.cancel_registration(outcomes[1].registration)
    assert rows_and_counter(webinar.id) == (2, 2)

    # Any status change made through the ORM, and a deletion, are counted too.
    other, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    assert rows_and_counter(webinar.id) == (2, 2)
    other.status = RegistrationStatus.CONFIRMED
    assert rows_and_counter(webinar.id) == (3, 3)
    db.session.delete(other)
    assert rows_and_counter(webinar.id) == (2, 2)
    moved, _ = make_registration(webinar)
    second = make_webinar(capacity=5)
    moved.webinar_id = second.id
    assert rows_and_counter(webinar.id) == (2, 2)
    assert rows_and_counter(second.id) == (1, 1)


def test_seats_are_decided_from_the_counter_with_one_lookup(app, count_queries):
    webinar = make_webinar(capacity=10_000)
    db.session.commit()
    for _ in range(30):
        make_registration(webinar)
    db.session.commit()
    with count_queries() as counter:
        service.register(db.session.get(Webinar, webinar.id), person(1000))
    db.session.commit()
    reads = [s for s in counter.statements if "count(" in s.lower()]
    assert reads == []  # no row is counted: the lock statement returns the counter
    assert rows_and_counter(webinar.id) == (31, 31)


def test_the_migration_fills_the_counter_from_existing_rows(app):
    webinar = make_webinar(capacity=50)
    for status in ("confirmed", "confirmed", "waitlisted", "cancelled", "confirmed"):
        make_registration(webinar, status=RegistrationStatus(status))
    webinar_id = webinar.id
    db.session.commit()
    db.session.remove()
    downgrade(revision="0013_content_version")
    upgrade()
    assert rows_and_counter(webinar_id) == (3, 3)


def test_the_counter_does_not_make_every_registration_render_its_email_again(app):
    """Emails are rendered once per kind, language and webinar state; the seat counter changes with
    every registration and is not part of that state (no email shows it)."""
    webinar = make_webinar(capacity=10)
    db.session.commit()
    for n in range(3):
        service.register(db.session.get(Webinar, webinar.id), person(n))
        db.session.commit()
    kept = app.extensions["registration_messages"]
    assert len([key for key in kept if key[0] == "confirmation"]) == 1
