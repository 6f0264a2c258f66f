"""Questions for the panel: sent with the registration or from the manage page, moderated, briefed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, PanelQuestion, PanelQuestionStatus, Registration
from portal.services import privacy
from tests.conftest import csrf_token_from
from tests.factories import (
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_webinar,
    now,
    sign_in,
)
from tests.test_registration import form_data


def register(client, webinar, **overrides):
    db.session.commit()
    path = f"/register/{webinar.slug}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(path, data=form_data(token, **overrides))


def stored() -> list[PanelQuestion]:
    db.session.expire_all()
    return list(db.session.scalars(select(PanelQuestion).order_by(PanelQuestion.id)))


@pytest.fixture
def talk_webinar(app):
    webinar = make_webinar()
    talk = make_presentation(webinar, [make_presenter()], title="Project Maverick")
    return webinar, talk


def test_the_registration_form_takes_a_question_for_the_panel_or_one_talk(client, talk_webinar):
    webinar, talk = talk_webinar
    page = client.get(f"/register/{webinar.slug}").get_data(as_text=True)
    assert 'name="panel_question"' in page and "Project Maverick" in page
    assert register(client, webinar, email="a@example.org", panel_question="How were the images found?",
                    panel_presentation=str(talk.id), panel_share_name="y").status_code == 302
    assert register(client, webinar, email="b@example.org", panel_question="  A question for all  ").status_code == 302
    assert register(client, webinar, email="c@example.org").status_code == 302  # optional
    first, second = stored()
    assert (first.presentation_id, first.share_name, first.status) == (talk.id, True, PanelQuestionStatus.NEW)
    assert (second.presentation_id, second.share_name, second.text) == (None, False, "A question for all")


def test_a_question_for_a_talk_of_another_webinar_is_refused_next_to_the_field(client, talk_webinar):
    webinar, _ = talk_webinar
    elsewhere = make_presentation(make_webinar())
    response = register(client, webinar, panel_question="Hi", panel_presentation=str(elsewhere.id))
    assert response.status_code == 422 and 'id="panel_presentation-error"' in response.get_data(as_text=True)
    assert register(client, webinar, panel_question="x" * 1001).status_code == 422
    assert stored() == [] and db.session.scalars(select(Registration)).all() == []


def test_registering_again_never_adds_a_question_to_someone_elses_registration(client, talk_webinar):
    webinar, _ = talk_webinar
    register(client, webinar, email="victim@example.org")
    register(client, webinar, email="victim@example.org", panel_question="Something rude")
    assert stored() == []


def test_the_manage_page_shows_only_ones_own_questions_and_takes_more_until_the_start(client, talk_webinar):
    webinar, talk = talk_webinar
    mine, token = make_registration(webinar)
    other, _ = make_registration(webinar)
    db.session.add(PanelQuestion(webinar_id=webinar.id, registration_id=other.id, text="Someone else's secret",
                                 share_name=True))
    db.session.commit()
    page = client.get(f"/registration/{token}").get_data(as_text=True)
    assert "Someone else's secret" not in page and 'name="panel_question"' in page
    path = f"/registration/{token}/questions"
    response = client.post(path, data={"csrf_token": csrf_token_from(page), "panel_question": "My own question",
                                       "panel_presentation": str(talk.id)})
    assert response.status_code == 302
    page = client.get(f"/registration/{token}").get_data(as_text=True)
    assert "My own question" in page and "Someone else's secret" not in page
    assert client.post(path, data={"csrf_token": csrf_token_from(page), "panel_question": ""}).status_code == 422
    assert client.post(path, data={"panel_question": "no csrf"}).status_code == 400
    webinar.starts_at = now() - timedelta(minutes=1)
    db.session.commit()
    assert 'name="panel_question"' not in client.get(f"/registration/{token}").get_data(as_text=True)
    assert client.post(path, data={"csrf_token": csrf_token_from(page), "panel_question": "Late"}).status_code == 409


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def moderate(client, webinar, question, **data):
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/panel-questions").get_data(as_text=True)
    return client.post(f"/organiser/webinars/{webinar.id}/panel-questions/{question.id}",
                       data={"csrf_token": csrf_token_from(page), **data})


def test_moderation_brief_and_csv(client, editor, talk_webinar):
    webinar, talk = talk_webinar
    named, _ = make_registration(webinar, full_name="Dana Named")
    anonymous, _ = make_registration(webinar, full_name="Ann Onymous")
    first = PanelQuestion(webinar_id=webinar.id, registration_id=named.id, presentation_id=talk.id,
                          text="How do you triage?", share_name=True)
    duplicate = PanelQuestion(webinar_id=webinar.id, registration_id=anonymous.id, presentation_id=talk.id,
                              text="How is triage done?", share_name=False)
    rude = PanelQuestion(webinar_id=webinar.id, registration_id=anonymous.id, text="Off topic")
    db.session.add_all([first, duplicate, rude])
    db.session.flush()
    queue = client.get(f"/organiser/webinars/{webinar.id}/panel-questions").get_data(as_text=True)
    assert "Dana Named" in queue and "Ann Onymous" not in queue  # no name without consent
    assert moderate(client, webinar, first, action="approve").status_code == 302
    assert moderate(client, webinar, first, action="star").status_code == 302
    assert moderate(client, webinar, duplicate, action="merge", into=str(first.id)).status_code == 302
    assert moderate(client, webinar, rude, action="hide").status_code == 302
    assert moderate(client, webinar, rude, action="explode").status_code == 400
    statuses = {q.id: (q.status, q.starred, q.merged_into_id) for q in stored()}
    assert statuses == {first.id: (PanelQuestionStatus.APPROVED, True, None),
                        duplicate.id: (PanelQuestionStatus.MERGED, False, first.id),
                        rude.id: (PanelQuestionStatus.HIDDEN, False, None)}
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "moderate")).all()) == 4

    brief = client.get(f"/organiser/webinars/{webinar.id}/presenter-brief").get_data(as_text=True)
    section = brief[brief.index("Project Maverick"):]
    assert "How do you triage?" in section and "Dana Named" in section and "asked by 1 more person" in section
    assert "How is triage done?" not in brief and "Off topic" not in brief and "Ann Onymous" not in brief

    rows = list(csv.reader(io.StringIO(client.get(
        f"/organiser/webinars/{webinar.id}/panel-questions.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "presentation", "question"]
    by_text = {row[2]: row for row in rows[1:]}
    assert by_text["How do you triage?"][7] == "Dana Named" and by_text["How is triage done?"][7] == ""


def test_viewers_read_the_queue_but_cannot_moderate(client, talk_webinar):
    webinar, _ = talk_webinar
    registration, _ = make_registration(webinar)
    question = PanelQuestion(webinar_id=webinar.id, registration_id=registration.id, text="Q")
    db.session.add(question)
    sign_in(client, make_organiser("viewer"))
    assert client.get(f"/organiser/webinars/{webinar.id}/panel-questions").status_code == 200
    assert moderate(client, webinar, question, action="approve").status_code == 403


def test_the_queue_costs_the_same_queries_for_two_or_twenty_questions(client, editor, count_queries):
    def queries_for(n):
        webinar = make_webinar()
        make_presentation(webinar)
        registration, _ = make_registration(webinar)
        db.session.add_all([PanelQuestion(webinar_id=webinar.id, registration_id=registration.id, text=f"Q{i}",
                                          status=PanelQuestionStatus.APPROVED) for i in range(n)])
        db.session.commit()
        with count_queries() as counter:
            client.get(f"/organiser/webinars/{webinar.id}/panel-questions")
            client.get(f"/organiser/webinars/{webinar.id}/presenter-brief")
        return counter.count

    assert queries_for(2) == queries_for(20)


def test_the_purge_keeps_the_questions_but_not_the_name(app, talk_webinar):
    webinar, _ = talk_webinar
    registration, _ = make_registration(webinar)
    db.session.add(PanelQuestion(webinar_id=webinar.id, registration_id=registration.id, text="Q", share_name=True))
    webinar.starts_at = now() - timedelta(days=400)
    db.session.commit()
    privacy.purge_older_than(365)
    db.session.commit()
    [question] = stored()
    assert question.text == "Q" and question.share_name is False


@pytest.mark.parametrize("into", ["²", "٣", "99999999999999999999999", "-1", ""])
def test_merging_into_a_malformed_id_is_refused_not_a_server_error(client, editor, into):
    webinar = make_webinar(starts_at=now() - timedelta(hours=1))
    registration, _ = make_registration(webinar)
    question = PanelQuestion(webinar_id=webinar.id, registration_id=registration.id, text="Why?")
    db.session.add(question)
    db.session.flush()
    response = moderate(client, webinar, question, action="merge", into=into)
    assert response.status_code == 303
    assert stored()[0].status != PanelQuestionStatus.MERGED


def test_a_failed_details_save_keeps_the_talks_offered_for_a_question(client, talk_webinar):
    webinar, _talk = talk_webinar
    _registration, token = make_registration(webinar)
    db.session.commit()
    page = client.get(f"/registration/{token}").get_data(as_text=True)
    assert "Project Maverick" in page
    bad = client.post(f"/registration/{token}/details", data={"csrf_token": csrf_token_from(page), "full_name": ""})
    assert bad.status_code == 422
    assert "Project Maverick" in bad.get_data(as_text=True)  # still offered in the question's "For"
