"""Dates as people read them: in the series' zone, in the reader's language."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_name
from flask_babel import get_locale

#: How each interface language writes dates and times. The French catalogue is
#: Canada's (its Language-Team), so its dates are too: "13 h 00, heure normale
#: de l'Est" rather than France's "13:00, heure normale de l'Est nord-américain".
#: English keeps CLDR's default ("1:00 PM Eastern Daylight Time"), which Canadian
#: readers use too; CLDR's en_CA would say "Eastern Daylight Saving Time".
DATE_LOCALES = {"en": "en", "fr": "fr_CA"}


def _locale() -> Locale:
    return _parsed(DATE_LOCALES.get(str(get_locale() or "en"), "en"))


@functools.cache
def _parsed(identifier: str) -> Locale:
    return Locale.parse(identifier)


def browser_locale() -> str:
    """The same choice as a BCP 47 tag ("fr-CA"), for the script that writes the visitor's own time."""
    return str(_locale()).replace("_", "-")


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
    locale = _locale()
    pattern = str(locale.datetime_formats["long"]).format(
        f"{locale.time_formats['short'].pattern} z", locale.date_formats["long"].pattern
    )
    return format_datetime(moment, pattern, tzinfo=zone, locale=locale)


#: Dates in tables and lists, the way people write them: "2 Dec 2026, 09:43" / "2 déc. 2026, 09 h 43".
COMPACT_PATTERNS = {"en": "d MMM y, HH:mm", "fr": "d MMM y, HH 'h' mm"}


def compact(moment: datetime | None, zone: ZoneInfo, with_zone: bool = False) -> str:
    """A moment in the series' zone, short enough for a table cell; "" for none. ``with_zone``
    adds the zone's abbreviation ("EST") where series in several zones share a table."""
    if moment is None:
        return ""
    locale = _locale()
    pattern = COMPACT_PATTERNS.get(locale.language, COMPACT_PATTERNS["en"]) + (" z" if with_zone else "")
    return format_datetime(moment, pattern, tzinfo=zone, locale=locale)


def day_label(day) -> str:
    """A calendar day in a table: "2 Dec 2026" / "2 déc. 2026"."""
    return format_date(day, "d MMM y", locale=_locale())


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
