"""The feedback form behind the registration link: window, once-only answers, edits, bad input, invitations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.extensions import db
from portal.models import (
    FeedbackResponse,
    FeedbackSubmission,
    OutboxMessage,
    PresentationRating,
    RegistrationStatus,
    WebinarStatus,
)
from tests.conftest import csrf_token_from
from tests.factories import make_presentation, make_presenter, make_registration, make_webinar, now

START = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)
END = START + timedelta(minutes=90)
CLOSES = END + timedelta(days=14)
ONE_SECOND = timedelta(seconds=1)


@pytest.fixture
def past_webinar(app):
    """A webinar that ended three hours ago, with two talks."""
    webinar = make_webinar(starts_at=now() - timedelta(hours=4, minutes=30))
    make_presentation(webinar, [make_presenter(name="Ada Lovelace")], title="Talk about engines")
    make_presentation(webinar, [make_presenter(name="Grace Hopper")], title="Talk about compilers")
    db.session.commit()
    return webinar


def _token_from(client, token: str) -> str:
    return csrf_token_from(client.get(f"/feedback/{token}").get_data(as_text=True))


def _post(client, token: str, data: dict, csrf: str | None = None):
    csrf = csrf or _token_from(client, token)
    return client.post(f"/feedback/{token}", data={"csrf_token": csrf, **data})


def _ratings(webinar, *values) -> dict:
    return {f"presentation_{p.id}": str(v) for p, v in zip(webinar.presentations, values, strict=False)}


# --- the form --------------------------------------------------------------------------


def test_form_has_accessible_rating_groups_for_every_presentation(client, past_webinar):
    _registration, token = make_registration(past_webinar)
    db.session.commit()
    response = client.get(f"/feedback/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert html.count("<fieldset") == 4  # overall, two talks, relevance
    assert "<legend>Overall, how would you rate this webinar?" in html
    assert "Talk about engines — Ada Lovelace" in html
    assert "Talk about compilers — Grace Hopper" in html
    assert len(re.findall(r'type="radio"', html)) == 20
    assert 'for="overall_rating-4"' in html


def test_answer_is_stored_with_ratings_and_only_overall_is_required(client, past_webinar):
    registration, token = make_registration(past_webinar)
    db.session.commit()
    response = _post(client, token, {"overall_rating": "4"})
    assert response.status_code == 302
    stored = db.session.scalars(db.select(FeedbackResponse)).one()
    assert (stored.overall_rating, stored.relevance, stored.most_useful) == (4, None, "")
    assert stored.presentation_ratings == []
    assert db.session.scalars(db.select(FeedbackSubmission)).one().registration_id == registration.id

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you: your feedback is saved" in page


def test_resubmitting_edits_the_same_response(client, past_webinar):
    _registration, token = make_registration(past_webinar)
    db.session.commit()
    _post(client, token, {"overall_rating": "2", **_ratings(past_webinar, 1, 2), "most_useful": "First try",
                          "quote_consent": "y"})
    page = client.get(f"/feedback/{token}").get_data(as_text=True)
    assert "First try" in page and "Save my changes" in page
    assert re.search(r'id="overall_rating-1"[^>]*checked|checked[^>]*id="overall_rating-1"', page)

    response = _post(client, token, {"overall_rating": "5", **_ratings(past_webinar, 5), "most_useful": "Second"})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.scalars(db.select(FeedbackResponse)).one()
    assert (stored.overall_rating, stored.most_useful, stored.quote_consent) == (5, "Second", False)
    ratings = db.session.scalars(db.select(PresentationRating)).all()
    assert [(r.presentation_id, r.rating) for r in ratings] == [(past_webinar.presentations[0].id, 5)]
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackSubmission)) == 1


@pytest.mark.parametrize("data, message", [
    ({}, "Choose a rating from 1 to 5."),
    ({"overall_rating": "6"}, "Not a valid choice"),
    ({"overall_rating": "abc"}, "Invalid Choice"),
    ({"overall_rating": "0"}, "Not a valid choice"),
    ({"overall_rating": "3", "relevance": "9"}, "Not a valid choice"),
    ({"overall_rating": "3", "most_useful": "x" * 2001}, "2000"),
])
def test_bad_answers_are_refused_with_422_and_nothing_stored(client, past_webinar, data, message):
    _registration, token = make_registration(past_webinar)
    db.session.commit()
    response = _post(client, token, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    if not data:  # the summary's link lands on the rating group itself
        assert 'href="#overall_rating"' in html and '<fieldset class="field" id="overall_rating"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackResponse)) == 0


def test_bad_presentation_rating_is_refused(client, past_webinar):
    _registration, token = make_registration(past_webinar)
    db.session.commit()
    response = _post(client, token, {"overall_rating": "3", **_ratings(past_webinar, 7)})
    assert response.status_code == 422


def test_unicode_answers_are_kept_as_written(client, past_webinar):
    _registration, token = make_registration(past_webinar)
    db.session.commit()
    text = "Très utile — 日本語 ✓ «citation»"
    assert _post(client, token, {"overall_rating": "5", "topics_wanted": f"  {text}  "}).status_code == 302
    assert db.session.scalars(db.select(FeedbackResponse)).one().topics_wanted == text


def test_missing_csrf_is_refused(client, past_webinar):
    _registration, token = make_registration(past_webinar)
    db.session.commit()
    response = client.post(f"/feedback/{token}", data={"overall_rating": "5"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackResponse)) == 0


# --- who may answer --------------------------------------------------------------------


@pytest.mark.parametrize("token", ["garbage", "x" * 43, "A" * 64, "../../etc/passwd", "%00", "é" * 43])
def test_garbage_and_unknown_tokens_are_404(client, app, token):
    response = client.get(f"/feedback/{token}")
    assert response.status_code == 404
    if "/" not in token:  # a slash never reaches the view: the generic 404 page answers
        assert "This feedback link is not valid" in response.get_data(as_text=True)


def test_cancelled_registration_is_404(client, past_webinar):
    _registration, token = make_registration(past_webinar, status=RegistrationStatus.CANCELLED)
    db.session.commit()
    assert client.get(f"/feedback/{token}").status_code == 404


def test_waitlisted_registration_is_403_with_a_message(client, past_webinar):
    _registration, token = make_registration(past_webinar, status=RegistrationStatus.WAITLISTED)
    db.session.commit()
    response = client.get(f"/feedback/{token}")
    assert response.status_code == 403
    assert "waiting list" in response.get_data(as_text=True)


def test_draft_webinar_is_404_and_cancelled_webinar_410(client, app):
    draft = make_webinar(starts_at=now() - timedelta(hours=3), status=WebinarStatus.DRAFT)
    cancelled = make_webinar(starts_at=now() - timedelta(hours=3), status=WebinarStatus.CANCELLED)
    _r1, draft_token = make_registration(draft)
    _r2, cancelled_token = make_registration(cancelled)
    db.session.commit()
    assert client.get(f"/feedback/{draft_token}").status_code == 404
    response = client.get(f"/feedback/{cancelled_token}")
    assert response.status_code == 410
    assert "cancelled" in response.get_data(as_text=True)


def test_a_token_answers_only_for_its_own_webinar(client, past_webinar):
    other = make_webinar(starts_at=now() - timedelta(hours=5))
    _registration, token = make_registration(other)
    db.session.commit()
    assert _post(client, token, {"overall_rating": "3"}).status_code == 302
    stored = db.session.scalars(db.select(FeedbackResponse)).one()
    assert stored.webinar_id == other.id
    # Rating a talk of another webinar through the form is ignored, not stored against it.
    _post(client, token, {"overall_rating": "3", **_ratings(past_webinar, 5)})
    assert db.session.scalar(db.select(db.func.count()).select_from(PresentationRating)) == 0


# --- the window, with frozen time ----------------------------------------------------------


@pytest.fixture
def fixed_webinar(app):
    webinar = make_webinar(starts_at=START, duration_minutes=90)
    make_presentation(webinar, [make_presenter()])
    registration, token = make_registration(webinar)
    db.session.commit()
    # Tokens fetched at one frozen instant are posted at another: no CSRF time limit here.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    return webinar, token


def _csrf_anywhere(client, token: str) -> str:
    """A token taken before every instant the test visits (a session signed "in the future" is refused)."""
    with time_machine.travel(START - timedelta(days=1), tick=False):
        return csrf_token_from(client.get(f"/registration/{token}").get_data(as_text=True))


def test_one_second_before_the_end_the_link_shows_when_it_opens(client, fixed_webinar):
    _webinar, token = fixed_webinar
    csrf = _csrf_anywhere(client, token)
    with time_machine.travel(END - ONE_SECOND, tick=False):
        page = client.get(f"/feedback/{token}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Feedback opens when the webinar ends" in html and "<form" not in html.split("<main")[1]
        assert _post(client, token, {"overall_rating": "5"}, csrf).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(FeedbackResponse)) == 0


def test_open_exactly_at_the_end_and_one_second_before_closing(client, fixed_webinar):
    _webinar, token = fixed_webinar
    csrf = _csrf_anywhere(client, token)
    with time_machine.travel(END, tick=False):
        assert client.get(f"/feedback/{token}").status_code == 200
        assert _post(client, token, {"overall_rating": "3"}, csrf).status_code == 302
    with time_machine.travel(CLOSES - ONE_SECOND, tick=False):
        assert _post(client, token, {"overall_rating": "4"}, csrf).status_code == 302
    db.session.expire_all()
    assert db.session.scalars(db.select(FeedbackResponse)).one().overall_rating == 4


@pytest.mark.parametrize("moment", [CLOSES, CLOSES + ONE_SECOND])
def test_closed_at_and_after_the_closing_time(client, fixed_webinar, moment):
    _webinar, token = fixed_webinar
    csrf = _csrf_anywhere(client, token)
    with time_machine.travel(END + timedelta(hours=1), tick=False):
        _post(client, token, {"overall_rating": "3"}, csrf)
    with time_machine.travel(moment, tick=False):
        page = client.get(f"/feedback/{token}")
        assert page.status_code == 410
        assert "Feedback for this webinar closed" in page.get_data(as_text=True)
        assert _post(client, token, {"overall_rating": "1"}, csrf).status_code == 410
    db.session.expire_all()
    assert db.session.scalars(db.select(FeedbackResponse)).one().overall_rating == 3


def test_window_length_follows_the_setting(client, app, fixed_webinar):
    _webinar, token = fixed_webinar
    app.config["FEEDBACK_WINDOW_DAYS"] = 2
    with time_machine.travel(END + timedelta(days=2) - ONE_SECOND, tick=False):
        assert client.get(f"/feedback/{token}").status_code == 200
    with time_machine.travel(END + timedelta(days=2), tick=False):
        assert client.get(f"/feedback/{token}").status_code == 410


# --- the manage page -------------------------------------------------------------------


def test_manage_page_links_to_the_form_only_while_open(client, fixed_webinar):
    _webinar, token = fixed_webinar
    link = f'href="/feedback/{token}"'
    with time_machine.travel(END - ONE_SECOND, tick=False):
        assert link not in client.get(f"/registration/{token}").get_data(as_text=True)
    with time_machine.travel(END + timedelta(days=1), tick=False):
        html = client.get(f"/registration/{token}").get_data(as_text=True)
        assert link in html and f'href="/registration/{token}/erase"' in html
    with time_machine.travel(CLOSES, tick=False):
        assert link not in client.get(f"/registration/{token}").get_data(as_text=True)


# --- invitations -----------------------------------------------------------------------


def _invitations():
    return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "feedback_invitation")
                              .order_by(OutboxMessage.id)).all()


def test_invite_waits_for_the_end_then_sends_once_per_confirmed_registration(client, runner, app):
    webinar = make_webinar(starts_at=START)
    attended, attended_token = make_registration(webinar, attended=True, full_name="Ann Attended")
    absent, _absent_token = make_registration(webinar, attended=False, full_name="Bob Absent")
    make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    make_registration(webinar, status=RegistrationStatus.CANCELLED)
    db.session.commit()

    with time_machine.travel(END - ONE_SECOND, tick=False):
        result = runner.invoke(args=["feedback", "invite"])
        assert result.exit_code == 0, result.output
        assert "0 invitations queued" in result.output and _invitations() == []

    with time_machine.travel(END, tick=False):
        result = runner.invoke(args=["feedback", "invite"])
        assert f"{webinar.title}: 2 invitations queued, 0 already sent" in result.output
        assert "feedback invite: 2 invitations queued (0 already sent) for 1 webinars" in result.output
        again = runner.invoke(args=["feedback", "invite"])
        assert "feedback invite: 0 invitations queued (2 already sent)" in again.output

    messages = _invitations()
    assert [m.registration_id for m in messages] == [attended.id, absent.id]
    assert [m.dedupe_key for m in messages] == [f"feedback_invitation:{attended.id}", f"feedback_invitation:{absent.id}"]
    assert "Thank you for joining us" in messages[0].body_text
    assert "We missed you" in messages[1].body_text and "Thank you for joining us" not in messages[1].body_text
    assert f"http://portal.test/feedback/{attended_token}" in messages[0].body_text
    assert f'href="http://portal.test/feedback/{attended_token}"' in messages[0].body_html

    with time_machine.travel(END + timedelta(hours=1), tick=False):
        assert client.get(f"/feedback/{attended_token}").status_code == 200


def test_invite_skips_closed_draft_and_cancelled_webinars(runner, app):
    closed = make_webinar(starts_at=START - timedelta(days=20))
    draft = make_webinar(starts_at=START, status=WebinarStatus.DRAFT)
    cancelled = make_webinar(starts_at=START, status=WebinarStatus.CANCELLED)
    for webinar in (closed, draft, cancelled):
        make_registration(webinar)
    db.session.commit()
    with time_machine.travel(END + timedelta(hours=1), tick=False):
        result = runner.invoke(args=["feedback", "invite"])
    assert "for 0 webinars" in result.output
    assert _invitations() == []


def test_invitation_is_written_in_the_registrants_language(runner, app):
    webinar = make_webinar(starts_at=START)
    make_registration(webinar, preferred_language="fr")
    db.session.commit()
    with time_machine.travel(END + timedelta(hours=1), tick=False):
        runner.invoke(args=["feedback", "invite"])
    message = _invitations()[0]
    assert message.recipient.endswith("@example.org")
    assert "/feedback/" in message.body_text
