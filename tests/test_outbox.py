"""Email end to end: the outbox, real SMTP (aiosmtpd), the .eml folder, retries, once-only kinds."""

from __future__ import annotations

import email
import re
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxMessage, OutboxStatus, Registration, RegistrationStatus
from portal.models.types import utcnow
from portal.services import registration as registrations
from portal.services.outbox import deliver_due, queue_email
from tests.factories import make_registration, make_webinar
from tests.test_registration import form_data

LINK = re.compile(r"http://portal\.test(/registration/[A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()


def register(client, slug: str, email_address: str) -> None:
    path = f"/register/{slug}"
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(path, data=form_data(token, email=email_address))
    assert response.status_code == 302, response.get_data(as_text=True)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_register_send_follow_link_cancel_and_promotion_arrives(client, runner, smtp):
    webinar = make_webinar(capacity=1)
    db.session.commit()
    register(client, webinar.slug, "ada@example.org")
    register(client, webinar.slug, "grace@example.org")
    assert smtp.messages == []  # nothing is sent before the outbox runs

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "2 sent" in result.output
    [confirmation] = smtp.to("ada@example.org")
    [waitlisted] = smtp.to("grace@example.org")
    assert "You are registered" in confirmation["Subject"]
    assert "waiting list" in waitlisted["Subject"]
    html = confirmation.get_body(preferencelist=("html",)).get_content()
    assert "http://portal.test/registration/" in html
    [ics] = [part for part in confirmation.iter_attachments()]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "PUBLISH"
    assert "BEGIN:VEVENT" in ics.get_content()

    manage_path = LINK.search(text_of(confirmation)).group(1)
    page = client.get(manage_path)
    assert page.status_code == 200 and "You have a seat" in page.get_data(as_text=True)
    confirm = client.get(manage_path + "/cancel")
    assert "Cancel your registration?" in confirm.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', confirm.get_data(as_text=True)).group(1)
    assert client.post(manage_path + "/cancel", data={"csrf_token": token}).status_code == 302

    assert "2 sent" in runner.invoke(args=["outbox", "send"]).output
    [_, cancelled] = smtp.to("ada@example.org")
    [_, promoted] = smtp.to("grace@example.org")
    assert "cancelled" in cancelled["Subject"]
    assert "You have a seat" in promoted["Subject"]
    grace_path = LINK.search(text_of(promoted)).group(1)
    assert "You have a seat" in client.get(grace_path).get_data(as_text=True)
    # Running the sender again sends nothing twice.
    assert "0 sent" in runner.invoke(args=["outbox", "send"]).output
    assert len(smtp.messages) == 4


def test_smtp_down_keeps_registration_and_message_until_the_next_run(app, client, runner):
    webinar = make_webinar()
    db.session.commit()
    port = free_port()  # nothing listens here yet
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    register(client, webinar.slug, "ada@example.org")
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "1 to retry" in result.output
    [message] = db.session.scalars(select(OutboxMessage)).all()
    # An unreachable server is not the message's fault: no attempt is spent and it is due again at
    # once (a worker backs off by itself), so a long outage cannot make it fail for good.
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert message.next_attempt_at <= utcnow()
    assert db.session.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED
    for _ in range(10):  # outage after outage: still no attempt spent
        assert deliver_due().server_down
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).attempts == 0

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert runner.invoke(args=["outbox", "send"]).output.startswith("outbox: 1 sent")
        assert runner.invoke(args=["outbox", "send"]).output.startswith("outbox: 0 sent")
    finally:
        controller.stop()
    assert len(inbox.to("ada@example.org")) == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.SENT


class RefusingInbox(Inbox):
    """A server that is up but refuses the recipient: that is the message's own failure."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such mailbox"


def test_gives_up_after_the_last_attempt_with_backoff(app):
    port = free_port()
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, OUTBOX_MAX_ATTEMPTS=3)
    queue_email(kind="test", recipient="a@example.org", subject="Hi", template="link_resent",
                context=_context())
    db.session.commit()
    moment = utcnow()
    delays = []
    try:
        for _ in range(3):
            deliver_due(now=moment)
            message = db.session.scalars(select(OutboxMessage)).one()
            delays.append(message.next_attempt_at - moment)
            moment = message.next_attempt_at
    finally:
        controller.stop()
    assert message.status == OutboxStatus.FAILED and message.attempts == 3
    assert "550" in message.last_error
    assert delays[0] == timedelta(minutes=1) and delays[1] == timedelta(minutes=2)
    assert deliver_due(now=moment + timedelta(days=1)).claimed == 0


def _context() -> dict:
    webinar = make_webinar()
    registration, token = make_registration(webinar)
    return {"registration": registration, "webinar": webinar, "manage_url": "http://portal.test/registration/x",
            "webinar_url": "http://portal.test/w", "calendar_url": "http://portal.test/w.ics"}


def test_eml_folder_mode_writes_readable_files(app, client, runner, tmp_path):
    webinar = make_webinar()
    db.session.commit()
    register(client, webinar.slug, "ada@example.org")
    assert "1 sent" in runner.invoke(args=["outbox", "send"]).output
    [path] = (tmp_path / "mail").glob("*.eml")
    assert path.name.endswith("-confirmation.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.org"
    assert LINK.search(text_of(message))


def test_once_only_kinds_and_rolled_back_changes_send_nothing(app):
    webinar = make_webinar()
    registration, _ = make_registration(webinar)
    db.session.commit()
    context = {"registration": registration, "webinar": webinar, "manage_url": "u", "webinar_url": "u",
               "calendar_url": "u"}
    first = queue_email(kind="reminder", recipient="a@example.org", subject="R", template="reminder",
                        context=context, dedupe_key=f"reminder:{registration.id}")
    again = queue_email(kind="reminder", recipient="a@example.org", subject="R", template="reminder",
                        context=context, dedupe_key=f"reminder:{registration.id}")
    assert first is not None and again is None
    db.session.commit()
    queue_email(kind="other", recipient="a@example.org", subject="X", template="reminder", context=context)
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage.kind)).all() == ["reminder"]


def test_email_is_written_in_the_registrants_language(client, app):
    webinar = make_webinar()
    db.session.commit()
    path = f"/register/{webinar.slug}"
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(path, data=form_data(token, preferred_language="fr"))
    message = db.session.scalars(select(OutboxMessage)).one()
    registration = db.session.scalars(select(Registration)).one()
    assert registration.preferred_language == "fr"
    # French catalogue may lag behind; the date, formatted by Babel, is French either way.
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre")
    assert any(month in message.body_text for month in months)


def test_link_resent_is_not_deduplicated(app):
    webinar = make_webinar()
    db.session.commit()
    details = registrations.RegistrantDetails(full_name="Ada", email="ada@example.org")
    for _ in range(3):
        registrations.register(webinar, details)
        db.session.commit()
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["confirmation", "link_resent", "link_resent"]


class DisconnectingInbox(Inbox):
    """A server that takes two messages, then drops the connection in the middle of the third."""

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= 2:
            server.transport.close()
            return "421 4.3.2 Shutting down"
        return await super().handle_DATA(server, session, envelope)


def test_a_connection_lost_mid_pass_spends_no_try_of_the_messages_after_it(app):
    port = free_port()
    inbox = DisconnectingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    for n in range(6):
        queue_email(kind="test", recipient=f"p{n}@example.org", subject="Hi", template="link_resent",
                    context=_context())
    db.session.commit()
    try:
        report = deliver_due()
    finally:
        controller.stop()
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(inbox.messages) == 2 and report.sent == 2 and report.server_down
    assert [m.attempts for m in messages[2:]] == [1, 0, 0, 0]  # only the message in hand spent a try
    assert all(m.status == OutboxStatus.PENDING for m in messages[2:])
