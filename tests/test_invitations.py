"""Invitations: the only way into an ``invitation`` webinar, bound to the invitee's address, revocable."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Invitation,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    WebinarAudience,
)
from portal.services import invitations, privacy
from portal.services.tokens import hash_token
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_webinar, now, sign_in
from tests.test_registration import form_data


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def invite(client, webinar, people="", upload=None):
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/invitations")
    data = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), "people": people}
    if upload is not None:
        data["upload"] = (io.BytesIO(upload), "people.csv")
    return client.post(f"/organiser/webinars/{webinar.id}/invitations", data=data,
                       content_type="multipart/form-data")


def links() -> dict[str, str]:
    """The personal link in each invitation email, by recipient."""
    found = {}
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")):
        found[message.recipient] = re.search(r"http://portal\.test(/register/\S+)", message.body_text).group(1)
    return found


def register_with(client, path, **overrides):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data=form_data(csrf_token_from(page.get_data(as_text=True)), **overrides))


def test_parsing_accepts_lines_csv_and_angle_brackets_and_names_bad_lines():
    people = invitations.parse_invitees(
        "name,email\nJane Doe, jane@rcmp-grc.gc.ca\n\"Roy, Léa\",lea@police.ca\nSam <sam@opp.ca>\n"
        "solo@example.org\nJANE@rcmp-grc.gc.ca")
    assert [(p.full_name, p.email) for p in people] == [
        ("Jane Doe", "jane@rcmp-grc.gc.ca"), ("Roy, Léa", "lea@police.ca"), ("Sam", "sam@opp.ca"),
        ("", "solo@example.org")]
    with pytest.raises(invitations.InviteeListError) as error:
        invitations.parse_invitees("ok@example.org\nNo Address Here\nbad@@example")
    assert [n for n, _ in error.value.problems] == [2, 3]


def test_an_organiser_invites_each_person_gets_a_bilingual_personal_link(client, editor):
    webinar = make_webinar(audience=WebinarAudience.INVITATION)
    response = invite(client, webinar, "Jane Doe, jane@rcmp-grc.gc.ca\nLéa Roy <lea@police.ca>")
    assert response.status_code == 302
    assert invite(client, webinar, "jane@RCMP-GRC.gc.ca").status_code == 302  # already invited: left alone
    rows = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
    assert [r.email for r in rows] == ["jane@rcmp-grc.gc.ca", "lea@police.ca"]
    [message, _] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
    assert "You are invited" in message.body_text and "Vous êtes invité(e)" in message.body_text
    token = links()["jane@rcmp-grc.gc.ca"].split("invitation=")[1]
    assert len(token) >= 43  # 256 bits
    assert rows[0].token_hash == hash_token(token) and token not in rows[0].token_hash
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invite")).all()
    assert event.changes["invited"] == [None, 2]


def test_a_csv_upload_invites_too_and_bad_lines_invite_nobody(client, editor):
    webinar = make_webinar(audience=WebinarAudience.INVITATION)
    bad = invite(client, webinar, upload=b"name,email\nA, a@example.org\nB, not-an-address\n")
    assert bad.status_code == 422 and "Line 3" in bad.get_data(as_text=True)
    assert db.session.scalars(select(Invitation)).all() == []
    assert invite(client, webinar, upload="\ufeffname,email\nA, a@example.org\n".encode()).status_code == 302
    assert [i.email for i in db.session.scalars(select(Invitation))] == ["a@example.org"]
    assert invite(client, webinar).status_code == 422  # nothing at all
    assert invite(client, webinar, upload=b"\xff\xfe\x00bad").status_code == 422


def test_only_a_valid_invitation_opens_the_form_and_only_for_its_address(client, editor):
    webinar = make_webinar(audience=WebinarAudience.INVITATION, capacity=5)
    invite(client, webinar, "Jane Doe, jane@rcmp-grc.gc.ca")
    path = links()["jane@rcmp-grc.gc.ca"]
    assert client.get(f"/register/{webinar.slug}").status_code == 403
    assert client.get(f"/register/{webinar.slug}?invitation={'x' * 43}").status_code == 403
    form = client.get(path).get_data(as_text=True)
    assert 'value="jane@rcmp-grc.gc.ca"' in form and 'value="Jane Doe"' in form
    other = register_with(client, path, email="someone@else.org")
    assert other.status_code == 422 and "another email address" in other.get_data(as_text=True)
    assert register_with(client, path, email="Jane@RCMP-GRC.gc.ca").status_code == 302
    [registration] = db.session.scalars(select(Registration)).all()
    assert registration.status == RegistrationStatus.CONFIRMED
    db.session.expire_all()
    invitation = db.session.scalars(select(Invitation)).one()
    assert invitations.state_of(invitation) == invitations.InvitationState.REGISTERED
    assert invitation.registration_id == registration.id
    # The link is for this webinar only.
    elsewhere = make_webinar(audience=WebinarAudience.INVITATION)
    db.session.commit()
    assert client.get(path.replace(webinar.slug, elsewhere.slug)).status_code == 403


def test_a_revoked_link_no_longer_opens_the_form_and_the_list_says_so(client, editor):
    webinar = make_webinar(audience=WebinarAudience.INVITATION)
    invite(client, webinar, "Jane Doe, jane@rcmp-grc.gc.ca\nLéa Roy, lea@police.ca")
    path = links()["jane@rcmp-grc.gc.ca"]
    invitation = db.session.scalars(select(Invitation).where(Invitation.email == "jane@rcmp-grc.gc.ca")).one()
    page = client.get(f"/organiser/webinars/{webinar.id}/invitations").get_data(as_text=True)
    response = client.post(f"/organiser/invitations/{invitation.id}/revoke",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert client.get(path).status_code == 403
    page = client.get(f"/organiser/webinars/{webinar.id}/invitations").get_data(as_text=True)
    assert "revoked: 1" in page and "Invited, not yet registered: 1" in page
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "revoke")).one()
    assert client.post(f"/organiser/invitations/{invitation.id}/revoke").status_code == 400  # no CSRF


def test_viewers_see_the_list_but_cannot_invite_or_revoke(client):
    sign_in(client, make_organiser("viewer"))
    webinar = make_webinar(audience=WebinarAudience.INVITATION)
    db.session.commit()
    page = client.get(f"/organiser/webinars/{webinar.id}/invitations")
    assert page.status_code == 200
    token = csrf_token_from(client.get("/organiser/").get_data(as_text=True))
    response = client.post(f"/organiser/webinars/{webinar.id}/invitations",
                           data={"csrf_token": token, "people": "a@example.org"})
    assert response.status_code == 403


def test_the_purge_removes_invitees_and_their_emails(app, client, editor):
    webinar = make_webinar(audience=WebinarAudience.INVITATION)
    invite(client, webinar, "Jane Doe, jane@rcmp-grc.gc.ca")
    webinar.starts_at = now() - timedelta(days=400)
    db.session.commit()
    privacy.purge_older_than(365)
    db.session.commit()
    db.session.expire_all()
    invitation = db.session.scalars(select(Invitation)).one()
    assert (invitation.full_name, invitation.email, invitation.email_normalised) == (None, None, None)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipient == "" and message.body_text == "" and message.status == OutboxStatus.FAILED


def test_the_list_costs_the_same_queries_for_two_or_twenty_invitations(client, editor, count_queries):
    def queries_for(n):
        webinar = make_webinar(audience=WebinarAudience.INVITATION)
        invitations.invite(webinar, [invitations.Invitee(f"P {i}", f"p{i}-{n}@example.org") for i in range(n)])
        db.session.commit()
        client.get(f"/organiser/webinars/{webinar.id}/invitations")
        with count_queries() as counter:
            assert client.get(f"/organiser/webinars/{webinar.id}/invitations").status_code == 200
        return counter.count

    assert queries_for(2) == queries_for(20)


def test_an_invitation_webinar_is_never_offered_beside_another_form(client):
    public = make_webinar()
    invited_only = make_webinar(public.series, audience=WebinarAudience.INVITATION, title="Closed session")
    db.session.commit()
    page = client.get(f"/register/{public.slug}").get_data(as_text=True)
    assert "Closed session" not in page and invited_only.slug not in page


def test_control_characters_in_an_uploaded_list_are_dropped_as_in_the_typed_one(client, editor):
    webinar = make_webinar(audience=WebinarAudience.INVITATION)
    assert invite(client, webinar, upload=b"C\x00D, c@b.org\n").status_code in (302, 303)
    [invitation] = db.session.scalars(select(Invitation)).all()
    assert invitation.full_name == "CD"
