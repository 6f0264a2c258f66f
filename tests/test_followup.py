"""The follow-up after a webinar, end to end over real SMTP: attendees get thanks, their
certificate (downloaded from the email, its QR code followed), materials and the feedback link;
no-shows get the recording and a filled-in registration form for the next webinar; cancelled
registrations get nothing; nobody gets it twice. Feedback reminders and the response rate."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import FeedbackResponse, FeedbackSubmission, OutboxMessage, RegistrationStatus
from portal.services.outbox import deliver_all_due
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_series, make_webinar, now, sign_in
from tests.test_certificates import ZOE, held_webinar, pdf_text, qr_urls
from tests.test_outbox import smtp, text_of  # noqa: F401  (the SMTP fixture)

LINK = re.compile(r"http://portal\.test(/[^\s\"<>]+)")


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


@pytest.fixture
def scene(app):
    series = make_series(title="The Series")
    webinar = held_webinar(series, recording_url="https://video.example/rec")
    following = make_webinar(series, title="Next Webinar", starts_at=now() + timedelta(days=20))
    came, came_token = make_registration(webinar, full_name=ZOE, email="zoe@example.org", attended=True)
    missed, _ = make_registration(webinar, full_name="Sam Absent", email="sam@example.org",
                                  organisation_name="Absent Org", attended=False, preferred_language="fr")
    make_registration(webinar, email="gone@example.org", status=RegistrationStatus.CANCELLED, attended=True)
    make_registration(webinar, email="waiting@example.org", status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    return {"webinar": webinar, "following": following, "came": came, "missed": missed, "token": came_token}


def test_followup_command_sends_each_person_their_version_once(client, runner, smtp, scene):  # noqa: F811
    result = runner.invoke(args=["followup", "send"])
    assert result.exit_code == 0, result.output
    assert "1 webinars with final attendance" in result.output.splitlines()[-1]
    assert "followup send: 2 follow-ups queued" in result.output
    again = runner.invoke(args=["followup", "send"])
    assert "0 follow-ups queued (2 already sent)" in again.output
    deliver_all_due()
    assert {m["To"] for m in smtp.messages} == {"zoe@example.org", "sam@example.org"}

    thanks, = smtp.to("zoe@example.org")
    assert thanks["Subject"] == "Thank you for attending The Use of Technology"
    body = text_of(thanks)
    assert "https://video.example/rec" in body and "/feedback/" in body
    certificate_link = next(link for link in links_in(body) if link.endswith("/certificate.pdf"))
    pdf = client.get(certificate_link)
    assert pdf.status_code == 200 and ZOE in pdf_text(pdf.data)
    verification = client.get(urlsplit(qr_urls(pdf.data)[0]).path).get_data(as_text=True)
    assert "This certificate is valid." in verification and ZOE in verification

    sorry, = smtp.to("sam@example.org")
    assert sorry["Subject"] == "Vous nous avez manqué à The Use of Technology"
    body = text_of(sorry)
    assert "https://video.example/rec" in body and "Next Webinar" in body and "certificate" not in body.lower()
    register_link = next(link for link in links_in(body) if link.startswith(f"/fr/register/{scene['following'].slug}"))  # in her language
    form = client.get(register_link).get_data(as_text=True)
    assert 'value="sam@example.org"' in form and 'value="Sam Absent"' in form and 'value="Absent Org"' in form
    assert csrf_token_from(form)  # still the normal form: the person sends it


def test_nothing_before_attendance_is_final_or_for_unfinished_webinars(app, runner):
    webinar = held_webinar(attendance_final_at=None)
    make_registration(webinar, attended=True)
    upcoming = make_webinar(starts_at=now() + timedelta(days=3), attendance_final_at=now())
    make_registration(upcoming)
    db.session.commit()
    result = runner.invoke(args=["followup", "send"])
    assert "followup send: 0 follow-ups queued (0 already sent) for 0 webinars" in result.output
    assert db.session.scalar(select(OutboxMessage)) is None


def test_organiser_previews_both_versions_in_both_languages_then_sends(client, scene):
    webinar = scene["webinar"]
    sign_in(client, make_organiser("organiser"))
    expected = {("attended", "en"): "Thank you for attending", ("attended", "fr"): "Merci d’avoir assisté",
                ("missed", "en"): "Sorry we missed you", ("missed", "fr"): "Vous nous avez manqué"}
    for (version, language), words in expected.items():
        page = client.get(f"/organiser/webinars/{webinar.id}/followup/{version}/{language}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert words in html and "Alex" in html
    assert client.get(f"/organiser/webinars/{webinar.id}/followup/other/en").status_code == 404
    assert client.get(f"/organiser/webinars/{webinar.id}/followup/attended/de").status_code == 404
    assert db.session.scalar(select(OutboxMessage)) is None  # previews store nothing

    page = client.get(f"/organiser/webinars/{webinar.id}/after").get_data(as_text=True)
    path = f"/organiser/webinars/{webinar.id}/followup/send"
    assert client.post(path, data={}).status_code == 400
    response = client.post(path, data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "2 follow-up emails queued (0 had already been sent)." in response.get_data(as_text=True)
    kinds = sorted(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["followup_attended", "followup_missed"]


def test_viewers_cannot_preview_or_send(client, scene):
    sign_in(client, make_organiser("viewer"))
    webinar = scene["webinar"]
    assert client.get(f"/organiser/webinars/{webinar.id}/followup/attended/en").status_code == 403


def test_feedback_reminder_once_to_attendees_who_have_not_answered(app, runner, smtp):  # noqa: F811
    app.config.update(FEEDBACK_WINDOW_DAYS=14, FEEDBACK_REMINDER_DAYS_BEFORE=3)
    webinar = held_webinar(starts_at=now() - timedelta(days=12))
    make_registration(webinar, email="quiet@example.org", attended=True)
    answered, _ = make_registration(webinar, email="answered@example.org", attended=True)
    make_registration(webinar, email="absent@example.org", attended=False)
    response = FeedbackResponse(webinar_id=webinar.id, overall_rating=5)
    db.session.add(response)
    db.session.flush()
    db.session.add(FeedbackSubmission(registration_id=answered.id, response_id=response.id))
    early = held_webinar(starts_at=now() - timedelta(days=2))
    make_registration(early, email="early@example.org", attended=True)
    db.session.commit()

    result = runner.invoke(args=["feedback", "remind"])
    assert "feedback remind: 1 reminders queued (0 already sent) for 1 webinars" in result.output
    assert "0 reminders queued (1 already sent)" in runner.invoke(args=["feedback", "remind"]).output
    deliver_all_due()
    assert [m["To"] for m in smtp.messages] == ["quiet@example.org"]
    assert "/feedback/" in text_of(smtp.messages[0])
    # After the close, nothing more.
    with time_machine.travel(now() + timedelta(days=5), tick=False):
        assert "for 0 webinars" in runner.invoke(args=["feedback", "remind"]).output


def test_dashboard_shows_the_response_rate_among_attendees(client):
    webinar = held_webinar()
    people = [make_registration(webinar, attended=True)[0] for _ in range(4)]
    make_registration(webinar, attended=False)
    response = FeedbackResponse(webinar_id=webinar.id, overall_rating=4)
    db.session.add(response)
    db.session.flush()
    db.session.add(FeedbackSubmission(registration_id=people[0].id, response_id=response.id))
    sign_in(client, make_organiser("viewer"))
    html = client.get("/organiser/").get_data(as_text=True)
    assert "25.0 % of attendees" in html


def test_the_materials_are_read_once_for_all_recipients(app, scene, count_queries):
    from portal.services import followup

    for n in range(5):
        make_registration(scene["webinar"], email=f"more-{n}@example.org", attended=True)
    db.session.commit()
    with count_queries() as counter:
        report = followup.send_for(scene["webinar"])
    assert report.queued == 7
    assert sum(bool(re.search(r"\bfrom material\b", s, re.IGNORECASE)) for s in counter.statements) == 1
