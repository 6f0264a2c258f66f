"""Calendar files: one webinar or the whole programme, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from portal.extensions import db
from portal.models import WebinarStatus
from portal.services.calendar import programme_calendar, webinar_calendar
from tests.factories import (
    make_organisation,
    make_presentation,
    make_presenter,
    make_series,
    make_webinar,
)

START = datetime(2022, 12, 2, 18, 0, tzinfo=UTC)


def events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


def seeded_webinar(**fields):
    webinar = make_webinar(slug="tech-ocse", title="The Use of Technology", starts_at=START,
                           duration_minutes=90, **fields)
    unicri = make_organisation(name="United Nations Interregional Crime and Justice Research Institute")
    eira = make_presenter(organisation=unicri, title="Information and Technology Officer", name="Maria Eira")
    make_presentation(webinar, [eira], title="AI for Safer Children's Global Hub")
    db.session.commit()
    return webinar


def test_webinar_ics_carries_the_facts(client):
    webinar = seeded_webinar()
    response = client.get("/webinars/tech-ocse.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="tech-ocse.ics"' in response.headers["Content-Disposition"]
    (event,) = events(response.data)
    assert str(event["UID"]) == f"webinar-{webinar.id}@portal.test"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == START + timedelta(minutes=90)
    assert "DTSTAMP" in event
    assert str(event["SUMMARY"]) == "The Use of Technology"
    assert str(event["URL"]) == "http://portal.test/webinars/tech-ocse"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 1
    description = str(event["DESCRIPTION"])
    assert "AI for Safer Children's Global Hub" in description
    assert "Maria Eira (Information and Technology Officer, United Nations Interregional" in description
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)
    assert str(alarm["ACTION"]) == "DISPLAY"


def test_times_are_written_in_utc(client):
    seeded_webinar()
    body = client.get("/webinars/tech-ocse.ics").get_data(as_text=True)
    assert "DTSTART:20221202T180000Z" in body
    assert "DTEND:20221202T193000Z" in body


def test_uid_is_stable_and_sequence_follows_schedule_version(client):
    webinar = seeded_webinar()
    first = events(client.get("/webinars/tech-ocse.ics").data)[0]
    webinar.starts_at = START + timedelta(days=1)
    webinar.schedule_version = 2
    db.session.commit()
    second = events(client.get("/webinars/tech-ocse.ics").data)[0]
    assert str(first["UID"]) == str(second["UID"])
    assert int(second["SEQUENCE"]) == 2
    assert second.decoded("DTSTART") == START + timedelta(days=1)


def test_cancelled_webinar_is_marked_cancelled(client):
    seeded_webinar(status=WebinarStatus.CANCELLED)
    (event,) = events(client.get("/webinars/tech-ocse.ics").data)
    assert str(event["STATUS"]) == "CANCELLED"
    assert not event.walk("VALARM")


def test_programme_calendar_lists_only_public_webinars(client):
    series = make_series(slug="s")
    hidden = make_series(slug="hidden", published=False)
    shown = [make_webinar(series, slug=f"w{i}", starts_at=START + timedelta(days=i)) for i in range(3)]
    cancelled = make_webinar(series, slug="called-off", status=WebinarStatus.CANCELLED)
    make_webinar(series, slug="draft", status=WebinarStatus.DRAFT)
    make_webinar(hidden, slug="unpublished-series")
    db.session.commit()
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "filename=" in response.headers["Content-Disposition"]
    found = {str(e["URL"]).rsplit("/", 1)[1]: e for e in events(response.data)}
    assert set(found) == {w.slug for w in [*shown, cancelled]}
    assert str(found["called-off"]["STATUS"]) == "CANCELLED"
    assert len({str(e["UID"]) for e in found.values()}) == 4


def test_drafts_and_unknown_slugs_have_no_calendar(client):
    make_webinar(slug="secret", status=WebinarStatus.DRAFT)
    make_webinar(slug="of-hidden-series", series=make_series(published=False))
    db.session.commit()
    for path in ("/webinars/secret.ics", "/webinars/of-hidden-series.ics", "/webinars/nope.ics",
                 "/webinars/%00.ics", "/webinars/" + "x" * 500 + ".ics", "/webinars/a.b.ics"):
        assert client.get(path).status_code == 404, path


def test_calendar_builds_outside_a_request_for_emails(app):
    """Confirmation emails are sent by `outbox send`, with no request: the URL still uses PORTAL_BASE_URL."""
    webinar = seeded_webinar()
    (event,) = events(webinar_calendar(webinar))
    assert str(event["URL"]) == "http://portal.test/webinars/tech-ocse"
    assert len(events(programme_calendar([webinar, make_webinar()]))) == 2


def test_base_url_with_a_path_prefix(app):
    app.config["PORTAL_BASE_URL"] = "https://example.org/webinars-portal"
    webinar = seeded_webinar()
    (event,) = events(webinar_calendar(webinar))
    assert str(event["URL"]) == "https://example.org/webinars-portal/webinars/tech-ocse"
    assert str(event["UID"]) == f"webinar-{webinar.id}@example.org"
