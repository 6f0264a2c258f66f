"""Who attended: marking it is an organiser's record of what happened, so it waits for the
webinar to be about to start (people join early: the join link shows ``JOIN_LINK_LEAD_MINUTES``
before the start, and check-in begins then)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _

from portal.models import Registration, RegistrationStatus, Webinar
from portal.models.types import utcnow


def marking_opens_at(webinar: Webinar) -> datetime:
    return webinar.starts_at - timedelta(minutes=current_app.config.get("JOIN_LINK_LEAD_MINUTES", 30))


def too_early(webinar: Webinar, now: datetime | None = None) -> str | None:
    """Why attendance cannot be marked yet, or None once it can."""
    if (now or utcnow()) >= marking_opens_at(webinar):
        return None
    from portal.dates import full_datetime

    return _("Attendance can be marked from %(when)s, when people start joining; this webinar has "
             "not started yet.", when=full_datetime(marking_opens_at(webinar), webinar.series.zone))


def refusal(registration: Registration, present: bool, now: datetime | None = None) -> str | None:
    """Why this registration's attendance stays as it is, or None when it may be set to ``present``."""
    if registration.status == RegistrationStatus.CANCELLED:
        return _("the registration is cancelled")
    if registration.attended == present:
        return _("already marked as attended") if present else _("already marked as not attended")
    return too_early(registration.webinar, now)
