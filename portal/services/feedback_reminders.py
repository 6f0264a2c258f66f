"""One feedback reminder, a few days before feedback closes, to attendees who have not answered.

``FEEDBACK_REMINDER_DAYS_BEFORE`` (default 3) days before a webinar's feedback
window closes, ``remind`` queues a reminder for each attended, confirmed
registration without an answer. The outbox key ``feedback_reminder:<id>``
makes it one reminder per registration, however often the command runs.
Functions here work in the caller's transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import FeedbackSubmission, Registration, RegistrationStatus, Webinar, WebinarStatus
from portal.models.bilingual import when_shown
from portal.models.types import utcnow
from portal.services import registration as registrations
from portal.services.feedback import FeedbackWindow, feedback_window
from portal.services.outbox import queue_email
from portal.web import absolute_url


def reminder_due(window: FeedbackWindow, now: datetime) -> bool:
    """From N days before the close (or the opening, if the window is shorter) until the close."""
    days = current_app.config["FEEDBACK_REMINDER_DAYS_BEFORE"]
    starts = max(window.closes_at - timedelta(days=days), window.opens_at)
    return starts <= now < window.closes_at


def webinars_to_remind(now: datetime | None = None) -> list[Webinar]:
    now = now or utcnow()
    ended = db.session.scalars(
        select(Webinar).where(Webinar.status == WebinarStatus.PUBLISHED, Webinar.starts_at <= now)
        .options(joinedload(Webinar.series)).order_by(Webinar.starts_at)
    )
    return [w for w in ended if reminder_due(feedback_window(w), now)]


@dataclass
class ReminderReport:
    webinar: Webinar
    queued: int = 0
    already: int = 0


def remind(webinar: Webinar, now: datetime | None = None) -> ReminderReport:
    report = ReminderReport(webinar)
    window = feedback_window(webinar)
    if not reminder_due(window, now or utcnow()):
        return report
    people = db.session.scalars(
        select(Registration)
        .outerjoin(FeedbackSubmission, FeedbackSubmission.registration_id == Registration.id)
        .where(Registration.webinar_id == webinar.id, Registration.status == RegistrationStatus.CONFIRMED,
               Registration.attended.is_(True), Registration.purged_at.is_(None), Registration.email.is_not(None),
               FeedbackSubmission.id.is_(None))
        .order_by(Registration.id)
    )
    for registration in people:
        token = registrations.manage_token(registration)
        language = registration.preferred_language or "en"
        queued = queue_email(
            kind="feedback_reminder",
            recipient=registration.email,
            subject=_l("Reminder: your feedback on %(title)s", title=when_shown(webinar, "title")),
            template="feedback_reminder",
            context={
                "registration": registration, "webinar": webinar, "closes_at": window.closes_at,
                "feedback_url": absolute_url("feedback.form", language=language, token=token),
                "manage_url": absolute_url("registration.manage", language=language, token=token),
                "webinar_url": absolute_url("public.webinar", language=language, slug=webinar.slug),
            },
            language=language,
            registration=registration,
            webinar=webinar,
            dedupe_key=f"feedback_reminder:{registration.id}",
        )
        if queued is None:
            report.already += 1
        else:
            report.queued += 1
    return report
