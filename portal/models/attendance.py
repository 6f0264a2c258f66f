"""What a platform's attendance report said: the import itself and the people it
could not match to a registration by email, kept for the organiser to resolve.

Minutes per registration live on ``Registration.minutes_attended``; these rows are
the import's receipt and its loose ends. A new import of the same webinar replaces
the previous one (its rows are deleted with it).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import Organiser
from portal.models.events import Webinar
from portal.models.registrations import Registration
from portal.models.types import UTCDateTime, str_enum, utcnow


class ReportFormat(enum.StrEnum):
    """The kinds of file the importer recognises (by content, never by file name)."""

    ZOOM_MEETING = "zoom_meeting"
    ZOOM_WEBINAR = "zoom_webinar"
    TEAMS_TSV = "teams_tsv"
    TEAMS_CSV = "teams_csv"
    WEBEX = "webex"
    PLAIN = "plain"


class UnmatchedResolution(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    LEFT = "left"


class AttendanceImport(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    #: As uploaded, for the organiser's memory only (never used to guess the format).
    filename: Mapped[str] = mapped_column(String(255), default="")
    report_format: Mapped[ReportFormat] = mapped_column(str_enum(ReportFormat, "report_format"))
    #: Character encoding the file was read in (utf-8, utf-16, cp1252).
    encoding: Mapped[str] = mapped_column(String(20), default="utf-8")
    #: Data rows seen in the participant tables, used or not.
    rows_read: Mapped[int] = mapped_column(default=0)
    #: Registrations given minutes by this import (matched by email).
    people_matched: Mapped[int] = mapped_column(default=0)
    #: Distinct people in the report without a registration of that email.
    people_unmatched: Mapped[int] = mapped_column(default=0)
    #: Hand-ticked check-ins this import was allowed to overrule.
    overruled_hand: Mapped[bool] = mapped_column(default=False)
    #: Rows that could not be read: [{"row": n, "reason": code}], the first 100.
    problems: Mapped[list | None] = mapped_column(JSON)
    #: How many rows could not be read in all (``problems`` keeps only the first ones).
    problem_count: Mapped[int] = mapped_column(default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webinar: Mapped[Webinar] = relationship()
    organiser: Mapped[Organiser | None] = relationship()
    unmatched: Mapped[list[UnmatchedAttendee]] = relationship(
        back_populates="attendance_import", order_by="UnmatchedAttendee.id", cascade="all, delete-orphan",
        passive_deletes=True,
    )


class UnmatchedAttendee(db.Model):
    """One person of the report whose email no registration has: the organiser confirms
    the suggested (or another) registration, or leaves them out."""

    __table_args__ = (Index("ix_unmatched_attendee_webinar_resolution", "webinar_id", "resolution"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("attendance_import.id", ondelete="CASCADE"), index=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"))
    #: Report row where the person first appears (1 = the file's first line).
    row_number: Mapped[int] = mapped_column(default=0)
    #: As the platform wrote them: untrusted text, always escaped on output.
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    minutes: Mapped[int] = mapped_column(default=0)
    #: Registration whose name is closest (accents and case ignored); a suggestion only.
    suggested_registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"))
    #: How close the suggestion is, 0-100.
    suggestion_score: Mapped[int] = mapped_column(default=0)
    resolution: Mapped[UnmatchedResolution] = mapped_column(
        str_enum(UnmatchedResolution, "unmatched_resolution"), default=UnmatchedResolution.OPEN)
    #: The registration the organiser confirmed; its minutes include this person's.
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="SET NULL"))

    attendance_import: Mapped[AttendanceImport] = relationship(back_populates="unmatched")
    suggested_registration: Mapped[Registration | None] = relationship(foreign_keys=[suggested_registration_id])
    registration: Mapped[Registration | None] = relationship(foreign_keys=[registration_id])
