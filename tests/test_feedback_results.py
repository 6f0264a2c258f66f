"""Organiser feedback results: SQL aggregates against hand-computed figures, anonymity, CSV, roles, query counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.services import feedback
from portal.services.feedback import Answers
from tests.factories import (
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_series,
    make_webinar,
    now,
    sign_in,
)


def _answer(webinar, registration, overall, talks=(), relevance=None, **texts):
    ratings = {p.id: r for p, r in zip(webinar.presentations, talks, strict=False) if r is not None}
    feedback.submit(registration, Answers(overall_rating=overall, presentation_ratings=ratings,
                                          relevance=relevance, **texts), webinar.ends_at + timedelta(hours=1))


@pytest.fixture
def known(app):
    """Five confirmed (four attended), one cancelled, one waitlisted; four known answers.

    overall 5, 4, 4, 2          -> average 3.75, distribution {5: 1, 4: 2, 2: 1}
    relevance 5, –, 3, 3        -> average 3.67 over 3 answers
    talk A 5, 4, 3, –           -> average 4.00 over 3
    talk B 2, –, 2, 1           -> average 1.67 over 3
    response rate 4/5 = 80 %, 4/4 attended = 100 %
    """
    webinar = make_webinar(starts_at=now() - timedelta(days=2), title="Known webinar")
    make_presentation(webinar, [make_presenter(name="Ada Lovelace")], title="Talk A")
    make_presentation(webinar, [make_presenter(name="Grace Hopper")], title="Talk B")
    people = [make_registration(webinar, attended=i < 4, full_name=name)[0]
              for i, name in enumerate(["Zelda Secretname", "Carl Contact", "Quinn Quotable", "Dora Dull", "Nora None"])]
    make_registration(webinar, status="cancelled")
    make_registration(webinar, status="waitlisted")
    _answer(webinar, people[0], 5, (5, 2), 5, most_useful="The engine demo", quote_consent=True)
    _answer(webinar, people[1], 4, (4, None), None, improvements="=HYPERLINK(\"http://evil\")", contact_consent=True)
    _answer(webinar, people[2], 4, (3, 2), 3, topics_wanted="More on compilers", quote_consent=True)
    _answer(webinar, people[3], 2, (None, 1), 3)
    db.session.commit()
    return webinar


def test_aggregates_match_hand_computed_figures(known):
    result = feedback.results_for([known])[known.id]
    assert (result.confirmed, result.attended, result.responses, result.quotable) == (5, 4, 4, 2)
    assert (result.rate_confirmed, result.rate_attended) == (80.0, 100.0)
    assert result.overall.average == 3.75
    assert result.overall.counts == {1: 0, 2: 1, 3: 0, 4: 2, 5: 1}
    assert (result.relevance.average, result.relevance.total) == (3.67, 3)
    assert result.relevance.counts == {1: 0, 2: 0, 3: 2, 4: 0, 5: 1}
    talk_a, talk_b = result.presentations
    assert (talk_a.presentation.title, talk_a.ratings.average, talk_a.ratings.total) == ("Talk A", 4.0, 3)
    assert talk_a.ratings.counts == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert (talk_b.ratings.average, talk_b.ratings.total) == (1.67, 3)
    assert talk_b.ratings.counts == {1: 1, 2: 2, 3: 0, 4: 0, 5: 0}


def test_results_page_shows_figures_charts_and_tables(client, known):
    sign_in(client, make_organiser("viewer"))
    response = client.get(f"/organiser/webinars/{known.id}/feedback")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "80.0%" in html and "100.0%" in html and "3.75" in html and "1.67" in html
    assert html.count("<svg") >= 4 and 'role="img"' in html
    assert "Presentations side by side" in html and "Grace Hopper" in html
    assert "Quotable" in html and "The engine demo" in html


def test_results_page_names_only_those_who_allowed_contact(client, known):
    sign_in(client, make_organiser("organiser"))
    html = client.get(f"/organiser/webinars/{known.id}/feedback").get_data(as_text=True)
    assert "Carl Contact" in html  # allowed contact: name and email to follow up
    for hidden in ("Zelda Secretname", "Quinn Quotable", "Dora Dull"):
        assert hidden not in html
    summary = client.get(f"/organiser/webinars/{known.id}/feedback/summary").get_data(as_text=True)
    assert "Carl Contact" not in summary and "Zelda Secretname" not in summary
    assert "The engine demo" in summary and "More on compilers" in summary
    assert "HYPERLINK" not in summary  # not quotable


def test_comment_filters(client, known):
    sign_in(client, make_organiser("viewer"))
    base = f"/organiser/webinars/{known.id}/feedback"

    def shown(query):
        html = client.get(base + query).get_data(as_text=True)
        return {text for text in ("The engine demo", "HYPERLINK", "More on compilers") if text in html}

    assert shown("") == {"The engine demo", "HYPERLINK", "More on compilers"}
    assert shown("?quotable=1") == {"The engine demo", "More on compilers"}
    assert shown("?question=topics_wanted") == {"More on compilers"}
    assert shown("?min_rating=5") == {"The engine demo"}
    assert shown("?min_rating=abc&question=nonsense") == shown("")


def test_csv_is_injection_safe_with_one_row_per_response(client, known):
    sign_in(client, make_organiser("viewer"))
    response = client.get(f"/organiser/webinars/{known.id}/feedback.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="feedback-{known.slug}.csv"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["response_id", "answered_at", "overall_rating", "relevance"]
    assert header[4:6] == ["presentation_1_rating (Talk A)", "presentation_2_rating (Talk B)"]
    assert len(body) == 4
    by_rating = [(r[2], r[4], r[5]) for r in body]
    assert by_rating == [("5", "5", "2"), ("4", "4", ""), ("4", "3", "2"), ("2", "", "1")]
    carl = body[1]
    assert carl[header.index("improvements")] == "'=HYPERLINK(\"http://evil\")"
    assert carl[header.index("contact_name")] == "Carl Contact"
    names = [r[header.index("contact_name")] for r in body]
    assert names == ["", "Carl Contact", "", ""]
    assert "Zelda" not in text


def test_series_page_compares_its_webinars(client, known):
    other = make_webinar(series=known.series, starts_at=now() - timedelta(days=40), title="Earlier webinar")
    person, _token = make_registration(other, attended=True)
    _answer(other, person, 1)
    db.session.commit()
    sign_in(client, make_organiser("viewer"))
    html = client.get(f"/organiser/series/{known.series_id}/feedback").get_data(as_text=True)
    assert "Known webinar" in html and "Earlier webinar" in html and "3.75" in html and "1.00" in html
    assert client.get("/organiser/series/999999/feedback").status_code == 404


@pytest.mark.parametrize("path", ["/organiser/webinars/{id}/feedback", "/organiser/webinars/{id}/feedback/summary",
                                  "/organiser/webinars/{id}/feedback.csv", "/organiser/series/{series}/feedback"])
def test_anonymous_visitors_are_sent_to_login(client, known, path):
    response = client.get(path.format(id=known.id, series=known.series_id))
    assert response.status_code == 302
    assert "/organiser/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["viewer", "organiser", "admin"])
def test_every_organiser_role_may_read(client, known, role):
    sign_in(client, make_organiser(role))
    assert client.get(f"/organiser/webinars/{known.id}/feedback").status_code == 200
    assert client.get(f"/organiser/webinars/{known.id}/feedback.csv").status_code == 200


def test_unknown_webinar_is_404(client, app):
    sign_in(client, make_organiser("viewer"))
    assert client.get("/organiser/webinars/424242/feedback").status_code == 404
    assert client.get("/organiser/webinars/424242/feedback.csv").status_code == 404


def _add_answers(webinar, n):
    for i in range(n):
        registration, _token = make_registration(webinar, attended=True)
        _answer(webinar, registration, 1 + i % 5, (1 + i % 5, 5 - i % 5), 1 + i % 5, most_useful=f"Comment {i}",
                quote_consent=i % 2 == 0, contact_consent=i % 3 == 0)
    db.session.commit()


@pytest.mark.parametrize("path", ["/organiser/webinars/{id}/feedback", "/organiser/webinars/{id}/feedback/summary",
                                  "/organiser/series/{series}/feedback", "/organiser/webinars/{id}/feedback.csv"])
def test_query_count_does_not_grow_with_answers(client, count_queries, path):
    series = make_series()
    webinar = make_webinar(series=series, starts_at=now() - timedelta(days=1))
    make_presentation(webinar, [make_presenter(), make_presenter()])
    make_presentation(webinar, [make_presenter()])
    _add_answers(webinar, 2)
    sign_in(client, make_organiser("viewer"))
    url = path.format(id=webinar.id, series=series.id)
    client.get(url)  # warm up
    db.session.commit()  # start each measurement with nothing cached in the session
    with count_queries() as few:
        assert client.get(url).status_code == 200
    _add_answers(webinar, 30)
    db.session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count, "\n".join(s[:120] for s in ["FEW"] + few.statements + ["MANY"] + many.statements)


def test_recording_shows_on_public_pages_after_the_webinar(client, app):
    webinar = make_webinar(starts_at=now() - timedelta(days=3), recording_url="https://video.example.org/rec1",
                           title="Recorded webinar", materials_public=True)
    db.session.commit()
    page = client.get(f"/webinars/{webinar.slug}").get_data(as_text=True)
    assert 'href="https://video.example.org/rec1"' in page
    home = client.get("/").get_data(as_text=True)
    assert "Recorded webinar" in home and "Recording available" in home


def test_the_attendees_answer_rate_counts_attendees_answers_only_as_the_dashboard_does(app):
    from portal.services import signups

    webinar = make_webinar(starts_at=now() - timedelta(days=1))
    came, _ = make_registration(webinar, attended=True)
    missed, _ = make_registration(webinar, attended=False)  # a no-show may answer too
    for registration in (came, missed):
        feedback.submit(registration, Answers(overall_rating=4), webinar.ends_at + timedelta(hours=1))
    db.session.commit()
    result = feedback.results_for([webinar])[webinar.id]
    assert (result.responses, result.attended, result.rate_attended) == (2, 1, 100.0)
    assert signups.webinar_counts([webinar.id])[webinar.id].feedback_rate_attended == result.rate_attended
