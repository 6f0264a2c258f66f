"""Email waiting to be delivered, written in the transaction that causes it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.bilingual import translated
from portal.models.types import UTCDateTime, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class OutboxMessage(db.Model):
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: confirmation, waitlisted, promoted, cancelled, reminder, feedback_invitation…
    kind: Mapped[str] = mapped_column(String(40))
    #: Makes "at most once per registration and kind" a database rule.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    webinar_id: Mapped[int | None] = mapped_column(ForeignKey("webinar.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: Attach the webinar's calendar, built in this language when the message is sent
    #: (so it shows the webinar as it is then, and the request that queued it did no calendar work).
    calendar_language: Mapped[str | None] = mapped_column(String(8))
    #: A stored iCalendar file: messages queued before ``calendar_language`` existed.
    ics: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebinarMessage(db.Model):
    """An email an organiser wrote to a webinar's registrants, kept on record."""

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id"))
    #: all, confirmed, waitlisted, attended, not_attended
    audience: Mapped[str] = mapped_column(String(20))
    #: The organiser writes both versions; each registrant gets their language, else the other one.
    subject_en: Mapped[str] = mapped_column("subject", String(300), default="")
    subject_fr: Mapped[str | None] = mapped_column(String(300))
    body_en: Mapped[str] = mapped_column("body", Text, default="")
    body_fr: Mapped[str | None] = mapped_column(Text)
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subject = translated("subject")
    body = translated("body")
