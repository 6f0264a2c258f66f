"""The identity of the organisation that runs this portal: its name, logo, colour and links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow


class SiteIdentity(db.Model):
    """At most one row (id 1); without it the settings' defaults apply.

    Kept in the database rather than only in settings so an administrator can change
    it from the dashboard without a deployment.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The organisation's name in the header signature, the title and emails.
    name_en: Mapped[str] = mapped_column(String(200), default="")
    name_fr: Mapped[str] = mapped_column(String(200), default="")
    #: PNG or SVG (checked: no scripts, no external references); empty for no logo.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: "image/png" or "image/svg+xml".
    logo_type: Mapped[str] = mapped_column(String(40), default="")
    #: Text alternative of the logo, what a screen reader says in its place.
    logo_alt_en: Mapped[str] = mapped_column(String(200), default="")
    logo_alt_fr: Mapped[str] = mapped_column(String(200), default="")
    #: "#rrggbb", at least 4.5:1 against white (text and buttons sit on it).
    accent: Mapped[str] = mapped_column(String(7), default="")
    #: The organisation's own pages in the footer; empty: the portal's page (privacy,
    #: accessibility) or no link (contact, terms).
    privacy_url_en: Mapped[str] = mapped_column(String(500), default="")
    privacy_url_fr: Mapped[str] = mapped_column(String(500), default="")
    accessibility_url_en: Mapped[str] = mapped_column(String(500), default="")
    accessibility_url_fr: Mapped[str] = mapped_column(String(500), default="")
    contact_url_en: Mapped[str] = mapped_column(String(500), default="")
    contact_url_fr: Mapped[str] = mapped_column(String(500), default="")
    terms_url_en: Mapped[str] = mapped_column(String(500), default="")
    terms_url_fr: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
