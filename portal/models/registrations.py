"""A person's place (or place in the queue) at one webinar."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event, inspect, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.events import Webinar
from portal.models.types import UTCDateTime, str_enum, utcnow
from portal.search import searchable_text


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Sector(enum.StrEnum):
    LAW_ENFORCEMENT = "law_enforcement"
    EDUCATION = "education"
    CHILD_PROTECTION = "child_protection"
    HEALTH_SOCIAL = "health_social"
    GOVERNMENT = "government"
    INDUSTRY = "industry"
    ACADEMIA = "academia"
    PARENT = "parent"
    OTHER = "other"


class Registration(db.Model):
    __table_args__ = (
        # One active registration per person and webinar, whatever the case of the email.
        Index(
            "uq_registration_active_email",
            "webinar_id",
            "email_normalised",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_registration_webinar_status_created", "webinar_id", "status", "created_at"),
        # Covering indexes for the organiser dashboard's aggregates (migration 0002).
        Index("ix_registration_webinar_attended_status", "webinar_id", "attended", "status"),
        Index("ix_registration_sector_status", "sector", "status", "webinar_id"),
        Index("ix_registration_region_status", "region", "status", "webinar_id"),
        # Sign-ups per (UTC) day over every webinar, read in day order from the index (migration 0003).
        Index("ix_registration_created_day", text("date(created_at)"), "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id"))
    full_name: Mapped[str | None] = mapped_column(String(200))
    #: As typed (after validation), for addressing mail.
    email: Mapped[str | None] = mapped_column(String(254))
    #: Lower-cased form used for the one-per-person rule; empty once purged.
    email_normalised: Mapped[str | None] = mapped_column(String(254))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[Sector | None] = mapped_column(str_enum(Sector, "sector"))
    #: Province or territory code ("QC"), or "outside": the registration form's codes
    #: (``REGION_LABELS``); migration 0007 converted names stored by older versions.
    region: Mapped[str | None] = mapped_column(String(100))
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.CONFIRMED
    )
    attended: Mapped[bool] = mapped_column(default=False)
    #: SHA-256 of the secret manage token; the token itself is only ever emailed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when personal data was removed; the row stays for counts.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Name, email and organisation folded for search (``portal.search``): what the organiser's
    #: search box looks in, accents and case ignored alike on SQLite and PostgreSQL. Kept up to
    #: date by ``search_text_of`` on every write; emptied with the personal data.
    search_text: Mapped[str | None] = mapped_column(Text)

    webinar: Mapped[Webinar] = relationship()


def search_text_of(full_name: str | None, email: str | None, organisation_name: str | None) -> str | None:
    """The ``search_text`` of a registration with these details (``None`` once purged)."""
    return searchable_text((full_name, email, organisation_name)) or None


_SEARCHED = ("full_name", "email", "organisation_name")


@event.listens_for(Registration, "before_insert")
def _search_text_on_insert(_mapper, _connection, registration: Registration) -> None:
    # The ORM's inserts (demo, tests); the registration form's Core INSERT sets the column itself.
    registration.search_text = search_text_of(
        registration.full_name, registration.email, registration.organisation_name)


@event.listens_for(Registration, "before_update")
def _search_text_on_update(_mapper, _connection, registration: Registration) -> None:
    # Only when a searched field changed: a status change on an object loaded before a privacy
    # purge (a Core UPDATE) must not write the old name back into the column.
    state = inspect(registration)
    if any(state.attrs[name].history.has_changes() for name in _SEARCHED):
        registration.search_text = search_text_of(
            registration.full_name, registration.email, registration.organisation_name)
