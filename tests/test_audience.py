"""Who may attend: approval, restricted (allowed email domains) and the decisions an organiser takes.

Nothing a vetted session keeps back (join link, recording) reaches anyone who
is not confirmed, on the pages, in the API or in calendar files.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    DeclineReason,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    WebinarAudience,
)
from portal.services import registration as registrations
from portal.services.audience import (
    InvalidDomain,
    domain_allowed,
    email_domain,
    needs_decision,
    parse_domain_patterns,
)
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_series, make_webinar, now, sign_in
from tests.test_registration import form_data

JOIN = "https://meet.example.org/secret-room-4242"
RECORDING = "https://video.example.org/recording-777"

# ---------------------------------------------------------------- allowed domains


def test_domains_are_normalised_idna_lower_case_and_wildcards_mean_subdomains():
    patterns = parse_domain_patterns("RCMP-GRC.gc.ca\n*.Police.CA, @opp.ca\n\nbücher.de\nrcmp-grc.gc.ca.")
    assert patterns == ["rcmp-grc.gc.ca", "*.police.ca", "opp.ca", "xn--bcher-kva.de"]
    assert domain_allowed("Officer@RCMP-grc.GC.ca", patterns)
    assert domain_allowed("a@toronto.police.ca", patterns)
    assert domain_allowed("a@unit.toronto.police.ca", patterns)
    assert domain_allowed("a@BÜCHER.de", patterns) and domain_allowed("a@xn--bcher-kva.de", patterns)
    assert not domain_allowed("a@police.ca", patterns)  # the wildcard is for subdomains
    assert not domain_allowed("a@evilpolice.ca", patterns)
    assert not domain_allowed("a@rcmp-grc.gc.ca.evil.org", patterns)
    assert not domain_allowed("no-at-sign", patterns) and not domain_allowed(None, patterns)
    assert email_domain("X@Sub.Example.ORG") == "sub.example.org"


@pytest.mark.parametrize("bad", ["nodot", "a..b", "-x.ca", "x y.ca", "*.", "a" * 300 + ".ca"])
def test_what_is_not_a_domain_is_refused(bad):
    with pytest.raises(InvalidDomain):
        parse_domain_patterns(bad)


def test_restricted_webinars_wait_only_for_addresses_outside_the_list(app):
    series = make_series(allowed_email_domains="rcmp-grc.gc.ca\n*.police.ca")
    restricted = make_webinar(series, audience=WebinarAudience.RESTRICTED)
    approval = make_webinar(series, audience=WebinarAudience.APPROVAL)
    public = make_webinar(series)
    assert not needs_decision(restricted, "a@RCMP-GRC.GC.CA")
    assert needs_decision(restricted, "a@gmail.com")
    assert needs_decision(approval, "a@rcmp-grc.gc.ca")
    assert not needs_decision(public, "a@gmail.com")


# ---------------------------------------------------------------- registering


def register(client, webinar, **overrides):
    db.session.commit()
    path = f"/register/{webinar.slug}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(path, data=form_data(token, **overrides))


def rows(webinar) -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(Registration).where(Registration.webinar_id == webinar.id).order_by(Registration.id)))


def messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_approval_webinar_holds_every_registration_for_a_decision_without_a_seat(client):
    webinar = make_webinar(capacity=1, audience=WebinarAudience.APPROVAL)
    first = register(client, webinar, email="one@example.org")
    second = register(client, webinar, email="two@example.org")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the same answer as a public webinar's
    assert [r.status for r in rows(webinar)] == [RegistrationStatus.PENDING] * 2
    assert registrations.seats_left(webinar) == 1  # pending holds no seat
    assert [m.kind for m in messages()] == ["pending", "pending"]
    assert "reviews each request" in messages()[0].body_text


def test_a_restricted_webinar_confirms_allowed_domains_at_once_and_holds_the_rest(client):
    series = make_series(allowed_email_domains="rcmp-grc.gc.ca\n*.police.ca")
    webinar = make_webinar(series, audience=WebinarAudience.RESTRICTED, capacity=5)
    register(client, webinar, email="Analyst@RCMP-GRC.gc.ca")
    register(client, webinar, email="det@york.police.ca")
    register(client, webinar, email="someone@gmail.com")
    assert [r.status for r in rows(webinar)] == [RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED,
                                                 RegistrationStatus.PENDING]
    assert [m.kind for m in messages()] == ["confirmation", "confirmation", "pending"]


def test_pending_and_declined_count_as_active_for_the_one_per_email_rule(client):
    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    register(client, webinar, email="dup@example.org")
    register(client, webinar, email="DUP@example.org")
    [registration] = rows(webinar)
    registrations.decline(registration, DeclineReason.NOT_ELIGIBLE)
    db.session.commit()
    register(client, webinar, email="dup@example.org")
    assert len(rows(webinar)) == 1
    assert [m.kind for m in messages()] == ["pending", "link_resent", "declined", "link_resent"]
    # The database says the same, whatever the code path.
    with pytest.raises(sa.exc.IntegrityError):
        make_registration(webinar, email="dup@example.org", status=RegistrationStatus.PENDING)
    db.session.rollback()


# ---------------------------------------------------------------- deciding


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def bulk(client, webinar, registrations_, **data):
    db.session.commit()
    token = csrf_token_from(client.get(f"/organiser/webinars/{webinar.id}/registrations").get_data(as_text=True))
    return client.post(f"/organiser/webinars/{webinar.id}/registrations/bulk",
                       data={"csrf_token": token, "ids": [str(r.id) for r in registrations_], **data})


def test_approving_gives_seats_then_waitlists_in_order_of_approval(client, editor):
    webinar = make_webinar(capacity=1, audience=WebinarAudience.APPROVAL)
    first, second, third = (make_registration(webinar, status=RegistrationStatus.PENDING)[0] for _ in range(3))
    confirm_page = bulk(client, webinar, [first], action="approve")
    assert confirm_page.status_code == 200 and "in the order approved" in confirm_page.get_data(as_text=True)
    assert bulk(client, webinar, [first], action="approve", confirmed="yes").status_code == 302
    # Third approved before second: the third is ahead on the waiting list, though it registered later.
    bulk(client, webinar, [third], action="approve", confirmed="yes")
    bulk(client, webinar, [second], action="approve", confirmed="yes")
    statuses = {r.id: r.status for r in rows(webinar)}
    assert statuses == {first.id: RegistrationStatus.CONFIRMED, second.id: RegistrationStatus.WAITLISTED,
                        third.id: RegistrationStatus.WAITLISTED}
    assert registrations.waitlist_position(db.session.get(Registration, third.id)) == 1
    assert registrations.waitlist_position(db.session.get(Registration, second.id)) == 2
    registrations.cancel_registration(db.session.get(Registration, first.id))
    db.session.commit()
    assert {r.id: r.status for r in rows(webinar)}[third.id] == RegistrationStatus.CONFIRMED
    kinds = [m.kind for m in messages()]
    assert kinds[:3] == ["confirmation", "waitlisted", "waitlisted"] and "promoted" in kinds
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "approve")).all()
    assert len(events) == 3 and all(e.organiser_id == editor.id for e in events)


def test_approving_when_full_without_a_waiting_list_changes_nothing(client, editor):
    webinar = make_webinar(capacity=1, waitlist_enabled=False, audience=WebinarAudience.APPROVAL)
    make_registration(webinar)
    pending, _ = make_registration(webinar, status=RegistrationStatus.PENDING)
    response = bulk(client, webinar, [pending], action="approve", confirmed="yes")
    assert response.status_code == 302
    assert rows(webinar)[1].status == RegistrationStatus.PENDING
    assert messages() == []


def test_declining_sends_a_polite_email_with_the_reason_and_note_and_is_audited(client, editor):
    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    pending, token = make_registration(webinar, status=RegistrationStatus.PENDING, preferred_language="fr")
    confirmed, _ = make_registration(webinar)
    page = bulk(client, webinar, [pending, confirmed], action="decline").get_data(as_text=True)
    assert 'name="decline_reason"' in page and 'name="decline_note"' in page
    response = bulk(client, webinar, [pending, confirmed], action="decline", confirmed="yes",
                    decline_reason="not_verified", decline_note="Please use your work address.")
    assert response.status_code == 302
    after = {r.id: r for r in rows(webinar)}
    assert after[pending.id].status == RegistrationStatus.DECLINED
    assert after[pending.id].decline_reason == DeclineReason.NOT_VERIFIED
    assert after[confirmed.id].status == RegistrationStatus.CONFIRMED  # only pending ones are declined
    [message] = messages()
    assert message.kind == "declined" and message.recipient == pending.email
    assert "affiliation professionnelle" in message.body_text  # in the registrant's language
    assert "Please use your work address." in message.body_text
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "decline")).all()
    assert event.changes["reason"] == [None, "not_verified"]
    manage = client.get(f"/registration/{token}").get_data(as_text=True)
    assert "Please use your work address." in manage


def test_a_decline_note_too_long_comes_back_with_the_message(client, editor):
    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    pending, _ = make_registration(webinar, status=RegistrationStatus.PENDING)
    response = bulk(client, webinar, [pending], action="decline", confirmed="yes", decline_reason="other",
                    decline_note="x" * 2001)
    assert response.status_code == 422
    assert "decline_note-error" in response.get_data(as_text=True)
    assert rows(webinar)[0].status == RegistrationStatus.PENDING


def test_an_unknown_reason_is_refused(client, editor):
    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    pending, _ = make_registration(webinar, status=RegistrationStatus.PENDING)
    response = bulk(client, webinar, [pending], action="decline", confirmed="yes", decline_reason="rude")
    assert response.status_code == 303
    assert rows(webinar)[0].status == RegistrationStatus.PENDING


def test_viewers_cannot_decide(client):
    sign_in(client, make_organiser("viewer"))
    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    pending, _ = make_registration(webinar, status=RegistrationStatus.PENDING)
    db.session.commit()
    token = csrf_token_from(client.get(f"/organiser/webinars/{webinar.id}/registrations").get_data(as_text=True))
    response = client.post(f"/organiser/webinars/{webinar.id}/registrations/bulk",
                           data={"csrf_token": token, "ids": [str(pending.id)], "action": "approve",
                                 "confirmed": "yes"})
    assert response.status_code == 403
    assert rows(webinar)[0].status == RegistrationStatus.PENDING


def test_the_list_filters_pending_and_shows_what_to_decide_by(client, editor):
    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    make_registration(webinar, status=RegistrationStatus.PENDING, email="det@york.police.ca",
                      organisation_name="York Regional Police", sector="law_enforcement")
    make_registration(webinar, email="other@example.org")
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/registrations?status=pending").get_data(as_text=True)
    assert "det@york.police.ca" in page and "York Regional Police" in page and "Law enforcement" in page
    assert "other@example.org" not in page
    assert "Awaiting approval" in page


# ---------------------------------------------------------------- what is shown to whom


def in_join_window(**fields):
    return make_webinar(starts_at=now() + timedelta(minutes=5), join_url=JOIN, recording_url=RECORDING, **fields)


@pytest.mark.parametrize("status", [RegistrationStatus.PENDING, RegistrationStatus.DECLINED,
                                    RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED])
def test_nobody_but_the_confirmed_sees_the_join_link_calendar_or_recording(client, status):
    webinar = in_join_window(audience=WebinarAudience.APPROVAL)
    _, token = make_registration(webinar, status=status)
    db.session.commit()
    page = client.get(f"/registration/{token}").get_data(as_text=True)
    assert JOIN not in page and RECORDING not in page
    if status != RegistrationStatus.WAITLISTED:
        assert f"{webinar.slug}.ics" not in page


def test_the_confirmed_see_the_join_link_and_recording_on_their_page(client):
    webinar = in_join_window(audience=WebinarAudience.APPROVAL)
    _, token = make_registration(webinar)
    db.session.commit()
    page = client.get(f"/registration/{token}").get_data(as_text=True)
    assert JOIN in page and RECORDING in page


@pytest.mark.parametrize("audience", [WebinarAudience.APPROVAL, WebinarAudience.RESTRICTED,
                                      WebinarAudience.INVITATION])
def test_public_page_api_and_calendars_of_a_vetted_webinar_say_who_may_attend_and_never_link_in(client, audience):
    series = make_series(allowed_email_domains="rcmp-grc.gc.ca\n*.police.ca")
    webinar = in_join_window(series=series, audience=audience)
    make_registration(webinar)
    db.session.commit()
    page = client.get(f"/webinars/{webinar.slug}").get_data(as_text=True)
    assert "Who may attend" in page
    assert ("rcmp-grc.gc.ca" in page) == (audience == WebinarAudience.RESTRICTED)
    if audience == WebinarAudience.INVITATION:
        assert "By invitation only" in page and f'href="/register/{webinar.slug}"' not in page
    api = client.get(f"/api/v1/webinars/{webinar.slug}").get_json()
    assert api["audience"] == audience.value and api["recording_url"] is None
    listing = client.get("/api/v1/webinars").get_data(as_text=True)
    for body in (page, listing, client.get(f"/webinars/{webinar.slug}.ics").get_data(as_text=True),
                 client.get("/calendar.ics").get_data(as_text=True), client.get("/webinars/").get_data(as_text=True)):
        assert JOIN not in body and RECORDING not in body


def test_a_public_webinar_keeps_its_recording_public(client):
    # Public once the organiser makes the materials public (issue 13), and only for a public audience.
    webinar = make_webinar(starts_at=now() - timedelta(days=2), recording_url=RECORDING, materials_public=True)
    db.session.commit()
    assert RECORDING in client.get(f"/webinars/{webinar.slug}").get_data(as_text=True)
    assert client.get(f"/api/v1/webinars/{webinar.slug}").get_json()["recording_url"] == RECORDING


# ---------------------------------------------------------------- organiser settings


def test_series_domains_are_validated_and_stored_normalised(client, editor):
    series = make_series()
    db.session.commit()
    path = f"/organiser/series/{series.id}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, "title": series.title, "slug": series.slug, "timezone": "America/Toronto",
            "host_organisation_id": "0"}
    bad = client.post(path, data={**data, "allowed_email_domains": "rcmp-grc.gc.ca\nnot a domain"})
    assert bad.status_code == 422 and "is not an email domain" in bad.get_data(as_text=True)
    good = client.post(path, data={**data, "allowed_email_domains": "RCMP-GRC.gc.ca\n*.Police.ca\nbücher.de"})
    assert good.status_code == 302
    db.session.expire_all()
    assert series.allowed_email_domains == "rcmp-grc.gc.ca\n*.police.ca\nxn--bcher-kva.de"


def test_the_webinar_form_sets_the_audience(client, editor):
    webinar = make_webinar()
    db.session.commit()
    path = f"/organiser/webinars/{webinar.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'name="audience"' in page
    token = csrf_token_from(page)
    local = webinar.starts_at.astimezone(webinar.series.zone)
    response = client.post(path, data={
        "csrf_token": token, "title": webinar.title, "slug": webinar.slug,
        "start_date": local.date().isoformat(), "start_time": local.strftime("%H:%M"),
        "duration_minutes": "90", "audience": "restricted", "waitlist_enabled": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert webinar.audience == WebinarAudience.RESTRICTED
    assert client.post(path, data={"csrf_token": token, "title": webinar.title, "audience": "secret",
                                   "start_date": local.date().isoformat(), "start_time": "10:00",
                                   "duration_minutes": "90"}).status_code == 422


def test_decision_emails_name_the_webinar_in_the_registrant_language(client, editor):
    """The organiser works in English; each subject follows the registrant's language."""
    webinar = make_webinar(audience=WebinarAudience.APPROVAL, title_en="Sextortion trends",
                           title_fr="Tendances de la sextorsion")
    to_approve, _ = make_registration(webinar, status=RegistrationStatus.PENDING, preferred_language="fr")
    to_decline, _ = make_registration(webinar, status=RegistrationStatus.PENDING, preferred_language="fr")
    assert bulk(client, webinar, [to_approve], action="approve", confirmed="yes").status_code == 302
    assert bulk(client, webinar, [to_decline], action="decline", confirmed="yes",
                decline_reason="other").status_code == 302
    subjects = {m.kind: m.subject for m in messages()}
    assert set(subjects) == {"confirmation", "declined"}
    assert all("Tendances de la sextorsion" in s and "Sextortion trends" not in s for s in subjects.values())


def test_a_pending_request_on_a_cancelled_webinar_cannot_be_approved(client, editor):
    from portal.services import programme_editing

    webinar = make_webinar(audience=WebinarAudience.APPROVAL)
    pending, _ = make_registration(webinar, status=RegistrationStatus.PENDING)
    programme_editing.cancel_webinar(webinar, "Off.")
    db.session.commit()
    assert [m.kind for m in messages()] == ["webinar_cancelled"]  # the person waiting is told
    response = bulk(client, webinar, [pending], action="approve", confirmed="yes")
    assert response.status_code == 302
    assert rows(webinar)[0].status == RegistrationStatus.PENDING
    assert [m.kind for m in messages()] == ["webinar_cancelled"]  # no "you are registered"
    with pytest.raises(registrations.RegistrationClosed):
        registrations.approve(rows(webinar)[0])


def test_lists_offer_no_register_button_for_an_invitation_only_webinar(client):
    webinar = make_webinar(audience=WebinarAudience.INVITATION, capacity=10)
    db.session.commit()
    for listing in ("/", "/webinars/"):
        page = client.get(listing).get_data(as_text=True)
        assert f'href="/register/{webinar.slug}"' not in page, listing
        assert "By invitation only" in page, listing
