"""Who attended a webinar: minutes from the platform's report, a threshold, and hand ticks.

The rules, written once here for the pages, the commands and the follow-up:

- ``Registration.minutes_attended`` holds what the last imported report says
  (several join/leave rows of one person merged, overlaps counted once).
- ``attended`` is kept right at every change: a registration attended when its
  minutes reach the webinar's threshold (``Webinar.attendance_threshold``: the
  organiser's figure, or half the duration), unless a hand tick on the check-in
  page decided otherwise (``attendance_source == HAND``), which stands until an
  organiser explicitly overrules it with an import.
- Cancelled registrations never count as attended.
- Nothing about attendance can be recorded before the webinar has started
  (check-in at the door opens ``CHECKIN_LEAD`` before the start).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, update

from portal.extensions import db
from portal.models import AttendanceSource, Registration, RegistrationStatus, Webinar
from portal.models.types import utcnow

#: Doors open a little before the start: hand check-in is accepted from then on.
CHECKIN_LEAD = timedelta(minutes=60)
#: An organiser's threshold cannot exceed a day (it is compared with minutes attended).
MAX_THRESHOLD_MINUTES = 24 * 60


class AttendanceRefused(Exception):
    """Attendance cannot be recorded now; ``reason`` is a code the views turn into words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def has_attended(registration: Registration) -> bool:
    """True when this registration counts as attended (for certificates and follow-up).

    Reads the kept ``attended`` flag: every change of minutes, threshold or hand tick
    goes through this module, which keeps the flag right.
    """
    return bool(registration.attended) and registration.status != RegistrationStatus.CANCELLED


def attendance_is_final(webinar: Webinar) -> bool:
    return webinar.attendance_final_at is not None


def reaches_threshold(minutes: int | None, webinar: Webinar) -> bool:
    return minutes is not None and minutes >= webinar.attendance_threshold and minutes > 0


def check_started(webinar: Webinar, *, now: datetime | None = None, lead: timedelta = timedelta(0)) -> None:
    """Raise ``AttendanceRefused("not_started")`` before ``webinar.starts_at - lead``."""
    if (now or utcnow()) < webinar.starts_at - lead:
        raise AttendanceRefused("not_started")
    if webinar.status.value == "cancelled":
        raise AttendanceRefused("cancelled")


def mark_by_hand(registration: Registration, present: bool, *, now: datetime | None = None) -> bool:
    """Record a hand tick (check-in page, bulk action); True when something changed.

    A hand tick is authoritative: a later import keeps it unless told to overrule.
    """
    check_started(registration.webinar, now=now, lead=CHECKIN_LEAD)
    if registration.status == RegistrationStatus.CANCELLED:
        return False
    changed = registration.attended != present or registration.attendance_source != AttendanceSource.HAND
    registration.attended = present
    registration.attendance_source = AttendanceSource.HAND
    return changed


def set_threshold(webinar: Webinar, minutes: int | None) -> None:
    """Change the threshold (``None``: half the duration) and re-decide every registration
    whose attendance came from a report. Hand ticks are left alone."""
    if minutes is not None and not 0 <= minutes <= MAX_THRESHOLD_MINUTES:
        raise ValueError("threshold out of range")
    webinar.attendance_threshold_minutes = minutes
    db.session.flush()
    recompute_from_minutes(webinar)


def recompute_from_minutes(webinar: Webinar) -> None:
    """One UPDATE: ``attended`` from the minutes for every report-decided registration."""
    threshold = webinar.attendance_threshold
    db.session.execute(
        update(Registration)
        .where(Registration.webinar_id == webinar.id,
               Registration.attendance_source == AttendanceSource.REPORT)
        .values(attended=case(
            ((Registration.status != RegistrationStatus.CANCELLED)
             & (Registration.minutes_attended >= threshold) & (Registration.minutes_attended > 0), True),
            else_=False,
        ))
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def mark_final(webinar: Webinar, final: bool = True) -> None:
    """Say attendance is complete (or reopen it): certificates and the follow-up wait for this."""
    if final:
        check_started(webinar)
    webinar.attendance_final_at = utcnow() if final else None
