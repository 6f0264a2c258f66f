"""The organiser's words for attendance refusals and report problems (codes stay in the services)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import dates
from portal.models import ReportFormat, Webinar
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


FORMAT_LABELS = {
    ReportFormat.ZOOM_MEETING: _l("Zoom meeting participant report"),
    ReportFormat.ZOOM_WEBINAR: _l("Zoom webinar attendee report"),
    ReportFormat.TEAMS_TSV: _l("Microsoft Teams attendance report (tab-separated download)"),
    ReportFormat.TEAMS_CSV: _l("Microsoft Teams attendance report (CSV)"),
    ReportFormat.WEBEX: _l("Webex attendee report"),
    ReportFormat.PLAIN: _l("Plain CSV (name, email, minutes)"),
}

UNREADABLE_LABELS = {
    "empty": _l("The file is empty."),
    "spreadsheet": _l("This is a spreadsheet workbook (.xlsx or .xls), not a CSV file. Download the report as "
                      "CSV from the platform, or save it as CSV from the spreadsheet program."),
    "binary": _l("This is not a text file: no attendance report could be read from it."),
    "unknown_format": _l("No table of participants was found. The portal reads the attendance reports of Zoom, "
                         "Microsoft Teams and Webex as they are downloaded, or a CSV file whose first line names "
                         "the columns name, email and minutes."),
    "not_csv": _l("The file could not be read as comma- or tab-separated text."),
    "no_people": _l("The report lists nobody who attended."),
    "no_usable_rows": _l("None of the report's rows could be used; nothing was changed."),
}


def format_label(report_format: ReportFormat | str) -> str:
    return str(FORMAT_LABELS.get(ReportFormat(report_format), report_format))


def unreadable_message(reason: str) -> str:
    return str(UNREADABLE_LABELS.get(reason, UNREADABLE_LABELS["unknown_format"]))
