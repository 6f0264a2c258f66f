"""Removing personal data: the purge command for old webinars and the attendee's own "delete my data"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import FeedbackResponse, FeedbackSubmission, OutboxMessage, OutboxStatus, Registration
from portal.services import feedback
from portal.services.feedback import Answers
from portal.services.outbox import queue_email
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in


def _email(registration):
    queue_email(kind="confirmation_test", recipient=registration.email, subject="Hello",
                template="layout", context={}, registration=registration, webinar=registration.webinar)


@pytest.fixture
def old_and_recent(app):
    """An old webinar (ended 40 days ago) and a recent one (ended 10 days ago)."""
    old = make_webinar(starts_at=now() - timedelta(days=40), title="Old webinar")
    recent = make_webinar(starts_at=now() - timedelta(days=10), title="Recent webinar")
    people = {}
    for webinar in (old, recent):
        came, token = make_registration(webinar, attended=True, organisation_name="Org", region="ON",
                                        accessibility_needs="Captions", sector="education")
        missed, _ = make_registration(webinar, attended=False)
        gone, _ = make_registration(webinar, status="cancelled")
        for registration in (came, missed, gone):
            _email(registration)
        feedback.submit(came, Answers(overall_rating=4, most_useful="Great"), webinar.ends_at + timedelta(hours=1))
        people[webinar.title] = (came, token)
    db.session.commit()
    return old, recent, people


def test_purge_removes_personal_fields_of_old_webinars_only(runner, old_and_recent):
    old, recent, people = old_and_recent
    before = feedback.results_for([old])[old.id]
    result = runner.invoke(args=["privacy", "purge", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert "Old webinar: 3 registrations, 3 emails and 1 feedback links cleared" in result.output
    assert "Recent webinar" not in result.output
    assert "privacy purge: 3 registrations and 3 emails cleared across 1 webinars" in result.output

    db.session.expire_all()
    for registration in db.session.scalars(db.select(Registration).where(Registration.webinar_id == old.id)):
        assert (registration.full_name, registration.email, registration.email_normalised) == (None, None, None)
        assert (registration.organisation_name, registration.region, registration.accessibility_needs) == (None, None, None)
        assert registration.purged_at is not None
        assert registration.token_hash == f"purged-{registration.id}"  # no link can match it
    kept = db.session.get(Registration, people["Old webinar"][0].id)
    assert (kept.status.value, kept.attended, kept.sector.value) == ("confirmed", True, "education")
    for registration in db.session.scalars(db.select(Registration).where(Registration.webinar_id == recent.id)):
        assert registration.email and registration.purged_at is None

    messages = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.webinar_id == old.id)).all()
    assert {(m.recipient, m.body_text, m.body_html) for m in messages} == {("", "", None)}
    assert all(m.status == OutboxStatus.FAILED for m in messages)
    recent_messages = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.webinar_id == recent.id)).all()
    assert all(m.recipient for m in recent_messages)

    # Counts, attendance and answers are unchanged; the answer is no longer linked to the person.
    after = feedback.results_for([old])[old.id]
    assert (after.confirmed, after.attended, after.responses, after.overall.average) == (
        before.confirmed, before.attended, before.responses, before.overall.average) == (2, 1, 1, 4.0)
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackResponse)) == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackSubmission)) == 1


def test_purge_twice_removes_nothing_the_second_time(runner, old_and_recent):
    runner.invoke(args=["privacy", "purge", "--older-than", "30"])
    again = runner.invoke(args=["privacy", "purge", "--older-than", "30"])
    assert again.exit_code == 0
    assert "privacy purge: 0 registrations and 0 emails cleared across 0 webinars" in again.output


def test_purged_links_stop_working_and_results_stay_anonymous(client, runner, old_and_recent):
    _old, _recent, people = old_and_recent
    registration, token = people["Old webinar"]
    name = registration.full_name
    runner.invoke(args=["privacy", "purge", "--older-than", "30"])
    assert client.get(f"/registration/{token}").status_code == 404
    assert client.get(f"/feedback/{token}").status_code == 404
    sign_in(client, make_organiser("viewer"))
    csv_text = client.get(f"/organiser/webinars/{registration.webinar_id}/feedback.csv").get_data(as_text=True)
    assert "Great" in csv_text and name not in csv_text


@pytest.mark.parametrize("days", ["-1", "abc", ""])
def test_purge_refuses_bad_days(runner, app, days):
    result = runner.invoke(args=["privacy", "purge", "--older-than", days])
    assert result.exit_code == 2


def test_purge_requires_older_than(runner, app):
    assert runner.invoke(args=["privacy", "purge"]).exit_code == 2


# --- the attendee's own erase --------------------------------------------------------


def test_erase_is_offered_only_after_the_webinar(client, app):
    upcoming = make_webinar(starts_at=now() + timedelta(days=3))
    _registration, token = make_registration(upcoming)
    db.session.commit()
    assert f"/registration/{token}/erase" not in client.get(f"/registration/{token}").get_data(as_text=True)
    response = client.get(f"/registration/{token}/erase")
    assert response.status_code == 409
    assert "once the webinar is over" in response.get_data(as_text=True)


def test_erase_asks_for_confirmation_then_removes_the_data(client, app):
    webinar = make_webinar(starts_at=now() - timedelta(days=1))
    registration, token = make_registration(webinar, attended=True, full_name="Erin Erase")
    feedback.submit(registration, Answers(overall_rating=5), webinar.ends_at + timedelta(hours=1))
    db.session.commit()

    page = client.get(f"/registration/{token}/erase")
    assert page.status_code == 200 and "This cannot be undone" in page.get_data(as_text=True)
    assert client.post(f"/registration/{token}/erase").status_code == 400  # no CSRF token
    assert db.session.get(Registration, registration.id).full_name == "Erin Erase"

    csrf = csrf_token_from(page.get_data(as_text=True))
    response = client.post(f"/registration/{token}/erase", data={"csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith("/registration/erased")
    assert "Your data is deleted" in client.get(response.headers["Location"]).get_data(as_text=True)

    db.session.expire_all()
    erased = db.session.get(Registration, registration.id)
    assert (erased.full_name, erased.email, erased.attended) == (None, None, True)
    assert erased.purged_at is not None
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackResponse)) == 1
    assert client.get(f"/registration/{token}").status_code == 404
    assert client.post(f"/registration/{token}/erase", data={"csrf_token": csrf}).status_code == 404


def test_erase_with_garbage_token_is_404(client, app):
    assert client.get("/registration/not-a-token/erase").status_code == 404


def test_purge_clears_certificate_addresses_and_unmatched_report_rows(runner, old_and_recent):
    from portal.models import AttendanceImport, Certificate, CertificateKind, UnmatchedAttendee
    from portal.models.attendance import ReportFormat

    old, recent, people = old_and_recent
    came_old, came_recent = people["Old webinar"][0], people["Recent webinar"][0]
    certificates = {
        "old": Certificate(code="OLD-1", kind=CertificateKind.WEBINAR, registration=came_old, webinar=old,
                           series=old.series, email_normalised=came_old.email_normalised, printed_name="Old Person"),
        "series": Certificate(code="SER-1", kind=CertificateKind.SERIES, series=old.series,
                              email_normalised=came_old.email_normalised, printed_name="Old Person"),
        "recent": Certificate(code="NEW-1", kind=CertificateKind.WEBINAR, registration=came_recent,
                              webinar=recent, series=recent.series,
                              email_normalised=came_recent.email_normalised, printed_name="Recent Person"),
    }
    report_rows = {}
    for webinar in (old, recent):
        imported = AttendanceImport(webinar=webinar, report_format=ReportFormat.ZOOM_MEETING)
        report_rows[webinar.title] = UnmatchedAttendee(attendance_import=imported, webinar_id=webinar.id,
                                                       name="Jane Unmatched", email="jane@example.org", minutes=30)
        db.session.add(report_rows[webinar.title])
    db.session.add_all(certificates.values())
    db.session.commit()

    assert runner.invoke(args=["privacy", "purge", "--older-than", "30"]).exit_code == 0
    db.session.expire_all()
    assert certificates["old"].email_normalised is None and certificates["series"].email_normalised is None
    assert certificates["old"].printed_name == "Old Person"  # the holder's code still verifies
    assert certificates["recent"].email_normalised == came_recent.email_normalised
    old_row, recent_row = report_rows["Old webinar"], report_rows["Recent webinar"]
    assert (old_row.name, old_row.email, old_row.minutes) == ("", "", 30)
    assert (recent_row.name, recent_row.email) == ("Jane Unmatched", "jane@example.org")
