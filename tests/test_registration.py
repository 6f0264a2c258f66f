"""Registering through the form: seats, waiting list, duplicates, the window, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OutboxMessage, Registration, RegistrationStatus, WebinarStatus
from portal.services import registration as registrations
from portal.services.outbox import calendar_attachment
from tests.conftest import page_in
from tests.factories import make_registration, make_series, make_webinar, now


def form_data(csrf_token: str, **overrides) -> dict:
    data = {
        "csrf_token": csrf_token,
        "full_name": "Ada Lovelace",
        "email": "ada@example.org",
        "organisation_name": "Analytical Society",
        "sector": "academia",
        "region": "ON",
        "preferred_language": "en",
        "accessibility_needs": "",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_registration(client, csrf, webinar, page_language: str = "en", **overrides):
    """The form as sent from its page in ``page_language`` (``/fr/register/…`` for French)."""
    path = ("/fr" if page_language == "fr" else "") + f"/register/{webinar.slug}"
    return client.post(path, data=form_data(csrf(path), **overrides))


def registrations_of(webinar) -> list[Registration]:
    return list(db.session.scalars(
        select(Registration).where(Registration.webinar_id == webinar.id).order_by(Registration.id)
    ))


def outbox_kinds() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def table_counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(Registration.id))),
            db.session.scalar(select(func.count(OutboxMessage.id))))


def test_registering_confirms_and_queues_confirmation_with_calendar(client, csrf):
    webinar = make_webinar(capacity=10)
    db.session.commit()
    response = post_registration(client, csrf, webinar, email="Ada@Example.ORG")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/register/{webinar.slug}/sent")

    [registration] = registrations_of(webinar)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.email_normalised == "ada@example.org"
    assert registration.sector == "academia"
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.kind == "confirmation"
    assert message.dedupe_key == f"confirmation:{registration.id}"
    assert message.calendar_language == "en" and "BEGIN:VEVENT" in calendar_attachment(message).decode()
    assert "http://portal.test/registration/" in message.body_text
    assert 'href="http://portal.test/registration/' in message.body_html
    sent = client.get(response.headers["Location"])
    assert "Check your email" in sent.get_data(as_text=True)


def unfolded(ics: str) -> str:
    """iCalendar folds long lines at 75 octets; undo it so text can be searched."""
    return ics.replace("\r\n ", "")


def test_calendar_attachment_is_in_the_registrants_language_not_the_pages(client, csrf):
    webinar = make_webinar(capacity=10)
    db.session.commit()
    assert post_registration(client, csrf, webinar, email="fr@example.org", preferred_language="fr").status_code == 302
    assert post_registration(client, csrf, webinar, page_language="fr", email="en@example.org",
                             preferred_language="en").status_code == 302
    attached = {m.recipient: unfolded(calendar_attachment(m).decode()) for m in db.session.scalars(select(OutboxMessage))}
    assert "Commence dans 15 minutes" in attached["fr@example.org"] and "Starts in" not in attached["fr@example.org"]
    assert "Starts in 15 minutes" in attached["en@example.org"] and "Commence" not in attached["en@example.org"]


def test_the_calendar_is_built_when_the_message_is_sent_from_the_webinar_as_it_is_then(client, csrf):
    webinar = make_webinar(capacity=10, title="Before the edit")
    db.session.commit()
    assert post_registration(client, csrf, webinar).status_code == 302
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.ics is None  # nothing stored: the request did no calendar work
    webinar.title = "After the edit"
    db.session.commit()
    attached = unfolded(calendar_attachment(message).decode())
    assert "SUMMARY:After the edit" in attached and "Before the edit" not in attached


def test_a_message_queued_with_a_stored_calendar_still_carries_that_file(client, csrf):
    """Rows written before calendars were built at send time keep their own file."""
    webinar = make_webinar(capacity=10)
    db.session.commit()
    assert post_registration(client, csrf, webinar).status_code == 302
    message = db.session.scalars(select(OutboxMessage)).one()
    message.ics = "BEGIN:VCALENDAR\r\nX-STORED:yes\r\nEND:VCALENDAR\r\n"
    assert calendar_attachment(message) == message.ics.encode()
    message.ics, message.calendar_language = None, None
    assert calendar_attachment(message) is None  # a message without a calendar


def test_a_registration_is_four_statements_and_no_calendar_work(client, csrf, count_queries):
    """Find the webinar; lock it, reading its seat counter and this email's registration in the
    same statement; insert; queue the email.

    The link's hash goes in with the INSERT (no UPDATE after it) and the talks are
    never read: the calendar is the sender's work.
    """
    webinar = make_webinar(capacity=10)
    db.session.commit()
    path = f"/register/{webinar.slug}"
    data = form_data(csrf(path))
    with count_queries() as counter:
        assert client.post(path, data=data).status_code == 302
    statements = [" ".join(s.split()).lower() for s in counter.statements]
    assert len(statements) == 4, statements
    assert "for update" in statements[1] or statements[1].startswith("update webinar set confirmed_count = confirmed_count")
    assert "email_normalised" in statements[1] and "confirmed_count" in statements[1]
    assert statements[2].startswith("insert into registration") and "token_hash" in statements[2]
    assert statements[3].startswith("insert into outbox_message")
    assert not any("presentation" in s or s.startswith("update registration") for s in statements)
    [registration] = registrations_of(webinar)
    assert registrations.find_by_token(registrations.manage_token(registration)) == registration


def test_full_webinar_waitlists_then_refuses_without_waitlist(client, csrf):
    webinar = make_webinar(capacity=1)
    no_list = make_webinar(capacity=1, waitlist_enabled=False)
    make_registration(no_list)
    db.session.commit()
    post_registration(client, csrf, webinar, email="first@example.org")
    post_registration(client, csrf, webinar, email="second@example.org")
    assert [r.status for r in registrations_of(webinar)] == ["confirmed", "waitlisted"]
    assert outbox_kinds() == ["confirmation", "waitlisted"]

    page = client.get(f"/register/{no_list.slug}")
    assert "full and has no waiting list" in page.get_data(as_text=True)
    # The page shows no form, so post with a token from another form of the site.
    token = csrf(f"/register/{webinar.slug}")
    refused = client.post(f"/register/{no_list.slug}", data=form_data(token, email="third@example.org"))
    assert refused.status_code == 409
    assert "full and has no waiting list" in refused.get_data(as_text=True)
    assert len(registrations_of(no_list)) == 1


def test_same_email_twice_adds_nothing_resends_link_and_answers_identically(client, csrf):
    webinar = make_webinar(capacity=5)
    db.session.commit()
    first = post_registration(client, csrf, webinar, email="ada@example.org")
    second = post_registration(client, csrf, webinar, email="ADA@example.org", full_name="Someone Else")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert client.get(first.headers["Location"]).data == client.get(second.headers["Location"]).data
    [registration] = registrations_of(webinar)
    assert registration.full_name == "Ada Lovelace"
    assert outbox_kinds() == ["confirmation", "link_resent"]
    confirmation, resent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    link = re.compile(r"http://portal\.test/registration/[A-Za-z0-9_-]+")
    assert link.search(confirmation.body_text).group() == link.search(resent.body_text).group()


def test_cancelled_person_may_register_again(client, csrf):
    webinar = make_webinar(capacity=5)
    make_registration(webinar, email="ada@example.org", status=RegistrationStatus.CANCELLED)
    db.session.commit()
    post_registration(client, csrf, webinar)
    assert [r.status for r in registrations_of(webinar)] == ["cancelled", "confirmed"]


def test_not_open_yet_names_the_opening_time_in_the_series_zone(client):
    opens = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)  # 09:00 in Toronto (EST)
    webinar = make_webinar(registration_opens_at=opens, starts_at=datetime(2030, 3, 20, 17, 0, tzinfo=UTC))
    db.session.commit()
    text = client.get(f"/register/{webinar.slug}").get_data(as_text=True).replace("\u202f", " ")
    assert "Registration opens on March 4, 2030, 9:00 AM EST." in text
    text = page_in(client, "fr", f"/webinars/{webinar.slug}")
    assert "Les inscriptions ouvrent le 4 mars 2030, 09 h 00 HNE." in text


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"registration_opens_at": now() + timedelta(days=1)}, "Registration opens on"),
        ({"registration_opens_at": now() - timedelta(days=3), "registration_closes_at": now() - timedelta(days=1)},
         "has closed"),
        ({"starts_at": now() - timedelta(minutes=10)}, "already started"),
        ({"status": WebinarStatus.CANCELLED}, "has been cancelled"),
    ],
    ids=["not-open-yet", "closed", "started", "cancelled"],
)
def test_registration_window_refuses_with_reason(client, csrf, fields, reason):
    open_webinar = make_webinar()
    webinar = make_webinar(**fields)
    db.session.commit()
    page = client.get(f"/register/{webinar.slug}")
    assert reason in page.get_data(as_text=True)
    assert reason in client.get(f"/webinars/{webinar.slug}").get_data(as_text=True)
    response = client.post(f"/register/{webinar.slug}", data=form_data(csrf(f"/register/{open_webinar.slug}")))
    assert response.status_code == 409
    assert reason in response.get_data(as_text=True)
    assert table_counts() == (0, 0)


def test_draft_webinar_and_unpublished_series_are_not_found(client, csrf):
    open_webinar = make_webinar()
    draft = make_webinar(status=WebinarStatus.DRAFT)
    hidden = make_webinar(series=make_series(published=False))
    db.session.commit()
    token = csrf(f"/register/{open_webinar.slug}")
    for webinar in (draft, hidden):
        assert client.get(f"/register/{webinar.slug}").status_code == 404
        assert client.post(f"/register/{webinar.slug}", data=form_data(token)).status_code == 404
    assert client.post("/register/no-such-webinar", data=form_data(token)).status_code == 404
    assert table_counts() == (0, 0)


def test_one_form_registers_for_other_open_webinars_of_the_series(client, csrf):
    series = make_series()
    first = make_webinar(series=series, capacity=5)
    second = make_webinar(series=series, capacity=1, starts_at=now() + timedelta(days=30))
    make_registration(second)
    closed = make_webinar(series=series, status=WebinarStatus.CANCELLED, starts_at=now() + timedelta(days=40))
    db.session.commit()
    page = client.get(f"/register/{first.slug}").get_data(as_text=True)
    assert second.title in page and closed.title not in page
    response = post_registration(client, csrf, first, also_register=[second.slug])
    assert response.status_code == 302
    assert [r.status for r in registrations_of(first)] == ["confirmed"]
    assert [r.status for r in registrations_of(second)] == ["confirmed", "waitlisted"]
    bogus = post_registration(client, csrf, first, email="x@example.org", also_register=[closed.slug])
    assert bogus.status_code == 422
    assert len(registrations_of(closed)) == 0


def test_honeypot_looks_like_success_and_writes_nothing(client, csrf):
    webinar = make_webinar()
    db.session.commit()
    response = post_registration(client, csrf, webinar, website="http://spam.example")
    assert response.status_code == 302
    assert "/sent" in response.headers["Location"]
    assert table_counts() == (0, 0)


LONG = "x" * 201
BAD_INPUT = {
    "empty-name": {"full_name": ""},
    "blank-name": {"full_name": "   "},
    "long-name": {"full_name": LONG},
    "long-organisation": {"organisation_name": LONG},
    "long-email": {"email": "a" * 250 + "@example.org"},
    "not-an-email": {"email": "not an email"},
    "email-with-html": {"email": "<script>@example.org"},
    "empty-email": {"email": ""},
    "control-char-name": {"full_name": "Ada\x00Lovelace"},
    "escape-in-name": {"full_name": "Ada\x1b[31m"},
    "control-char-notes": {"accessibility_needs": "needs\x07bell"},
    "long-notes": {"accessibility_needs": "y" * 2001},
    "unknown-sector": {"sector": "pirates"},
    "empty-sector": {"sector": ""},
    "unknown-region": {"region": "Atlantis"},
    "wrong-language": {"preferred_language": "de"},
    "no-consent": {"consent": None},
    "number-for-sector": {"sector": "42"},
    "number-for-extra-webinar": {"also_register": "1"},
    "unknown-extra-webinar": {"also_register": ["not-a-webinar"]},
}


@pytest.mark.parametrize("overrides", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_gets_422_message_and_writes_nothing(client, csrf, overrides):
    webinar = make_webinar()
    db.session.commit()
    response = post_registration(client, csrf, webinar, **overrides)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and 'class="field-error"' in html
    assert table_counts() == (0, 0)


def test_entered_values_are_kept_and_html_is_escaped(client, csrf):
    webinar = make_webinar()
    db.session.commit()
    response = post_registration(client, csrf, webinar, full_name="<b>Ada</b>", consent=None)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="&lt;b&gt;Ada&lt;/b&gt;"' in html
    assert "<b>Ada</b>" not in html


def test_html_and_unicode_names_are_stored_as_text(client, csrf):
    webinar = make_webinar()
    db.session.commit()
    post_registration(client, csrf, webinar, full_name="<i>Zoë</i> Ngũgĩ 山田")
    [registration] = registrations_of(webinar)
    assert registration.full_name == "<i>Zoë</i> Ngũgĩ 山田"
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert "&lt;i&gt;Zoë&lt;/i&gt;" in message.body_html


def test_missing_or_stale_csrf_is_refused(client, csrf):
    webinar = make_webinar()
    db.session.commit()
    path = f"/register/{webinar.slug}"
    assert client.post(path, data=form_data(None)).status_code == 400
    assert client.post(path, data=form_data("stale-or-forged-token")).status_code == 400
    assert table_counts() == (0, 0)


def test_wrong_methods_are_refused(client):
    webinar = make_webinar()
    db.session.commit()
    assert client.put(f"/register/{webinar.slug}").status_code == 405
    assert client.post(f"/register/{webinar.slug}/sent").status_code == 405
    assert client.get("/registration/" + "A" * 43 + "/details").status_code == 405


def test_rate_limit_gives_a_clear_429(_migrated, tmp_path):
    from portal import create_app
    from tests.conftest import _test_settings, csrf_token_from

    app = create_app({**_test_settings(_migrated, tmp_path), "RATELIMIT_ENABLED": True,
                      "REGISTRATION_RATE_LIMIT": "2 per hour"})
    with app.app_context():
        webinar = make_webinar()
        db.session.commit()
        client = app.test_client()
        path = f"/register/{webinar.slug}"
        try:
            statuses = []
            for n in range(3):
                token = csrf_token_from(client.get(path).get_data(as_text=True))
                statuses.append(client.post(path, data=form_data(token, email=f"p{n}@example.org")).status_code)
            assert statuses == [302, 302, 429]
            assert client.get(path).status_code == 200  # only POSTs count
            last = client.post(path, data=form_data(token, email="p9@example.org"))
            assert "Many registrations were sent from your network" in last.get_data(as_text=True)
            assert db.session.scalar(select(func.count(Registration.id))) == 2
        finally:
            db.session.remove()
            from tests.conftest import _empty_all_tables
            _empty_all_tables()
            db.engine.dispose()


def test_webinar_page_shows_seats_waiting_list_and_register_button(client):
    open_webinar = make_webinar(capacity=3)
    make_registration(open_webinar)
    full = make_webinar(capacity=1)
    make_registration(full)
    db.session.commit()
    html = client.get(f"/webinars/{open_webinar.slug}").get_data(as_text=True)
    assert "2 seats left" in html and f'href="/register/{open_webinar.slug}"' in html
    html = client.get(f"/webinars/{full.slug}").get_data(as_text=True)
    assert "Waiting list" in html and "Join the waiting list" in html


def test_webinar_page_query_count_does_not_grow_with_registrations(client, count_queries):
    webinar = make_webinar(capacity=100)
    db.session.commit()
    with count_queries() as few:
        client.get(f"/webinars/{webinar.slug}")
    for _ in range(20):
        make_registration(webinar)
    db.session.commit()
    client.application.extensions["page_cache"].stores.local.clear()  # seats may lag: render again
    with count_queries() as many:
        client.get(f"/webinars/{webinar.slug}")
    assert many.count == few.count
