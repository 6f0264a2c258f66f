"""The organiser's words for attendance refusals and report problems (codes stay in the services)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import dates
from portal.models import Webinar
from portal.services.attendance import CHECKIN_LEAD


def refusal_message(reason: str, webinar: Webinar) -> str:
    if reason == "not_started":
        opens = dates.full_datetime(webinar.starts_at - CHECKIN_LEAD, webinar.series.zone)
        starts = dates.full_datetime(webinar.starts_at, webinar.series.zone)
        return _("This webinar has not started yet (it starts %(starts)s): attendance cannot be recorded "
                 "before then. Check-in at the door opens at %(opens)s.", starts=starts, opens=opens)
    if reason == "cancelled":
        return _("This webinar was cancelled: there is no attendance to record.")
    return _("Attendance cannot be recorded now.")


#: Why a row of a report could not be used (codes from portal.services.attendance_reports).
PROBLEM_LABELS = {
    "no_identity": _l("neither an email nor a name"),
    "no_minutes": _l("no duration and no readable join and leave times"),
    "bad_minutes": _l("the duration is not a number of minutes"),
    "bad_time": _l("a join or leave time could not be read"),
    "leave_before_join": _l("left before joining"),
    "bad_email": _l("the email address is not valid"),
    "unreadable_characters": _l("characters that are not in the file's encoding"),
    "too_long": _l("a cell longer than 1 000 characters"),
    "short_row": _l("fewer cells than the table's header"),
}


def problem_label(code: str) -> str:
    return str(PROBLEM_LABELS.get(code, code))
