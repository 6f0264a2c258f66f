"""Turning outbox rows into real email: MIME building and the two ways of delivering.

With ``MAIL_SERVER`` set, messages go over SMTP (one connection per delivery
pass); without it they are written as ``.eml`` files into ``MAIL_FOLDER`` so a
newcomer can open them in any mail client or text editor.
"""

from __future__ import annotations

import os
import re
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from flask import current_app

from portal.models import OutboxMessage

SMTP_TIMEOUT_SECONDS = 30


def build_email(message: OutboxMessage, calendar: bytes | None = None) -> EmailMessage:
    """Plain text first, HTML as the alternative, the calendar file as an attachment."""
    config = current_app.config
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Date"] = format_datetime(message.created_at)
    host = urlsplit(config["PORTAL_BASE_URL"]).hostname or "localhost"
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=host)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    if calendar:
        email.add_attachment(
            calendar,
            maintype="text",
            subtype="calendar",
            filename="webinar.ics",
            params={"method": "PUBLISH"},
        )
    return email


class SmtpTransport:
    """One SMTP session for a batch; opening it may raise ``OSError``/``SMTPException``."""

    def __enter__(self) -> SmtpTransport:
        config = current_app.config
        self.connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS)
        if config["MAIL_USE_TLS"]:
            self.connection.starttls()
        if config["MAIL_USERNAME"]:
            self.connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        return self

    def send(self, email: EmailMessage, message: OutboxMessage) -> None:
        self.connection.send_message(email)

    def __exit__(self, *exc_info) -> None:
        try:
            self.connection.quit()
        except (OSError, smtplib.SMTPException):
            self.connection.close()


class FolderTransport:
    """Writes ``<id>-<kind>.eml`` files; writing is atomic so readers never see half a file."""

    def __enter__(self) -> FolderTransport:
        self.folder = current_app.config["MAIL_FOLDER"]
        os.makedirs(self.folder, exist_ok=True)
        return self

    def send(self, email: EmailMessage, message: OutboxMessage) -> None:
        kind = re.sub(r"[^a-z0-9_-]", "", message.kind.lower()) or "message"
        name = f"{message.created_at:%Y%m%d-%H%M%S}-{message.id:06d}-{kind}.eml"
        path = os.path.join(self.folder, name)
        partial = path + ".part"
        with open(partial, "wb") as handle:
            handle.write(email.as_bytes())
        os.replace(partial, path)

    def __exit__(self, *exc_info) -> None:
        return None


def open_transport() -> SmtpTransport | FolderTransport:
    """SMTP when MAIL_SERVER is set, unless MAIL_BACKEND=file asks for files on purpose."""
    config = current_app.config
    if config.get("MAIL_BACKEND") == "file" or not config.get("MAIL_SERVER"):
        return FolderTransport()
    return SmtpTransport()
