"""Reminders: one email per confirmed registrant, REMINDER_HOURS_BEFORE hours before the start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from portal.extensions import db
from portal.models import Registration, RegistrationStatus, Webinar, WebinarStatus
from portal.models.types import utcnow
from portal.services.registration import queue_reminder


@dataclass
class ReminderReport:
    webinars: int = 0
    queued: int = 0
    already_sent: int = 0

    def summary(self) -> str:
        return (f"reminders: {self.queued} queued, {self.already_sent} already queued before, "
                f"{self.webinars} webinars starting soon")


def due_registrations(now: datetime) -> list[Registration]:
    """Confirmed registrations of published webinars that start within the reminder window."""
    horizon = now + timedelta(hours=current_app.config["REMINDER_HOURS_BEFORE"])
    return list(db.session.scalars(
        select(Registration)
        .join(Registration.webinar)
        .join(Webinar.series)
        .where(
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.email.is_not(None),
            Webinar.status == WebinarStatus.PUBLISHED,
            Webinar.starts_at > now,
            Webinar.starts_at <= horizon,
        )
        .options(
            contains_eager(Registration.webinar).contains_eager(Webinar.series),
            contains_eager(Registration.webinar).selectinload(Webinar.presentations),
        )
        .order_by(Webinar.starts_at, Registration.id)
    ).unique())


def queue_due_reminders(now: datetime | None = None, progress: Callable[[str], None] | None = None) -> ReminderReport:
    """Safe to run as often as you like: the outbox's dedupe key makes each reminder once-only.

    Commits once per webinar, so a long run that is interrupted keeps what it queued.
    """
    now = now or utcnow()
    report = ReminderReport()
    current: Webinar | None = None
    for registration in due_registrations(now):
        if registration.webinar is not current:
            _finish(current, progress)
            current = registration.webinar
            report.webinars += 1
        if queue_reminder(registration):
            report.queued += 1
        else:
            report.already_sent += 1
    _finish(current, progress)
    return report


def _finish(webinar: Webinar | None, progress) -> None:
    if webinar is None:
        return
    db.session.commit()
    if progress:
        progress(f"  {webinar.slug}: done")


__all__ = ["ReminderReport", "due_registrations", "queue_due_reminders"]
