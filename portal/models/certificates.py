"""Certificates of attendance and the materials handed out after a webinar."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.events import Series, Webinar
from portal.models.registrations import Registration
from portal.models.types import UTCDateTime, str_enum, utcnow


class CertificateKind(enum.StrEnum):
    #: One webinar attended (one per registration).
    WEBINAR = "webinar"
    #: Enough webinars of a series attended (one per person and series).
    SERIES = "series"


class Certificate(db.Model):
    __table_args__ = (
        # One series certificate per person (normalised email) and series.
        Index(
            "uq_certificate_series_person", "series_id", "email_normalised", unique=True,
            sqlite_where=text("kind = 'series'"), postgresql_where=text("kind = 'series'"),
        ),
        CheckConstraint("credited_minutes >= 0", name="credited_minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public verification code (``secrets.token_urlsafe(24)``, 192 bits); the lookup is indexed.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[CertificateKind] = mapped_column(str_enum(CertificateKind, "certificate_kind"))
    #: The attended registration (webinar certificates); unique, so issuing twice is a no-op.
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), unique=True)
    #: The webinar (webinar certificates), for listing a webinar's certificates without a join.
    webinar_id: Mapped[int | None] = mapped_column(ForeignKey("webinar.id"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    #: Who it belongs to; a series certificate is keyed by it. Empty once personal data is purged.
    email_normalised: Mapped[str | None] = mapped_column(String(254))
    #: The name as printed, frozen at issue: correcting the registration later does not change it.
    printed_name: Mapped[str] = mapped_column(String(200))
    #: en or fr: the registrant's language when it was issued.
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: Hours credited, in minutes (frozen at issue).
    credited_minutes: Mapped[int] = mapped_column(default=0)
    #: Series certificates: the sessions attended, frozen at issue
    #: ([{"webinar_id", "title", "starts_at" (ISO, UTC), "minutes"}]).
    sessions: Mapped[list | None] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when an organiser revoked it: the verification page then says so.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()
    webinar: Mapped[Webinar | None] = relationship()
    series: Mapped[Series] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class MaterialKind(enum.StrEnum):
    LINK = "link"
    FILE = "file"


class Material(db.Model):
    """A link or an uploaded file (slides, handouts) for a webinar's registrants."""

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MaterialKind] = mapped_column(str_enum(MaterialKind, "material_kind"))
    title: Mapped[str] = mapped_column(String(300))
    #: Links only.
    url: Mapped[str | None] = mapped_column(String(500))
    #: Files only: the generated name under MATERIALS_FOLDER (never the uploader's name).
    stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    #: Files only: the uploader's file name, cleaned, offered again on download.
    original_name: Mapped[str | None] = mapped_column(String(255))
    #: Files only: the type the content was recognised as (from its first bytes).
    content_type: Mapped[str | None] = mapped_column(String(120))
    size_bytes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webinar: Mapped[Webinar] = relationship()
