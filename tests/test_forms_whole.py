"""Forms come back whole after an error, rating scales read in order, and organiser emails keep
their paragraphs, line breaks and a single greeting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.extensions import db
from portal.models import OutboxMessage
from portal.services.message_text import normalised, paragraphs, starts_with_greeting
from tests.factories import make_organiser, make_registration, make_series, make_webinar, sign_in
from tests.test_registration import post_registration


@pytest.fixture
def series_of_two():
    series = make_series()
    first, second = make_webinar(series, title="First"), make_webinar(series, title="Second")
    db.session.commit()
    return first, second


@pytest.mark.parametrize("ticked", [True, False])
def test_the_registration_form_comes_back_with_every_field_and_choice(client, csrf, series_of_two, ticked):
    first, second = series_of_two
    extra = {"also_register": [second.slug]} if ticked else {}
    response = post_registration(client, csrf, first, email="not an email", organisation_name="Société Ñ",
                                 accessibility_needs="Captions\r\nand ASL", sector="education", region="QC",
                                 **extra)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Ada Lovelace"' in html and 'value="not an email"' in html and 'value="Société Ñ"' in html
    assert re.search(r'<option selected value="education">|<option value="education" selected', html)
    assert re.search(r'<option selected value="QC">|<option value="QC" selected', html)
    assert "Captions\r\nand ASL" in html or "Captions\nand ASL" in html
    box = re.search(rf'<input[^>]*value="{second.slug}"[^>]*>', html)
    assert box, "the other webinars are offered again"
    assert ("checked" in box.group(0)) == ticked
    assert re.search(r'<input[^>]*checked[^>]*name="consent"|<input[^>]*name="consent"[^>]*checked', html)


def test_rating_scales_are_one_column_on_phones_and_one_row_of_five_on_wide_screens(app):
    css = (Path(app.static_folder) / "css" / "feedback.css").read_text()
    assert "grid-template-columns: repeat(5, minmax(0, 1fr))" in css  # one row, never a ragged wrap
    assert "@media (min-width: 40rem)" in css


@pytest.mark.parametrize("raw", ["First line\r\nsecond line\r\n\r\nNext paragraph",
                                 "First line\nsecond line\n\nNext paragraph",
                                 "First line\rsecond line\r\rNext paragraph",
                                 "First line  \nsecond line\n \t\n\n\nNext paragraph\n"])
def test_message_text_keeps_paragraphs_and_lines_whatever_the_line_endings(raw):
    assert normalised(raw).startswith("First line\nsecond line\n")
    assert paragraphs(raw) == [["First line", "second line"], ["Next paragraph"]]


@pytest.mark.parametrize("text, greeting", [("Hello,\n\nNews", True), ("Bonjour à tous,", True),
                                            ("Dear colleagues", True), ("  hi all", True),
                                            ("The slides are online.", False), ("Hellos from", False),
                                            ("", False)])
def test_a_greeting_is_recognised_in_both_languages(text, greeting):
    assert starts_with_greeting(text) is greeting


def test_an_organiser_email_keeps_paragraphs_and_greets_once(client):
    sign_in(client, make_organiser("organiser"))
    webinar = make_webinar()
    make_registration(webinar, full_name="Liam Ng")
    db.session.commit()
    from tests.conftest import csrf_token_from

    path = f"/organiser/webinars/{webinar.id}/message"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    body = "Hello,\r\n\r\nThe slides are online.\r\nThe recording follows.\r\n\r\nThank you"
    response = client.post(path, data={"csrf_token": token, "audience": "all", "subject": "Slides",
                                       "body": body, "confirmed": "yes"})
    assert response.status_code == 302
    message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == "organiser_message"))
    assert "Hello Liam Ng" not in message.body_text and message.body_text.count("Hello") == 1
    assert "Hello,\n\nThe slides are online.\nThe recording follows.\n\nThank you" in message.body_text
    assert "\r" not in message.body_text
    assert "<p>The slides are online.<br>The recording follows.</p>" in message.body_html
    assert "<p>Thank you</p>" in message.body_html


def test_a_message_without_a_greeting_gets_the_personal_one(client):
    sign_in(client, make_organiser("organiser"))
    webinar = make_webinar()
    make_registration(webinar, full_name="Liam Ng")
    db.session.commit()
    from tests.conftest import csrf_token_from

    path = f"/organiser/webinars/{webinar.id}/message"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    client.post(path, data={"csrf_token": token, "audience": "all", "subject": "Slides",
                            "body": "The slides are online.", "confirmed": "yes"})
    message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == "organiser_message"))
    assert message.body_text.count("Hello Liam Ng,") == 1
