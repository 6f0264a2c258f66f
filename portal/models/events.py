"""The programme: series, their webinars and the talks inside them."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.bilingual import translated
from portal.models.types import UTCDateTime, str_enum, utcnow


class WebinarStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class WebinarAudience(enum.StrEnum):
    """Who may attend: the codes stored on a webinar (words in ``portal.labels``)."""

    PUBLIC = "public"  # anyone; seats and waiting list as usual
    APPROVAL = "approval"  # every registration waits for an organiser's decision
    RESTRICTED = "restricted"  # the series' allowed email domains get in at once, others wait
    INVITATION = "invitation"  # only through a personal invitation link


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
    #: Full name as the organisation writes it, in English (required: it identifies the organisation).
    name_en: Mapped[str] = mapped_column("name", String(200), unique=True)
    #: Its French name (Gendarmerie royale du Canada); empty when not given.
    name_fr: Mapped[str | None] = mapped_column(String(200))
    #: Short form (RCMP, UNICRI); empty when the source gives none.
    acronym_en: Mapped[str | None] = mapped_column("acronym", String(40))
    acronym_fr: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(500))
    #: Country, when it matters for reading the name (a foreign university).
    country: Mapped[str | None] = mapped_column(String(100))

    name = translated("name")
    acronym = translated("acronym")

    def __str__(self) -> str:
        return self.name


class Series(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: Translatable texts: ``<field>_en`` keeps the column's old name, ``<field>_fr`` is the French
    #: (see portal/models/bilingual.py); ``series.title`` reads the reader's language.
    title_en: Mapped[str] = mapped_column("title", String(300))
    title_fr: Mapped[str | None] = mapped_column(String(300))
    #: Optional line above the title ("Public Safety Canada Webinar Series 2023").
    subtitle_en: Mapped[str | None] = mapped_column("subtitle", String(300))
    subtitle_fr: Mapped[str | None] = mapped_column(String(300))
    host_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    summary_en: Mapped[str] = mapped_column("summary", Text, default="")
    summary_fr: Mapped[str | None] = mapped_column(Text)
    closing_remarks_en: Mapped[str] = mapped_column("closing_remarks", Text, default="")
    closing_remarks_fr: Mapped[str | None] = mapped_column(Text)
    #: IANA zone in which the series' times are announced.
    timezone: Mapped[str] = mapped_column(String(64), default="America/Toronto")
    #: Email domains whose registrations a ``restricted`` webinar approves at once, one per
    #: line, stored normalised (lower-case, IDNA ``xn--`` form); ``*.police.ca`` means its subdomains.
    allowed_email_domains: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: Raised by every change to its registration questions: 0 means the form has none (no query).
    questions_version: Mapped[int] = mapped_column(default=0, server_default="0")
    published: Mapped[bool] = mapped_column(default=False)
    #: Webinars to attend for the series certificate; empty means all of them.
    certificate_min_webinars: Mapped[int | None]
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

    title = translated("title")
    subtitle = translated("subtitle")
    summary = translated("summary")
    closing_remarks = translated("closing_remarks")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Objective(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text_en: Mapped[str] = mapped_column("text", Text, default="")
    text_fr: Mapped[str | None] = mapped_column(Text)

    series: Mapped[Series] = relationship(back_populates="objectives")

    text = translated("text")


class KeyTheme(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    heading_en: Mapped[str] = mapped_column("heading", Text, default="")
    heading_fr: Mapped[str | None] = mapped_column(Text)
    heading = translated("heading")

    series: Mapped[Series] = relationship(back_populates="key_themes")
    points: Mapped[list[ThemePoint]] = relationship(
        back_populates="theme", order_by="ThemePoint.position", cascade="all, delete-orphan"
    )


class ThemePoint(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("key_theme.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text_en: Mapped[str] = mapped_column("text", Text, default="")
    text_fr: Mapped[str | None] = mapped_column(Text)

    theme: Mapped[KeyTheme] = relationship(back_populates="points")

    text = translated("text")


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
        CheckConstraint(
            "attendance_threshold_minutes IS NULL OR attendance_threshold_minutes >= 0",
            name="attendance_threshold_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title_en: Mapped[str] = mapped_column("title", String(300))
    title_fr: Mapped[str | None] = mapped_column(String(300))
    #: Start in UTC; shown in the series' zone and the visitor's own.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=90)
    description_en: Mapped[str] = mapped_column("description", Text, default="")
    description_fr: Mapped[str | None] = mapped_column(Text)
    #: Language the session is given in; empty when not announced.
    language: Mapped[WebinarLanguage | None] = mapped_column(str_enum(WebinarLanguage, "webinar_language"))
    #: Seats; empty means unlimited.
    capacity: Mapped[int | None]
    #: Who may attend (``WebinarAudience``); ``public`` unless an organiser restricts it.
    audience: Mapped[WebinarAudience] = mapped_column(
        str_enum(WebinarAudience, "webinar_audience"), default=WebinarAudience.PUBLIC, server_default="public"
    )
    #: Raised by every change to its own questions (see ``Series.questions_version``).
    questions_version: Mapped[int] = mapped_column(default=0, server_default="0")
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
    highlights_en: Mapped[str] = mapped_column("highlights", Text, default="")
    highlights_fr: Mapped[str | None] = mapped_column(Text)
    status: Mapped[WebinarStatus] = mapped_column(
        str_enum(WebinarStatus, "webinar_status"), default=WebinarStatus.DRAFT
    )
    #: Message sent to registrants when the webinar was cancelled.
    cancellation_message_en: Mapped[str | None] = mapped_column("cancellation_message", Text)
    cancellation_message_fr: Mapped[str | None] = mapped_column(Text)
    #: Minutes a registrant must have been present to count as attended; empty = half the duration.
    attendance_threshold_minutes: Mapped[int | None]
    #: Set when the organiser says attendance is complete (certificates and follow-up wait for it).
    attendance_final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped whenever the time changes, so "changed" emails are sent once per change.
    schedule_version: Mapped[int] = mapped_column(default=1)
    #: Hours credited on certificates, in minutes; empty means the webinar's duration.
    certificate_minutes: Mapped[int | None]
    #: Materials and recording shown on the public page too (otherwise to confirmed registrants only).
    materials_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    series: Mapped[Series] = relationship(back_populates="webinars")
    presentations: Mapped[list[Presentation]] = relationship(
        back_populates="webinar", order_by="Presentation.position", cascade="all, delete-orphan"
    )

    title = translated("title")
    description = translated("description")
    highlights = translated("highlights")
    cancellation_message = translated("cancellation_message")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def needs_vetting(self) -> bool:
        """Not open to everyone: its join link, recording and calendar details stay with confirmed people."""
        return self.audience != WebinarAudience.PUBLIC

    @property
    def attendance_threshold(self) -> int:
        """Minutes needed to count as attended: the organiser's figure, or half the duration (rounded up)."""
        if self.attendance_threshold_minutes is not None:
            return self.attendance_threshold_minutes
        return -(-self.duration_minutes // 2)

    @property
    def materials_shown_publicly(self) -> bool:
        """The recording and materials are for everyone only once the organiser made them public,
        and never for a vetted audience (its confirmed participants have them on their page)."""
        return bool(self.materials_public) and not self.needs_vetting

    @property
    def public_recording_url(self) -> str | None:
        return self.recording_url if self.materials_shown_publicly else None

    @property
    def credited_minutes(self) -> int:
        return self.certificate_minutes if self.certificate_minutes is not None else self.duration_minutes

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
    title_en: Mapped[str] = mapped_column("title", String(500))
    title_fr: Mapped[str | None] = mapped_column(String(500))
    abstract_en: Mapped[str] = mapped_column("abstract", Text, default="")
    abstract_fr: Mapped[str | None] = mapped_column(Text)

    webinar: Mapped[Webinar] = relationship(back_populates="presentations")
    presenters: Mapped[list[Presenter]] = relationship(
        secondary=presentation_presenters,
        order_by=presentation_presenters.c.position,
        back_populates="presentations",
    )

    title = translated("title")
    abstract = translated("abstract")


class Presenter(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: Personal name as written ("Timothy (Tim) Brown"), or the team's name.
    name: Mapped[str] = mapped_column(String(300))
    #: Dr., Detective, Detective Staff Sergeant… (translated: Dr / Détective); the name is not.
    honorific_en: Mapped[str | None] = mapped_column("honorific", String(100))
    honorific_fr: Mapped[str | None] = mapped_column(String(100))
    #: CBE, QPM, DL… as one string, in the order the presenter uses.
    post_nominals: Mapped[str | None] = mapped_column(String(100))
    #: A group (a team of analysts) rather than a named person.
    is_team: Mapped[bool] = mapped_column(default=False)
    bio_en: Mapped[str] = mapped_column("bio", Text, default="")
    bio_fr: Mapped[str | None] = mapped_column(Text)

    roles: Mapped[list[PresenterRole]] = relationship(
        back_populates="presenter", order_by="PresenterRole.position", cascade="all, delete-orphan"
    )
    presentations: Mapped[list[Presentation]] = relationship(
        secondary=presentation_presenters, back_populates="presenters"
    )

    honorific = translated("honorific")
    bio = translated("bio")

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
    title_en: Mapped[str | None] = mapped_column("title", String(300))
    title_fr: Mapped[str | None] = mapped_column(String(300))
    #: Unit or programme inside the organisation ("Internet Child Exploitation Unit").
    unit_en: Mapped[str | None] = mapped_column("unit", String(300))
    unit_fr: Mapped[str | None] = mapped_column(String(300))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)

    presenter: Mapped[Presenter] = relationship(back_populates="roles")
    organisation: Mapped[Organisation | None] = relationship()

    title = translated("title")
    unit = translated("unit")

    def __str__(self) -> str:
        return ", ".join(p for p in (self.title, self.unit, self.organisation and self.organisation.name) if p)
