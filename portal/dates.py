"""Dates as people read them: in the series' zone, in the reader's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_name
from flask_babel import get_locale


def _locale() -> str:
    return str(get_locale() or "en")


def long_date(moment: datetime, zone: ZoneInfo) -> str:
    """'Friday, December 2, 2022' / 'vendredi 2 décembre 2022'."""
    return format_date(moment.astimezone(zone).date(), "full", locale=_locale())


def short_time(moment: datetime, zone: ZoneInfo) -> str:
    return format_time(moment.astimezone(zone), "short", tzinfo=zone, locale=_locale())


def zone_label(moment: datetime, zone: ZoneInfo) -> str:
    """The zone's name as a reader knows it ('Eastern Time'), not its IANA key."""
    return get_timezone_name(moment.astimezone(zone), width="long", uncommon=False,
                             locale=_locale(), return_zone=False)


def full_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """'December 2, 2022, 1:00 PM EST': the locale's long date, its short time (nobody
    schedules to the second) and the zone's abbreviation."""
    locale = Locale.parse(_locale())
    pattern = str(locale.datetime_formats["long"]).format(
        f"{locale.time_formats['short'].pattern} z", locale.date_formats["long"].pattern
    )
    return format_datetime(moment, pattern, tzinfo=zone, locale=locale)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
