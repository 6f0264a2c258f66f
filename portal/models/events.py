"""The programme: series, their webinars and the talks inside them."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, str_enum, utcnow


class WebinarStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class WebinarLanguage(enum.StrEnum):
    ENGLISH = "en"
    FRENCH = "fr"
    BILINGUAL = "bilingual"


series_partners = db.Table(
    "series_partner",
    db.Column("series_id", ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    db.Column("organisation_id", ForeignKey("organisation.id"), primary_key=True),
)


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Full name as the organisation writes it.
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: Short form (RCMP, UNICRI); empty when the source gives none.
    acronym: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(500))
    #: Country, when it matters for reading the name (a foreign university).
    country: Mapped[str | None] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.name


class Series(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    #: Optional line above the title ("Public Safety Canada Webinar Series 2023").
    subtitle: Mapped[str | None] = mapped_column(String(300))
    host_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    closing_remarks: Mapped[str] = mapped_column(Text, default="")
    #: IANA zone in which the series' times are announced.
    timezone: Mapped[str] = mapped_column(String(64), default="America/Toronto")
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    host: Mapped[Organisation | None] = relationship()
    partners: Mapped[list[Organisation]] = relationship(
        secondary=series_partners, order_by="Organisation.name"
    )
    objectives: Mapped[list[Objective]] = relationship(
        back_populates="series", order_by="Objective.position", cascade="all, delete-orphan"
    )
    key_themes: Mapped[list[KeyTheme]] = relationship(
        back_populates="series", order_by="KeyTheme.position", cascade="all, delete-orphan"
    )
    webinars: Mapped[list[Webinar]] = relationship(
        back_populates="series", order_by="Webinar.starts_at"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Objective(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)

    series: Mapped[Series] = relationship(back_populates="objectives")


class KeyTheme(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    heading: Mapped[str] = mapped_column(Text)

    series: Mapped[Series] = relationship(back_populates="key_themes")
    points: Mapped[list[ThemePoint]] = relationship(
        back_populates="theme", order_by="ThemePoint.position", cascade="all, delete-orphan"
    )


class ThemePoint(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("key_theme.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)

    theme: Mapped[KeyTheme] = relationship(back_populates="points")


class Webinar(db.Model):
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint(
            "registration_closes_at IS NULL OR registration_closes_at <= starts_at",
            name="registration_closes_before_start",
        ),
        CheckConstraint(
            "registration_opens_at IS NULL OR registration_opens_at < starts_at",
            name="registration_opens_before_start",
        ),
        CheckConstraint(
            "registration_opens_at IS NULL OR registration_closes_at IS NULL"
            " OR registration_opens_at < registration_closes_at",
            name="registration_window_ordered",
        ),
        Index("ix_webinar_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    #: Start in UTC; shown in the series' zone and the visitor's own.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=90)
    description: Mapped[str] = mapped_column(Text, default="")
    #: Language the session is given in; empty when not announced.
    language: Mapped[WebinarLanguage | None] = mapped_column(str_enum(WebinarLanguage, "webinar_language"))
    #: Seats; empty means unlimited.
    capacity: Mapped[int | None]
    #: Confirmed registrations, kept equal to their rows by database triggers (migration 0014):
    #: the seat rule reads it under the row lock instead of counting rows. Never written here.
    confirmed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When full, further sign-ups join a waiting list instead of being refused.
    waitlist_enabled: Mapped[bool] = mapped_column(default=True)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Shown only to confirmed registrants, shortly before the start.
    join_url: Mapped[str | None] = mapped_column(String(500))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    #: Written after the session; plain text, paragraphs separated by blank lines.
    highlights: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[WebinarStatus] = mapped_column(
        str_enum(WebinarStatus, "webinar_status"), default=WebinarStatus.DRAFT
    )
    #: Message sent to registrants when the webinar was cancelled.
    cancellation_message: Mapped[str | None] = mapped_column(Text)
    #: Bumped whenever the time changes, so "changed" emails are sent once per change.
    schedule_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    series: Mapped[Series] = relationship(back_populates="webinars")
    presentations: Mapped[list[Presentation]] = relationship(
        back_populates="webinar", order_by="Presentation.position", cascade="all, delete-orphan"
    )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_public(self) -> bool:
        return self.status != WebinarStatus.DRAFT and self.series.published


presentation_presenters = db.Table(
    "presentation_presenter",
    db.Column("presentation_id", ForeignKey("presentation.id", ondelete="CASCADE"), primary_key=True),
    db.Column("presenter_id", ForeignKey("presenter.id"), primary_key=True),
    db.Column("position", db.Integer, nullable=False, default=0),
)


class Presentation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(500))
    abstract: Mapped[str] = mapped_column(Text, default="")

    webinar: Mapped[Webinar] = relationship(back_populates="presentations")
    presenters: Mapped[list[Presenter]] = relationship(
        secondary=presentation_presenters,
        order_by=presentation_presenters.c.position,
        back_populates="presentations",
    )


class Presenter(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: Personal name as written ("Timothy (Tim) Brown"), or the team's name.
    name: Mapped[str] = mapped_column(String(300))
    #: Dr., Detective, Detective Staff Sergeant…
    honorific: Mapped[str | None] = mapped_column(String(100))
    #: CBE, QPM, DL… as one string, in the order the presenter uses.
    post_nominals: Mapped[str | None] = mapped_column(String(100))
    #: A group (a team of analysts) rather than a named person.
    is_team: Mapped[bool] = mapped_column(default=False)
    bio: Mapped[str] = mapped_column(Text, default="")

    roles: Mapped[list[PresenterRole]] = relationship(
        back_populates="presenter", order_by="PresenterRole.position", cascade="all, delete-orphan"
    )
    presentations: Mapped[list[Presentation]] = relationship(
        secondary=presentation_presenters, back_populates="presenters"
    )

    @property
    def display_name(self) -> str:
        parts = [self.honorific, self.name] if self.honorific else [self.name]
        name = " ".join(parts)
        return f"{name}, {self.post_nominals}" if self.post_nominals else name


class PresenterRole(db.Model):
    """One position a presenter holds; a presenter may hold several."""

    id: Mapped[int] = mapped_column(primary_key=True)
    presenter_id: Mapped[int] = mapped_column(ForeignKey("presenter.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: Job title ("Director of Technology"); may be empty when only the unit is known.
    title: Mapped[str | None] = mapped_column(String(300))
    #: Unit or programme inside the organisation ("Internet Child Exploitation Unit").
    unit: Mapped[str | None] = mapped_column(String(300))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)

    presenter: Mapped[Presenter] = relationship(back_populates="roles")
    organisation: Mapped[Organisation | None] = relationship()

    def __str__(self) -> str:
        return ", ".join(p for p in (self.title, self.unit, self.organisation and self.organisation.name) if p)
