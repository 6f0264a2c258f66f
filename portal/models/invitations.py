"""Personal invitations to a webinar whose audience is ``invitation``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.events import Webinar
from portal.models.registrations import Registration
from portal.models.types import UTCDateTime, utcnow


class Invitation(db.Model):
    """One person invited to one webinar; the emailed link works only for their address."""

    __table_args__ = (
        # One invitation per person and webinar, whatever the case of the email.
        Index("uq_invitation_webinar_email", "webinar_id", "email_normalised", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"), index=True)
    #: As the organiser gave it; empty once purged.
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    #: Lower-cased form the registration's email must equal; empty once purged.
    email_normalised: Mapped[str | None] = mapped_column(String(254))
    #: SHA-256 of the link's secret (an HMAC, derivable again to resend; see ``invitations.invitation_token``).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The registration made with it, once used.
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="SET NULL"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when an organiser withdrew the link: it no longer opens the form.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webinar: Mapped[Webinar] = relationship()
    registration: Mapped[Registration | None] = relationship()
