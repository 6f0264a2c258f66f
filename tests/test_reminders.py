"""`flask reminders send`: confirmed registrants of webinars starting soon, once each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, RegistrationStatus, WebinarStatus
from portal.services.outbox import calendar_attachment
from tests.factories import make_registration, make_webinar, now


def test_reminders_go_once_to_confirmed_registrants_of_webinars_starting_soon(runner):
    soon = make_webinar(starts_at=now() + timedelta(hours=20), join_url="https://meet.example/room-42")
    later = make_webinar(starts_at=now() + timedelta(hours=30))
    started = make_webinar(starts_at=now() - timedelta(minutes=5))
    cancelled = make_webinar(starts_at=now() + timedelta(hours=2), status=WebinarStatus.CANCELLED)
    confirmed, _ = make_registration(soon, preferred_language="fr")
    make_registration(soon, status=RegistrationStatus.WAITLISTED)
    make_registration(soon, status=RegistrationStatus.CANCELLED)
    for webinar in (later, started, cancelled):
        make_registration(webinar)
    db.session.commit()

    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "1 queued" in first.output and first.output.strip().splitlines()[-1].startswith("reminders:")
    second = runner.invoke(args=["reminders", "send"])
    assert "0 queued, 1 already queued before" in second.output

    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.kind == "reminder" and message.registration_id == confirmed.id
    assert message.dedupe_key == f"reminder:{confirmed.id}"
    assert "https://meet.example/room-42" in message.body_text
    assert "http://portal.test/fr/registration/" in message.body_text  # the French registrant's address
    # The reminder carries the calendar, in the registrant's language (French here).
    assert message.calendar_language == "fr"
    assert "Commence dans 15 minutes" in calendar_attachment(message).decode().replace("\r\n ", "")


def test_reminder_window_follows_the_setting(app, runner):
    app.config["REMINDER_HOURS_BEFORE"] = 48
    webinar = make_webinar(starts_at=now() + timedelta(hours=30))
    make_registration(webinar)
    db.session.commit()
    assert "1 queued" in runner.invoke(args=["reminders", "send"]).output


def test_outbox_loop_runs_passes_and_summarises(runner):
    webinar = make_webinar(starts_at=now() + timedelta(hours=3))
    make_registration(webinar)
    db.session.commit()
    runner.invoke(args=["reminders", "send"])
    result = runner.invoke(args=["outbox", "send", "--loop", "--interval", "1", "--passes", "2"])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1] == "outbox: 1 sent, 0 to retry, 0 failed for good (2 passes)"
