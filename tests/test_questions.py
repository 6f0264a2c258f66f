"""The organisers' own registration questions: the builder, the form, the answers and where they show."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Answer, AuditEvent, Question, QuestionKind, Registration
from portal.services import privacy
from portal.services import questions as rules
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in
from tests.test_registration import form_data


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def add_question(series, webinar=None, **fields) -> Question:
    values = {"kind": QuestionKind.SHORT_TEXT, "label_en": "Badge number", "label_fr": "Numéro d’insigne",
              "help_en": "", "help_fr": "", "required": False, "choices": [],
              "position": rules.next_position(series, webinar), **fields}
    question = Question(series_id=series.id, webinar_id=webinar.id if webinar else None, **values)
    db.session.add(question)
    db.session.flush()
    rules.touch(series, webinar)
    return question


def unit_questions(webinar):
    """A yes/no about being police, and which unit: asked only after "yes"."""
    police = add_question(webinar.series, kind=QuestionKind.YES_NO, label_en="Are you a police officer?",
                          label_fr="Êtes-vous policier ou policière?", required=True)
    unit = add_question(webinar.series, kind=QuestionKind.ONE_CHOICE, label_en="Unit", label_fr="Unité",
                        required=True, condition_question_id=police.id, condition_value="yes",
                        choices=[{"code": "c1", "en": "ICE unit", "fr": "Unité ECI"},
                                 {"code": "c2", "en": "Other", "fr": "Autre"}])
    return police, unit


def register(client, webinar, **overrides):
    db.session.commit()
    path = f"/register/{webinar.slug}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(path, data=form_data(token, **overrides))


def answers() -> dict[int, str]:
    db.session.expire_all()
    return {a.question_id: a.value for a in db.session.scalars(select(Answer))}


def test_the_form_asks_the_questions_in_the_readers_language(client):
    webinar = make_webinar()
    police, unit = unit_questions(webinar)
    db.session.commit()
    page = client.get(f"/register/{webinar.slug}").get_data(as_text=True)
    assert "Are you a police officer?" in page and f'name="q_{unit.id}"' in page
    assert f'data-condition-field="q_{police.id}"' in page and 'data-condition-value="yes"' in page
    client.get("/language/fr")
    import flask_babel
    flask_babel.refresh()
    assert "Êtes-vous policier ou policière" in client.get(f"/register/{webinar.slug}", follow_redirects=True).get_data(as_text=True)


def test_a_conditional_question_is_required_only_when_its_condition_holds(client):
    webinar = make_webinar()
    police, unit = unit_questions(webinar)
    missing = register(client, webinar, **{f"q_{police.id}": "yes"})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert f'id="q_{unit.id}-error"' in html and "Answer this question." in html
    assert 'value="Ada Lovelace"' in html  # the form comes back whole
    assert db.session.scalars(select(Registration)).all() == []
    # "No": the unit is not asked, and an answer sent anyway (no JavaScript, or forged) is dropped.
    assert register(client, webinar, **{f"q_{police.id}": "no", f"q_{unit.id}": "c1"}).status_code == 302
    assert answers() == {police.id: "no"}


def test_answers_are_stored_and_shown_filtered_exported_and_counted(client, editor):
    webinar = make_webinar()
    police, unit = unit_questions(webinar)
    topics = add_question(webinar.series, webinar, kind=QuestionKind.SEVERAL_CHOICES, label_en="Topics",
                          label_fr="Sujets", choices=[{"code": "c1", "en": "Tools", "fr": "Outils"},
                                                      {"code": "c2", "en": "Trends", "fr": "Tendances"}])
    count = add_question(webinar.series, kind=QuestionKind.NUMBER, label_en="Years of service",
                         label_fr="Années de service")
    register(client, webinar, email="a@example.org", full_name="Officer A",
             **{f"q_{police.id}": "yes", f"q_{unit.id}": "c1", f"q_{topics.id}": ["c1", "c2"],
                f"q_{count.id}": "12,5"})
    register(client, webinar, email="b@example.org", full_name="Teacher B", **{f"q_{police.id}": "no"})
    stored = {a.question_id: a.value for a in db.session.scalars(select(Answer).join(Registration)
                                                                 .where(Registration.email == "a@example.org"))}
    assert stored == {police.id: "yes", unit.id: "c1", topics.id: "c1\nc2", count.id: "12.5"}

    listing = client.get(f"/organiser/webinars/{webinar.id}/registrations").get_data(as_text=True)
    assert "ICE unit" in listing and "Tools; Trends" in listing
    filtered = client.get(f"/organiser/webinars/{webinar.id}/registrations?answer={topics.id}:c2")
    assert "Officer A" in filtered.get_data(as_text=True) and "Teacher B" not in filtered.get_data(as_text=True)
    nobody = client.get(f"/organiser/webinars/{webinar.id}/registrations?answer={unit.id}:c2")
    assert "Officer A" not in nobody.get_data(as_text=True)

    rows = list(csv.reader(io.StringIO(
        client.get(f"/organiser/webinars/{webinar.id}/registrations.csv").get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[-4:] == [f"q{police.id}: Are you a police officer?", f"q{unit.id}: Unit",
                           f"q{count.id}: Years of service", f"q{topics.id}: Topics"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Officer A"][-4:] == ["Yes", "ICE unit", "12.5", "Tools; Trends"]
    assert by_name["Teacher B"][-4:] == ["No", "", "", ""]

    page = client.get(f"/organiser/webinars/{webinar.id}").get_data(as_text=True)
    bars = page[page.index('id="answers"'):]
    assert "Are you a police officer?" in bars and "ICE unit" in bars and "Trends" in bars


@pytest.mark.parametrize("value, message", [("many", "Enter a number"), ("1e9", "Enter a number")])
def test_a_number_that_is_not_one_gets_422_next_to_the_field(client, value, message):
    webinar = make_webinar()
    count = add_question(webinar.series, kind=QuestionKind.NUMBER, label_en="Years", label_fr="Années")
    response = register(client, webinar, **{f"q_{count.id}": value})
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_bad_dates_choices_and_long_text_are_refused(client):
    webinar = make_webinar()
    day = add_question(webinar.series, kind=QuestionKind.DATE, label_en="Start date", label_fr="Date")
    pick = add_question(webinar.series, kind=QuestionKind.ONE_CHOICE, label_en="Pick", label_fr="Choix",
                        choices=[{"code": "c1", "en": "One", "fr": "Un"}])
    text = add_question(webinar.series, kind=QuestionKind.SHORT_TEXT, label_en="Note", label_fr="Note")
    for field, value in ((day, "31/02/2026"), (pick, "c9"), (text, "x" * 501)):
        assert register(client, webinar, **{f"q_{field.id}": value}).status_code == 422
    assert register(client, webinar, **{f"q_{day.id}": "2026-03-31", f"q_{text.id}": "Ünïcode ✓"}).status_code == 302
    assert answers() == {day.id: "2026-03-31", text.id: "Ünïcode ✓"}


def test_a_form_without_questions_costs_no_query_for_them(client, count_queries):
    webinar = make_webinar(capacity=10)
    db.session.commit()
    path = f"/register/{webinar.slug}"
    data = form_data(csrf_token_from(client.get(path).get_data(as_text=True)))
    with count_queries() as counter:
        assert client.post(path, data=data).status_code == 302
    assert not any("from question" in s.lower() or "into answer" in s.lower() for s in counter.statements)
    assert len(counter.statements) == 4  # the same four as any registration (test_registration)


# ---------------------------------------------------------------- the builder


def builder_post(client, path, **data):
    db.session.commit()
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_the_builder_adds_edits_moves_and_removes_keeping_answers(client, editor):
    webinar = make_webinar()
    series = webinar.series
    path = f"/organiser/series/{series.id}/questions"
    assert builder_post(client, path, kind="one_choice", label_en="Role", label_fr="Rôle",
                        choices="Analyst | Analyste\nOfficer | Agent").status_code == 302
    assert builder_post(client, path, kind="short_text", label_en="Badge", label_fr="Insigne").status_code == 302
    role, badge = rules.builder_questions(series, None)
    assert [c["code"] for c in role.choices] == ["c1", "c2"]
    # Missing French label, choices missing for a choice question: 422 next to the field.
    bad = builder_post(client, path, kind="one_choice", label_en="X", label_fr="")
    assert bad.status_code == 422 and 'id="label_fr-error"' in bad.get_data(as_text=True)
    assert builder_post(client, path, kind="one_choice", label_en="X", label_fr="X").status_code == 422

    registration, _ = make_registration(webinar)
    db.session.add(Answer(registration_id=registration.id, question_id=role.id, value="c2",
                          question_label="Role / Rôle"))
    # Renaming a choice keeps its code; removing one keeps it, archived, for the answers that name it.
    assert builder_post(client, f"/organiser/questions/{role.id}", kind="one_choice", label_en="Your role",
                        label_fr="Votre rôle", choices="Analyst | Analyste").status_code == 302
    db.session.expire_all()
    assert role.choices == [{"code": "c1", "en": "Analyst", "fr": "Analyste"},
                            {"code": "c2", "en": "Officer", "fr": "Agent", "archived": True}]
    assert rules.words_for(role, "c2", "en") == "Officer"

    page = client.get(path).get_data(as_text=True)
    token = csrf_token_from(page)
    client.post(f"/organiser/questions/{badge.id}/move", data={"csrf_token": token, "direction": "up"})
    assert [q.label_en for q in rules.builder_questions(series, None)] == ["Badge", "Your role"]
    client.post(f"/organiser/questions/{role.id}/archive", data={"csrf_token": token})
    assert [q.label_en for q in rules.builder_questions(series, None)] == ["Badge"]
    db.session.expire_all()
    assert db.session.scalars(select(Answer)).one().value == "c2"  # the answer stays
    csv_text = client.get(f"/organiser/webinars/{webinar.id}/registrations.csv").get_data(as_text=True)
    assert f"q{role.id}: Your role" in csv_text and "Officer" in csv_text
    actions = {e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.target_type == "question"))}
    assert actions == {"create", "update", "reorder", "delete"}
    assert client.post(f"/organiser/questions/{badge.id}/move", data={"direction": "up"}).status_code == 400


def test_a_webinar_adds_its_own_questions_after_the_series(client, editor):
    webinar = make_webinar()
    other = make_webinar(webinar.series)
    add_question(webinar.series, label_en="Series question", label_fr="Question de série")
    path = f"/organiser/webinars/{webinar.id}/questions"
    assert builder_post(client, path, kind="yes_no", label_en="Own question", label_fr="Question propre",
                        condition="").status_code == 302
    assert [q.label_en for q in rules.questions_for(webinar)] == ["Series question", "Own question"]
    assert [q.label_en for q in rules.questions_for(other)] == ["Series question"]


def test_viewers_cannot_use_the_builder(client):
    sign_in(client, make_organiser("viewer"))
    webinar = make_webinar()
    db.session.commit()
    assert client.get(f"/organiser/series/{webinar.series_id}/questions").status_code == 403


def test_the_builder_page_costs_the_same_queries_for_two_or_twelve_questions(client, editor, count_queries):
    def queries_for(n):
        webinar = make_webinar()
        for i in range(n):
            add_question(webinar.series, label_en=f"Q{i}", label_fr=f"Q{i}")
        db.session.commit()
        client.get(f"/organiser/series/{webinar.series_id}/questions")
        with count_queries() as counter:
            client.get(f"/organiser/series/{webinar.series_id}/questions")
            client.get(f"/organiser/webinars/{webinar.id}/registrations")
        return counter.count

    assert queries_for(2) == queries_for(12)


def test_the_purge_removes_answers(app, client):
    webinar = make_webinar()
    question = add_question(webinar.series)
    registration, _ = make_registration(webinar)
    db.session.add(Answer(registration_id=registration.id, question_id=question.id, value="B-42",
                          question_label="Badge"))
    webinar.starts_at = now() - timedelta(days=400)
    db.session.commit()
    privacy.purge_older_than(365)
    db.session.commit()
    assert db.session.scalars(select(Answer)).all() == []
