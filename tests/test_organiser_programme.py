"""Editing the programme: forms, slugs, local times, publishing, cancelling,
moving a webinar, capacity, ordering, and deletes refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import (
    AuditEvent,
    KeyTheme,
    OutboxMessage,
    Presentation,
    Presenter,
    Registration,
    RegistrationStatus,
    Series,
    Webinar,
    WebinarStatus,
)
from portal.services.outbox import calendar_attachment
from tests.conftest import csrf_token_from, page_in
from tests.factories import (
    make_organisation,
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_series,
    make_webinar,
    sign_in,
)


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def token(client) -> str:
    return csrf_token_from(client.get("/organiser/").get_data(as_text=True))


def post(client, path, **data):
    db.session.commit()  # the scene built by the test, before the request's own transaction
    return client.post(path, data={"csrf_token": token(client), **data})


def fresh(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def webinar_fields(**overrides):
    fields = {
        "title": "Sextortion: what parents need to know", "slug": "", "start_date": "2030-01-18",
        "start_time": "13:00", "duration_minutes": "90", "description": "About it.", "language": "en",
        "capacity": "", "waitlist_enabled": "y", "join_url": "https://meet.example.org/abc",
        "recording_url": "", "highlights": "",
    }
    fields.update(overrides)
    return fields


def outbox(kind):
    return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)).all()


# ---------------------------------------------------------------- series

def test_create_series_generates_a_slug_and_keeps_objectives(app, client, editor):
    response = post(client, "/organiser/series/new", title="Sécurité en ligne : 2030", slug="",
                    timezone="America/Toronto", objectives="Learn\n\nShare\n", host_organisation_id="0")
    assert response.status_code == 302, response.get_data(as_text=True)
    series = db.session.scalar(db.select(Series))
    assert series.slug == "securite-en-ligne-2030" and not series.published
    assert [o.text for o in series.objectives] == ["Learn", "Share"]
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "create"))
    assert event.target_type == "series" and event.target_id == series.id and event.organiser_id == editor.id


def test_slug_clash_is_a_field_error(app, client, editor):
    make_series(slug="taken")
    response = post(client, "/organiser/series/new", title="Another", slug="taken", timezone="America/Toronto",
                    host_organisation_id="0")
    assert response.status_code == 422
    assert "This slug is already used" in response.get_data(as_text=True)
    # A generated slug steps around the clash instead.
    assert post(client, "/organiser/series/new", title="Taken", slug="", timezone="America/Toronto",
                host_organisation_id="0").status_code == 302
    assert db.session.scalar(db.select(Series.slug).where(Series.title == "Taken")) == "taken-2"


def test_series_bad_input(app, client, editor):
    for fields, message in (
        ({"title": ""}, "Write it in English or in French"),
        ({"title": "x" * 301}, "Field cannot be longer than 300"),
        ({"slug": "Not A Slug!"}, "lower-case letters"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"host_organisation_id": "abc"}, "Invalid Choice"),
        ({"title": "\x00\x01"}, "Write it in English or in French"),
    ):
        data = {"title": "Fine", "slug": "", "timezone": "America/Toronto", "host_organisation_id": "0", **fields}
        response = post(client, "/organiser/series/new", **data)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert db.session.scalar(db.select(db.func.count()).select_from(Series)) == 0


def test_publish_and_unpublish_series(app, client, editor):
    series = make_series(published=False)
    assert post(client, f"/organiser/series/{series.id}/publish", confirm_missing="yes").status_code == 302
    assert fresh(Series, series.id).published
    assert post(client, f"/organiser/series/{series.id}/unpublish").status_code == 302
    assert not fresh(Series, series.id).published
    actions = db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["publish", "unpublish"]


def test_update_series_audits_only_changed_fields(app, client, editor):
    series = make_series(title="Old title", summary="Same")
    response = post(client, f"/organiser/series/{series.id}", title="New title", slug=series.slug,
                    summary="Same", timezone="America/Toronto", host_organisation_id="0")
    assert response.status_code == 302
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "update"))
    assert event.changes == {"title_en": ["Old title", "New title"]}


def test_key_themes_with_points_and_reordering(app, client, editor):
    series = make_series()
    for heading in ("First", "Second"):
        response = post(client, f"/organiser/series/{series.id}/themes",
                        **{"theme-heading": heading, "theme-points": "Point A\nPoint B"})
        assert response.status_code == 302
    themes = fresh(Series, series.id).key_themes
    assert [t.heading for t in themes] == ["First", "Second"]
    assert [p.text for p in themes[0].points] == ["Point A", "Point B"]
    second = themes[1]
    assert post(client, f"/organiser/themes/{second.id}/move", direction="up").status_code == 302
    assert [t.heading for t in fresh(Series, series.id).key_themes] == ["Second", "First"]
    response = post(client, f"/organiser/themes/{second.id}", heading="Second, edited", points="Only point")
    assert response.status_code == 302
    theme = fresh(KeyTheme, second.id)
    assert theme.heading == "Second, edited" and [p.text for p in theme.points] == ["Only point"]
    assert post(client, f"/organiser/series/{series.id}/themes", **{"theme-heading": ""}).status_code == 422


def test_series_with_webinars_cannot_be_deleted(app, client, editor):
    webinar = make_webinar()
    response = post(client, f"/organiser/series/{webinar.series_id}/delete")
    assert response.status_code == 303
    assert "still has 1 webinars" in client.get(response.location).get_data(as_text=True)
    assert fresh(Series, webinar.series_id) is not None


# ---------------------------------------------------------------- webinars

def test_create_webinar_converts_the_series_local_time_to_utc(app, client, editor):
    series = make_series(timezone="America/Toronto")
    response = post(client, f"/organiser/series/{series.id}/webinars/new",
                    **webinar_fields(opens_date="2030-01-02", opens_time="09:00",
                                     closes_date="2030-01-18", closes_time="12:00", capacity="100"))
    assert response.status_code == 302, response.get_data(as_text=True)
    webinar = db.session.scalar(db.select(Webinar))
    assert webinar.starts_at == datetime(2030, 1, 18, 18, 0, tzinfo=UTC)  # 13:00 EST
    assert webinar.registration_opens_at == datetime(2030, 1, 2, 14, 0, tzinfo=UTC)
    assert webinar.slug == "sextortion-what-parents-need-to-know"
    assert webinar.status == WebinarStatus.DRAFT and webinar.capacity == 100
    # Summer time: 13:00 EDT is 17:00 UTC.
    post(client, f"/organiser/series/{series.id}/webinars/new",
         **webinar_fields(title="Summer", start_date="2030-07-10"))
    summer = db.session.scalar(db.select(Webinar).where(Webinar.title == "Summer"))
    assert summer.starts_at == datetime(2030, 7, 10, 17, 0, tzinfo=UTC)
    # The edit form shows the local time back.
    page = client.get(f"/organiser/webinars/{webinar.id}/edit").get_data(as_text=True)
    assert 'value="13:00"' in page and 'value="2030-01-18"' in page


def test_webinar_bad_input(app, client, editor):
    series = make_series()
    cases = (
        ({"start_date": "2030-03-10", "start_time": "02:30"}, "does not exist"),
        ({"start_date": "not a date"}, "Not a valid date value"),
        ({"capacity": "abc"}, "Not a valid integer"),
        ({"capacity": "0"}, "Number must be between 1"),
        ({"duration_minutes": "-5"}, "Number must be"),
        ({"join_url": "not a url"}, "Invalid URL"),
        ({"opens_date": "2030-02-01", "opens_time": "09:00"}, "open before the webinar starts"),
        ({"closes_date": "2030-01-18", "closes_time": "14:00"}, "close by the start"),
        ({"opens_date": "2030-01-10", "opens_time": "09:00", "closes_date": "2030-01-05", "closes_time": "09:00"},
         "open before it closes"),
        ({"opens_date": "2030-01-10"}, "both a date and a time"),
        ({"title": "t" * 301}, "longer than 300"),
        ({"language": "de"}, "Not a valid choice"),
    )
    for fields, message in cases:
        response = post(client, f"/organiser/series/{series.id}/webinars/new", **webinar_fields(**fields))
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert db.session.scalar(db.select(db.func.count()).select_from(Webinar)) == 0


def test_publish_unpublish_webinar(app, client, editor):
    webinar = make_webinar(status=WebinarStatus.DRAFT)
    assert post(client, f"/organiser/webinars/{webinar.id}/publish", confirm_missing="yes").status_code == 302
    assert fresh(Webinar, webinar.id).status == WebinarStatus.PUBLISHED
    make_registration(webinar)
    response = post(client, f"/organiser/webinars/{webinar.id}/unpublish")
    assert response.status_code == 303
    assert "cancel the webinar instead" in client.get(response.location).get_data(as_text=True)
    assert fresh(Webinar, webinar.id).status == WebinarStatus.PUBLISHED


def test_webinar_status_reads_as_a_french_word(app, client, editor):
    series = make_series()
    live = make_webinar(series, title="Live one")
    make_webinar(series, title="Draft one", status=WebinarStatus.DRAFT)
    make_webinar(series, title="Called off", status=WebinarStatus.CANCELLED)
    for path in ("/organiser/programme", f"/organiser/series/{series.id}"):
        page = page_in(client, "fr", path)
        for word in ("Publié", "Brouillon", "Annulé"):
            assert f'<span class="badge">{word}</span>' in page, (path, word)
        for raw in ("published", "draft", "cancelled"):
            assert f">{raw}<" not in page, (path, raw)
    # The series badge says "Publiée": the same English word, another context.
    assert '<span class="badge">Publiée</span>' in page_in(client, "fr", "/organiser/programme")
    assert '<span class="badge">Publié</span>' in page_in(client, "fr", f"/organiser/webinars/{live.id}")
    assert '<span class="badge">Brouillon</span>' in page_in(client, "fr", "/organiser/")  # beside the title
    assert '<span class="badge">Published</span>' in page_in(client, "en", f"/organiser/webinars/{live.id}")


def test_cancelling_emails_every_active_registrant(app, client, editor):
    webinar = make_webinar(capacity=1)
    confirmed, _ = make_registration(webinar)
    waitlisted, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    make_registration(webinar, status=RegistrationStatus.CANCELLED)
    assert post(client, f"/organiser/webinars/{webinar.id}/cancel", message="").status_code == 422
    response = post(client, f"/organiser/webinars/{webinar.id}/cancel",
                    message="The presenter is ill; we will announce a new date.")
    assert response.status_code == 302
    cancelled = fresh(Webinar, webinar.id)
    assert cancelled.status == WebinarStatus.CANCELLED
    messages = outbox("webinar_cancelled")
    assert sorted(m.registration_id for m in messages) == sorted([confirmed.id, waitlisted.id])
    assert all("The presenter is ill" in m.body_text for m in messages)
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "cancel"))
    assert event.target_id == webinar.id and "2 registrants" in event.summary
    # Cancelling again is refused and sends nothing more.
    assert post(client, f"/organiser/webinars/{webinar.id}/cancel", message="Again").status_code == 409
    assert len(outbox("webinar_cancelled")) == 2


def _edit(client, webinar, **overrides):
    zone = webinar.series.zone
    local = webinar.starts_at.astimezone(zone)
    fields = webinar_fields(title=webinar.title, slug=webinar.slug, start_date=local.date().isoformat(),
                            start_time=local.strftime("%H:%M"), duration_minutes=str(webinar.duration_minutes),
                            capacity=str(webinar.capacity or ""))
    fields.update(overrides)
    return post(client, f"/organiser/webinars/{webinar.id}/edit", **fields)


def test_moving_the_time_emails_registrants_with_an_updated_calendar(app, client, editor):
    webinar = make_webinar(starts_at=datetime(2030, 1, 18, 18, 0, tzinfo=UTC))
    registration, _ = make_registration(webinar)
    make_registration(webinar, status=RegistrationStatus.CANCELLED)
    response = _edit(client, webinar, start_time="14:30")
    assert response.status_code == 302
    moved = fresh(Webinar, webinar.id)
    assert moved.starts_at == datetime(2030, 1, 18, 19, 30, tzinfo=UTC) and moved.schedule_version == 2
    messages = outbox("webinar_changed")
    assert [m.registration_id for m in messages] == [registration.id]
    assert messages[0].dedupe_key == f"changed:{registration.id}:2"
    ics = calendar_attachment(messages[0]).decode()
    assert "DTSTART:20300118T193000Z" in ics.replace("DTSTART;VALUE=DATE-TIME", "DTSTART")
    assert "SEQUENCE:2" in ics
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "update"))
    assert "starts_at" in event.changes
    # Saving again without a change sends nothing more.
    assert _edit(client, moved).status_code == 302
    assert len(outbox("webinar_changed")) == 1


def test_the_updated_calendar_is_in_each_registrants_language(app, client, editor):
    webinar = make_webinar(starts_at=datetime(2030, 1, 18, 18, 0, tzinfo=UTC))
    french, _ = make_registration(webinar, preferred_language="fr")
    english, _ = make_registration(webinar, preferred_language="en")
    assert _edit(client, webinar, start_time="14:30").status_code == 302
    attached = {m.registration_id: calendar_attachment(m).decode().replace("\r\n ", "") for m in outbox("webinar_changed")}
    assert "Commence dans 15 minutes" in attached[french.id] and "Starts in" not in attached[french.id]
    assert "Starts in 15 minutes" in attached[english.id] and "Commence" not in attached[english.id]


def test_raising_capacity_promotes_from_the_waiting_list(app, client, editor):
    webinar = make_webinar(capacity=1)
    make_registration(webinar)
    first, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    second, _ = make_registration(webinar, status=RegistrationStatus.WAITLISTED)
    assert _edit(client, webinar, capacity="2").status_code == 302
    assert fresh(Registration, first.id).status == RegistrationStatus.CONFIRMED
    assert fresh(Registration, second.id).status == RegistrationStatus.WAITLISTED
    assert [m.registration_id for m in outbox("promoted")] == [first.id]
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "update"))
    assert event.changes["capacity"] == [1, 2]


def test_webinar_with_registrations_cannot_be_deleted(app, client, editor):
    webinar = make_webinar()
    make_registration(webinar)
    response = post(client, f"/organiser/webinars/{webinar.id}/delete")
    assert response.status_code == 303
    assert "has 1 registrations" in client.get(response.location).get_data(as_text=True)
    assert fresh(Webinar, webinar.id) is not None
    empty = make_webinar()
    assert post(client, f"/organiser/webinars/{empty.id}/delete").status_code == 302
    assert fresh(Webinar, empty.id) is None
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "delete"))
    assert event.target_type == "webinar" and event.target_id == empty.id


# ---------------------------------------------------------------- presentations and presenters

def test_presentation_with_several_presenters_in_order_and_reordering(app, client, editor):
    webinar = make_webinar()
    a, b = make_presenter(name="Alpha"), make_presenter(name="Beta")
    first = make_presentation(webinar)
    response = post(client, f"/organiser/webinars/{webinar.id}/presentations/new",
                    title="Second talk", abstract="", presenter_ids=[str(b.id), str(a.id)])
    assert response.status_code == 302
    talk = db.session.scalar(db.select(Presentation).where(Presentation.title == "Second talk"))
    assert {p.id for p in talk.presenters} == {a.id, b.id} and talk.position == 1
    assert post(client, f"/organiser/presentations/{talk.id}/move", direction="up").status_code == 302
    titles = [p.title for p in fresh(Webinar, webinar.id).presentations]
    assert titles == ["Second talk", first.title]
    response = post(client, f"/organiser/webinars/{webinar.id}/presentations/new", title="No one", abstract="")
    assert response.status_code == 422 and "Choose at least one presenter" in response.get_data(as_text=True)
    response = post(client, f"/organiser/webinars/{webinar.id}/presentations/new", title="Ghost",
                    presenter_ids=["99999"])
    assert response.status_code == 422


def test_presenter_roles_are_editable(app, client, editor):
    rcmp, unicef = make_organisation(name="RCMP"), make_organisation(name="UNICEF")
    response = post(client, "/organiser/presenters/new", name="Analysts of the NCECC", slug="", honorific="",
                    post_nominals="", is_team="y", bio="",
                    role1_title="", role1_unit="National Child Exploitation Crime Centre",
                    role1_organisation_id=str(rcmp.id),
                    role2_title="Adviser", role2_unit="", role2_organisation_id=str(unicef.id),
                    role3_organisation_id="0")
    assert response.status_code == 302, response.get_data(as_text=True)
    presenter = db.session.scalar(db.select(Presenter))
    assert presenter.is_team and presenter.slug == "analysts-of-the-ncecc"
    assert [(r.unit, r.organisation_id) for r in presenter.roles] == [
        ("National Child Exploitation Crime Centre", rcmp.id), (None, unicef.id)]
    response = post(client, f"/organiser/presenters/{presenter.id}", name="Analysts", slug=presenter.slug,
                    role1_title="Analyst", role1_organisation_id=str(rcmp.id),
                    role2_organisation_id="0", role3_organisation_id="0")
    assert response.status_code == 302
    assert [(r.title, r.organisation_id) for r in fresh(Presenter, presenter.id).roles] == [("Analyst", rcmp.id)]
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "update"))
    assert set(event.changes) == {"name", "is_team", "roles"}


def test_presenter_and_organisation_in_use_cannot_be_deleted(app, client, editor):
    organisation = make_organisation()
    presenter = make_presenter(organisation)
    make_presentation(make_webinar(), [presenter])
    response = post(client, f"/organiser/presenters/{presenter.id}/delete")
    assert response.status_code == 303
    assert "gives 1 presentations" in client.get(response.location).get_data(as_text=True)
    response = post(client, f"/organiser/organisations/{organisation.id}/delete")
    assert response.status_code == 303
    assert "refer to this organisation" in client.get(response.location).get_data(as_text=True)
    assert fresh(Presenter, presenter.id) is not None


def test_organisation_names_are_unique(app, client, editor):
    make_organisation(name="Public Safety Canada")
    response = post(client, "/organiser/organisations/new", name="public safety canada")
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)
    assert post(client, "/organiser/organisations/new", name="Université Laval", acronym="UL",
                website="https://www.ulaval.ca").status_code == 302


def test_unknown_records_are_404(app, client, editor):
    for path in ("/organiser/webinars/999", "/organiser/series/999", "/organiser/presenters/999",
                 "/organiser/organisations/999", "/organiser/themes/999"):
        assert client.get(path).status_code == 404, path
    assert post(client, "/organiser/webinars/999/cancel", message="x").status_code == 404


def test_webinar_page_lists_messages_and_links(app, client, editor):
    webinar = make_webinar()
    page = client.get(f"/organiser/webinars/{webinar.id}").get_data(as_text=True)
    assert f"/organiser/webinars/{webinar.id}/registrations" in page
    assert f"/organiser/webinars/{webinar.id}/checkin" in page
