"""Reading the attendance reports that Zoom, Microsoft Teams and Webex produce, as they
come out of each product, or a plain CSV of name, email and minutes.

The file is streamed: a 64 KiB sample decides the encoding (byte-order mark first,
then UTF-16 without one, UTF-8, else Windows-1252), the delimiter and the format;
then one csv reader walks the whole file through a text wrapper, one row at a time,
so a 50 000-row report never sits in memory. What is kept grows with the number of
people in the report, not with its rows (see ``PersonTotals``).

The format is recognised by content, never by the file name:

- Zoom meeting participant report: an optional block of meeting information
  (``Topic``, ``Meeting ID`` …) and then ``Name (Original Name), User Email, Join Time,
  Leave Time, Duration (Minutes) …``, one row per join.
- Zoom webinar attendee report: ``Attendee Report`` and its sections (``Host Details``,
  ``Panelist Details``, ``Attendee Details``, ``Other Attended``); hosts and panelists are
  left out, rows with ``Attended = No`` are registrants who never came.
- Teams attendance report: ``1. Summary`` / ``2. Participants`` / ``3. In-Meeting
  Activities`` sections, tab-separated UTF-16 (the classic download) or comma-separated
  UTF-8; the activities' join/leave rows are used when present, else the participants'
  total ``In-Meeting Duration`` (``1h 4m 24s``).
- Webex attendee report: ``Display Name, Attendee Email, Join Time, Leave Time,
  Attendance Duration …``.
- Plain: a header with a name, an email and minutes (``name,email,minutes``).

Every row that cannot be used becomes a ``Problem`` (its line number in the file and a
reason code); nothing here raises for a bad row. A file that cannot be read at all
raises ``ReportUnreadable`` with a reason code.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from portal.models import ReportFormat

SAMPLE_BYTES = 64 * 1024
MAX_CELL = 1000
#: csv refuses fields beyond this; a longer cell is one bad row, not a crash.
FIELD_LIMIT = 64 * 1024
#: After this many rows in a row that cannot be parsed as CSV at all, give up.
MAX_CONSECUTIVE_ERRORS = 1000


class ReportUnreadable(Exception):
    """The whole file cannot be used; ``reason`` is a code for the organiser's words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Row:
    """One usable row: who, and either a join/leave interval or a duration."""

    line: int
    name: str
    email: str
    joined: datetime | None = None
    left: datetime | None = None
    seconds: float | None = None
    #: Teams' per-person totals ("participants") are replaced by the join/leave rows
    #: ("activities") of the same person when the report has both.
    section: str = ""


@dataclass(slots=True)
class Problem:
    line: int
    reason: str


# ---------------------------------------------------------------- encoding and delimiter

_TEXT_BYTES = bytes([9, 10, 12, 13, 27, *range(32, 256)])


def detect_encoding(sample: bytes) -> tuple[str, int]:
    """(codec name, bytes of byte-order mark to skip) for a file starting with ``sample``."""
    if not sample.strip(b" \t\r\n\x00"):
        raise ReportUnreadable("empty")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    if sample.startswith(b"PK\x03\x04") or sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReportUnreadable("spreadsheet")
    if sample.startswith(b"%PDF"):
        raise ReportUnreadable("binary")
    nuls = sample.count(b"\x00")
    if nuls:
        even = sample[0::2].count(b"\x00")
        odd = sample[1::2].count(b"\x00")
        if nuls > len(sample) // 4 and odd > 0.9 * nuls:
            return "utf-16-le", 0
        if nuls > len(sample) // 4 and even > 0.9 * nuls:
            return "utf-16-be", 0
    # A stray control character in a text file (a hostile cell) is dropped while reading;
    # many of them mean the file is not text at all.
    if len(sample.translate(None, _TEXT_BYTES)) > len(sample) // 100:
        raise ReportUnreadable("binary")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252", 0
    return "utf-8", 0


def encoding_label(codec: str) -> str:
    return {"utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(codec, codec)


def detect_delimiter(lines: list[str]) -> str:
    """The separator found on most of the first lines (tab, comma, semicolon, in that order on a tie)."""
    counts = {d: sum(1 for line in lines if d in line) for d in ("\t", ",", ";")}
    best = max(counts.values())
    if best == 0:
        return ","
    return next(d for d in ("\t", ",", ";") if counts[d] == best)


# ---------------------------------------------------------------- cells

_CONTROL = dict.fromkeys(c for c in range(0x20) if c not in (0x09,))
_CONTROL.update({0x7F: None, 0x09: " "})


def clean(cell: str) -> str:
    """A cell as text a page can show: no control characters, no surrounding spaces, NFC."""
    text = cell.translate(_CONTROL)
    if not text.isprintable():
        text = "".join(c for c in text if c.isprintable() or c == " ")
    return unicodedata.normalize("NFC", text.replace("\u202f", " ").replace("\xa0", " ")).strip()


def folded(text: str) -> str:
    """Lower case without accents or punctuation, for comparing names and headers."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@.+-]+", " ", plain).split())


_HAS_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def looks_like_email(text: str) -> bool:
    return len(text) <= 254 and bool(_EMAIL.match(text))


# ---------------------------------------------------------------- durations and times

_DURATION_PART = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|mn|m|seconds?|secs?|sec|s)\b", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text: str, unit_seconds: int = 60) -> float | None:
    """Seconds from '65', '65.5' (in ``unit_seconds``), '1h 4m 24s', '58 mins', '1:04:24' or '45:10'."""
    text = text.strip().lower()
    if not text:
        return None
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", ".")) * unit_seconds
    if re.fullmatch(r"\d+:\d{1,2}(?::\d{1,2})?", text):
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 2:
            return parts[0] * 3600 + parts[1] * 60
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip(" ,"):
        return None
    return sum(float(n.replace(",", ".")) * _UNIT_SECONDS[unit[0]] for n, unit in parts)


_TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%m/%d/%y, %I:%M:%S %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%y, %H:%M:%S", "%m/%d/%Y, %H:%M:%S",
    "%m/%d/%y %I:%M:%S %p", "%m/%d/%y %I:%M %p",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d, %H:%M:%S",
    "%b %d, %Y %I:%M:%S %p", "%b %d, %Y %H:%M:%S", "%b %d, %Y %I:%M %p",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y, %H:%M:%S", "%d/%m/%y, %H:%M:%S",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
)
_ZONE_SUFFIX = re.compile(r"\s*(\(?(UTC|GMT)[+-]?[\d:]*\)?|[A-Z]{2,4}T)$")


#: The shapes Zoom, Teams and Webex write in English (3/10/26, 1:05:00 PM; 03/10/2026 01:05 PM;
#: 2026-03-10 13:05:00), read without strptime, which costs five times as much per row.
_US_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AaPp])[Mm])?")
_ISO_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")


def _quick_time(text: str) -> datetime | None:
    match = _US_TIME.fullmatch(text)
    if match:
        month, day, year, hour, minute, second, half = match.groups()
        year_number = int(year) + (2000 if len(year) == 2 else 0)
        hour_number = int(hour)
        if half:
            if not 1 <= hour_number <= 12:
                return None
            hour_number = hour_number % 12 + (12 if half in "Pp" else 0)
        try:
            return datetime(year_number, int(month), int(day), hour_number, int(minute), int(second or 0))
        except ValueError:
            return None  # perhaps day/month: the slower formats below try that
    match = _ISO_TIME.fullmatch(text)
    if match:
        year, month, day, hour, minute, second = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            return None
    return None


class TimeReader:
    """Parses one file's times, trying first the format that worked last (a file is consistent)."""

    def __init__(self) -> None:
        self.last: str | None = None

    def __call__(self, text: str) -> datetime | None:
        text = _ZONE_SUFFIX.sub("", text.strip().replace("\u202f", " ").replace("\xa0", " "))
        if not text:
            return None
        quick = _quick_time(text)
        if quick is not None:
            return quick
        formats = (self.last, *_TIME_FORMATS) if self.last else _TIME_FORMATS
        for fmt in formats:
            try:
                moment = datetime.strptime(text, fmt)  # noqa: DTZ007 (one file, one zone: only differences count)
            except ValueError:
                continue
            self.last = fmt
            return moment
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment.replace(tzinfo=None)


# ---------------------------------------------------------------- headers

#: Column roles and the header words that name them (compared folded: lower case, no accents).
COLUMN_WORDS = {
    "name": ("name", "name (original name)", "user name (original name)", "display name", "full name",
             "participant", "participant name", "attendee name", "attendee", "nom", "nom complet",
             "nom (nom d origine)", "participant display name"),
    "first_name": ("first name", "prenom"),
    "last_name": ("last name", "nom de famille"),
    "email": ("email", "e-mail", "user email", "email address", "attendee email", "participant email",
              "courriel", "adresse courriel", "adresse e-mail", "mail"),
    "upn": ("participant id (upn)", "upn", "user principal name"),
    "join": ("join time", "joined", "join", "joined at", "heure d arrivee", "heure de participation"),
    "leave": ("leave time", "left", "leave", "left at", "heure de depart"),
    "first_join": ("first join", "first join time", "premiere arrivee"),
    "last_leave": ("last leave", "last leave time", "dernier depart"),
    "minutes": ("minutes", "duration (minutes)", "time in session (minutes)", "minutes attended",
                "duree (minutes)", "attended minutes"),
    "duration": ("duration", "in-meeting duration", "attendance duration", "in meeting duration",
                 "time in session", "total duration", "duree", "duree de la reunion"),
    "attended": ("attended", "a assiste"),
}
_WORD_ROLE = {folded(word): role for role, words in COLUMN_WORDS.items() for word in words}
#: Header words of a block of meeting information rather than a table of people.
META_WORDS = {folded(w) for w in ("topic", "meeting id", "webinar id", "meeting number", "start time",
                                  "actual start time", "meeting title", "report generated:", "# registered")}


def header_roles(cells: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, cell in enumerate(cells):
        role = _WORD_ROLE.get(folded(cell))
        if role and role not in roles:
            roles[role] = index
    return roles


def is_people_header(cells: list[str], roles: dict[str, int]) -> bool:
    """A table of people: someone (name or email) and something to measure time with."""
    who = "name" in roles or "email" in roles or "first_name" in roles
    time = any(r in roles for r in ("join", "minutes", "duration"))
    if not (who and time):
        return False
    # Zoom's meeting block (Topic, Meeting ID, Start Time, User Email, Duration (Minutes)) is not people.
    return "join" in roles or not any(folded(c) in META_WORDS for c in cells)


# ---------------------------------------------------------------- the report

_SECTION = re.compile(r"^\s*(\d+\.\s*)?(summary|participants|in-meeting activities|host details|panelist details|"
                      r"attendee details|other attended|attendee report|panelist report|"
                      r"resume|participants|activites pendant la reunion)\s*:?$", re.IGNORECASE)
_SKIPPED_SECTIONS = {"summary", "host details", "panelist details", "resume", "attendee report", "panelist report"}


@dataclass
class Report:
    """An opened report: what was recognised, and its rows as a stream."""

    format: ReportFormat
    encoding: str
    delimiter: str
    _text: io.TextIOBase = field(repr=False)

    def rows(self) -> Iterator[Row | Problem]:
        """Every usable row or problem, in file order; reads the file once, line by line."""
        reader = csv.reader(_without_nul(self._text), delimiter=self.delimiter)
        times = TimeReader()
        roles: dict[str, int] | None = None
        width = 0
        section = ""
        skipping = False
        errors_in_a_row = 0
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error:
                errors_in_a_row += 1
                if errors_in_a_row > MAX_CONSECUTIVE_ERRORS:
                    raise ReportUnreadable("not_csv") from None
                yield Problem(reader.line_num, "too_long")
                continue
            errors_in_a_row = 0
            line = reader.line_num
            cells = [c.strip() for c in raw]
            non_empty = [c for c in cells if c]
            if not non_empty:
                continue
            title = _SECTION.match(clean(non_empty[0])) if len(non_empty) == 1 else None
            if title:
                name = title.group(2).lower()
                skipping = name in _SKIPPED_SECTIONS
                section = "activities" if "activit" in name else ("participants" if name == "participants" else "")
                roles = None
                continue
            # Headers carry no digits (data rows always do: times, minutes): most rows skip the look-up.
            if roles is None or not _HAS_DIGIT.search("".join(cells)):
                found = header_roles(cells)
                if is_people_header(cells, found):
                    roles, width = found, len(cells)
                    continue
            if roles is None or skipping:
                continue  # meeting information, summaries, hosts and panelists
            yield _row(line, cells, roles, width, section, times)

    @property
    def label(self) -> str:
        return self.format.value


def _without_nul(text: io.TextIOBase) -> Iterator[str]:
    for line in text:
        yield line.replace("\x00", "") if "\x00" in line else line


def _cell(cells: list[str], roles: dict[str, int], role: str) -> str:
    index = roles.get(role)
    if index is None or index >= len(cells):
        return ""
    return cells[index]


def _row(line: int, cells: list[str], roles: dict[str, int], width: int, section: str,
         times: TimeReader) -> Row | Problem:
    if any(len(c) > MAX_CELL for c in cells):
        return Problem(line, "too_long")
    if any("\ufffd" in c for c in cells):
        return Problem(line, "unreadable_characters")
    if len(cells) < min(width, max(roles.values()) + 1):
        return Problem(line, "short_row")
    if "attended" in roles and folded(_cell(cells, roles, "attended")) in ("no", "non", "false"):
        return _absent(line)
    name = clean(_cell(cells, roles, "name"))
    if not name:
        name = clean(" ".join(p for p in (_cell(cells, roles, "first_name"), _cell(cells, roles, "last_name")) if p))
    given = clean(_cell(cells, roles, "email"))
    email = given if looks_like_email(given) else ""
    if not email:
        upn = clean(_cell(cells, roles, "upn"))
        email = upn if looks_like_email(upn) else ""
    if not email and not name:
        return Problem(line, "bad_email" if given else "no_identity")
    name = name[:200]
    joined_text, left_text = _cell(cells, roles, "join"), _cell(cells, roles, "leave")
    if joined_text or left_text:
        joined, left = times(joined_text), times(left_text)
        if joined and left:
            if left < joined:
                return Problem(line, "leave_before_join")
            return Row(line, name, email, joined=joined, left=left, section=section)
    if "minutes" in roles:
        text, unit = _cell(cells, roles, "minutes"), 60
    else:
        text, unit = _cell(cells, roles, "duration"), 60
    if text:
        seconds = parse_duration(text, unit)
        if seconds is None or seconds < 0:
            return Problem(line, "bad_minutes")
        return Row(line, name, email, seconds=seconds, section=section)
    if joined_text or left_text:
        return Problem(line, "bad_time")
    return Problem(line, "no_minutes")


def _absent(line: int) -> Row:
    """A registrant listed as not attended (Zoom's ``Attended = No``): no time, no problem."""
    return Row(line, "", "", seconds=None, section="absent")


# ---------------------------------------------------------------- opening

def open_report(stream: BinaryIO) -> Report:
    """Recognise the report in ``stream`` (binary, seekable) and return it ready to stream.

    Raises ``ReportUnreadable`` with ``empty``, ``spreadsheet``, ``binary`` or ``unknown_format``.
    """
    start = stream.tell() if stream.seekable() else 0
    sample = stream.read(SAMPLE_BYTES)
    codec, bom = detect_encoding(sample)
    stream.seek(start + bom)
    text_sample = sample[bom:].decode(codec, errors="replace")
    lines = [line for line in text_sample.splitlines()[:60] if line.strip()]
    if len(text_sample) == SAMPLE_BYTES and lines:
        lines = lines[:-1] or lines  # the last line of a cut sample may be partial
    delimiter = detect_delimiter(lines)
    report_format = detect_format(lines, delimiter)
    csv.field_size_limit(FIELD_LIMIT)
    text = io.TextIOWrapper(_Unclosable(stream), encoding=codec, errors="replace", newline="")
    return Report(report_format, encoding_label(codec), delimiter, text)


def _folded_set(*words: str) -> set[str]:
    return {folded(w) for w in words}


TEAMS_SECTIONS = {"summary", "participants", "in-meeting activities", "resume"}
TEAMS_COLUMNS = _folded_set("In-Meeting Duration", "First Join", "Participant ID (UPN)")
ZOOM_WEBINAR_SECTIONS = {"attendee report", "attendee details", "host details", "panelist details"}
ZOOM_WEBINAR_COLUMNS = _folded_set("Time in Session (minutes)")
ZOOM_MEETING_COLUMNS = _folded_set("Name (Original Name)", "User Name (Original Name)")
ZOOM_MEETING_META = _folded_set("Meeting ID", "Topic")
WEBEX_COLUMNS = _folded_set("Attendance Duration", "Attendee Email")


def detect_format(lines: list[str], delimiter: str) -> ReportFormat:
    """Which product wrote these first lines (section titles and column names, never the file name)."""
    rows = list(csv.reader(lines, delimiter=delimiter))
    titles = set()
    for row in rows:
        cells = [c for c in row if c.strip()]
        match = _SECTION.match(clean(cells[0])) if len(cells) == 1 else None
        if match:
            titles.add(match.group(2).lower())
    everything = {folded(clean(c)) for r in rows for c in r if c.strip()}
    header = next((r for r in rows if is_people_header(r, header_roles(r))), None)
    if header is None:
        raise ReportUnreadable("unknown_format")
    columns = {folded(c) for c in header}
    if TEAMS_SECTIONS & titles or TEAMS_COLUMNS & columns:
        return ReportFormat.TEAMS_TSV if delimiter == "\t" else ReportFormat.TEAMS_CSV
    if ZOOM_WEBINAR_SECTIONS & titles or ZOOM_WEBINAR_COLUMNS & columns:
        return ReportFormat.ZOOM_WEBINAR
    if ZOOM_MEETING_COLUMNS & columns or ZOOM_MEETING_META & everything:
        return ReportFormat.ZOOM_MEETING
    if WEBEX_COLUMNS & columns:
        return ReportFormat.WEBEX
    return ReportFormat.PLAIN


class _Unclosable(io.RawIOBase):
    """Lets a TextIOWrapper read the upload without closing it when the wrapper goes away."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:  # the upload belongs to the request
        pass


# ---------------------------------------------------------------- totals per person

@dataclass(slots=True)
class PersonTotals:
    """What the report says about one person: merged intervals and durations.

    Intervals are merged as they arrive (sorted insert, overlaps joined), so a person
    who joined 200 times from two devices costs a handful of intervals, not 200.
    """

    name: str
    email: str
    first_line: int
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)
    seconds: float = 0.0
    summary_seconds: float = 0.0

    def add(self, row: Row) -> None:
        if row.joined is not None and row.left is not None:
            self.intervals = merge_intervals([*self.intervals, (row.joined, row.left)])
        elif row.section == "participants":
            self.summary_seconds += row.seconds or 0.0
        else:
            self.seconds += row.seconds or 0.0
        if not self.name and row.name:
            self.name = row.name
        if not self.email and row.email:
            self.email = row.email

    def total_seconds(self) -> float:
        spans = sum((end - start).total_seconds() for start, end in self.intervals)
        if spans or self.seconds:
            return spans + self.seconds
        return self.summary_seconds


def merge_intervals(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of ``intervals`` as sorted, disjoint intervals (touching ones joined)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def union_minutes(people: list[PersonTotals]) -> int:
    """Whole minutes (rounded down) for several report identities of one registration, overlaps once."""
    intervals = merge_intervals([i for p in people for i in p.intervals])
    spans = sum((end - start).total_seconds() for start, end in intervals)
    extra = sum(p.seconds for p in people)
    if not spans and not extra:
        extra = sum(p.summary_seconds for p in people)
    return int((spans + extra) // 60)
