"""Who did what to which record, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import Organiser
from portal.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __table_args__ = (Index("ix_audit_event_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Empty for events without a signed-in organiser (a failed login).
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id"), index=True)
    #: create, update, delete, publish, cancel, attendance, email, login, login_failed…
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    #: Identifies the record for a reader; never copies personal data beyond that.
    summary: Mapped[str] = mapped_column(Text, default="")
    #: For updates: {field: [old, new]}.
    changes: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The client's address as the app sees it (behind TRUSTED_PROXIES, the forwarded one);
    #: empty for commands.
    client_address: Mapped[str | None] = mapped_column(String(45))

    organiser: Mapped[Organiser | None] = relationship()
