"""iCalendar files for webinars: one event per webinar, or the whole programme.

The same bytes are served at ``/webinars/<slug>.ics`` and attached to
confirmation emails, so a registrant's calendar entry and the public one
share a UID and are updated in place when the webinar changes (SEQUENCE
follows ``Webinar.schedule_version``).

Callers pass webinars with ``series`` and ``presentations → presenters →
roles → organisation`` already loaded when they build many at once; this
module issues no queries of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

from portal.content_language import plain
from portal.models import Presenter, Webinar, WebinarStatus
from portal.models.bilingual import shown
from portal.models.types import utcnow
from portal.web import absolute_url

PRODID = "-//Webinar portal//EN"
ALARM_BEFORE = timedelta(minutes=15)


def webinar_uid(webinar: Webinar) -> str:
    """Stable for the webinar's life: it depends only on its id and the portal's address."""
    host = urlsplit(current_app.config["PORTAL_BASE_URL"]).hostname or "localhost"
    return f"webinar-{webinar.id}@{host}"


def webinar_calendar(webinar: Webinar) -> bytes:
    """A calendar holding the one event (METHOD:PUBLISH), ready to serve or attach."""
    calendar = _new_calendar()
    calendar.add("x-wr-calname", plain(webinar, "title"))
    calendar.add_component(_event(webinar))
    return calendar.to_ical()


def programme_calendar(webinars: Iterable[Webinar]) -> bytes:
    """A subscribable calendar of several webinars (the caller decides which are public)."""
    calendar = _new_calendar()
    calendar.add("x-wr-calname", _("Webinars"))
    for webinar in webinars:
        calendar.add_component(_event(webinar))
    return calendar.to_ical()


def _new_calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def _event(webinar: Webinar) -> Event:
    url = absolute_url("public.webinar", slug=webinar.slug)
    cancelled = webinar.status == WebinarStatus.CANCELLED
    stamp = webinar.updated_at or utcnow()

    event = Event()
    event.add("uid", webinar_uid(webinar))
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("dtstart", webinar.starts_at)
    event.add("dtend", webinar.ends_at)
    # The title is in the reader's language, else the other one with a note, and then LANGUAGE
    # (RFC 5545 3.2.10) names the other language so a calendar can read it in the right voice.
    title = plain(webinar, "title")
    found = shown(webinar, "title")
    event.add("summary", _("Cancelled: %(title)s", title=title) if cancelled else title,
              parameters={"LANGUAGE": found.lang} if found.is_fallback else None)
    event.add("description", _description(webinar, url))
    event.add("url", url)
    event.add("location", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", webinar.schedule_version or 0)
    event.add("transp", "OPAQUE")
    if not cancelled:
        event.add_component(_alarm(webinar))
    return event


def _alarm(webinar: Webinar) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Starts in 15 minutes: %(title)s", title=plain(webinar, "title")))
    alarm.add("trigger", -ALARM_BEFORE)
    return alarm


def _description(webinar: Webinar, url: str) -> str:
    lines: list[str] = []
    if webinar.status == WebinarStatus.CANCELLED:
        lines += [_("This webinar has been cancelled."), ""]
    if webinar.description:
        lines += [plain(webinar, "description").strip(), ""]
    if webinar.presentations:
        lines.append(_("Presentations:"))
        for number, presentation in enumerate(webinar.presentations, start=1):
            lines.append(f"{number}. {plain(presentation, 'title')}")
            lines += [f"   {_presenter_line(presenter)}" for presenter in presentation.presenters]
        lines.append("")
    lines.append(_("Details: %(url)s", url=url))
    return "\n".join(lines)


def _presenter_line(presenter: Presenter) -> str:
    roles = "; ".join(_role_text(role) for role in presenter.roles if str(role))
    return f"{presenter.display_name} ({roles})" if roles else presenter.display_name


def _role_text(role) -> str:
    parts = [plain(role, "title"), plain(role, "unit"), plain(role.organisation, "name")]
    return ", ".join(part for part in parts if part)
