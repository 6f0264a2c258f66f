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

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import case, delete, func, insert, update

from portal.extensions import db
from portal.models import (
    AttendanceImport,
    AttendanceSource,
    Organiser,
    Registration,
    RegistrationStatus,
    UnmatchedAttendee,
    UnmatchedResolution,
    Webinar,
)
from portal.models.types import utcnow
from portal.services import attendance_reports as reports

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


# ---------------------------------------------------------------- importing a platform's report

#: Problems kept on the import for the organiser to read (all are counted).
MAX_PROBLEMS_KEPT = 100
#: Unmatched people kept for review; a report of strangers cannot fill the database.
MAX_UNMATCHED_KEPT = 2000
#: Below this similarity (0-100) no name is suggested.
SUGGESTION_CUTOFF = 60
GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def email_key(email: str | None, *, gmail_canonical: bool = False) -> str:
    """The form two addresses are compared in: trimmed and lower-cased.

    With ``gmail_canonical`` (setting ``ATTENDANCE_GMAIL_CANONICAL``), Gmail addresses also
    lose their dots and ``+tag`` (Gmail delivers ``j.doe+webinar@gmail.com`` to ``jdoe@gmail.com``);
    other providers treat those as different mailboxes, so they are left alone.
    """
    text = (email or "").strip().lower()
    if gmail_canonical and "@" in text:
        local, _, domain = text.rpartition("@")
        if domain in GMAIL_DOMAINS:
            return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return text


def person_key(email: str, name: str, *, gmail_canonical: bool = False) -> str:
    """How rows of one person are grouped: by email when the row has one, else by name."""
    if email:
        return "e:" + email_key(email, gmail_canonical=gmail_canonical)
    return "n:" + reports.folded(name)


def _gmail_setting() -> bool:
    return bool(current_app.config.get("ATTENDANCE_GMAIL_CANONICAL", False))


@dataclass
class _Read:
    people: dict[str, reports.PersonTotals]
    problems: list[dict]
    problem_count: int
    rows_read: int


def _read_people(report: reports.Report, gmail_canonical: bool) -> _Read:
    """One pass over the report: totals per person, and the problems (the first ones kept)."""
    people: dict[str, reports.PersonTotals] = {}
    problems: list[dict] = []
    problem_count = rows_read = 0
    for item in report.rows():
        rows_read += 1
        if isinstance(item, reports.Problem):
            problem_count += 1
            if len(problems) < MAX_PROBLEMS_KEPT:
                problems.append({"row": item.line, "reason": item.reason})
            continue
        if item.section == "absent":
            continue
        key = person_key(item.email, item.name, gmail_canonical=gmail_canonical)
        totals = people.get(key)
        if totals is None:
            totals = people[key] = reports.PersonTotals(item.name, item.email, item.line)
        totals.add(item)
    return _Read(people, problems, problem_count, rows_read)


def import_report(webinar: Webinar, stream: BinaryIO, *, filename: str = "", overrule_hand: bool = False,
                  organiser: Organiser | None = None, now: datetime | None = None,
                  gmail_canonical: bool | None = None) -> AttendanceImport:
    """Read a platform's report and replace the webinar's previous import with it (no commit).

    People are matched to registrations by email (``email_key``); those the organiser matched
    by hand on an earlier import of this webinar are matched again. Several rows of one
    registration are merged without counting overlaps twice. Hand-ticked check-ins keep their
    ``attended`` unless ``overrule_hand``. Raises ``AttendanceRefused`` before the start and
    ``ReportUnreadable`` for a file that cannot be used; nothing is changed then.
    """
    check_started(webinar, now=now)
    if gmail_canonical is None:
        gmail_canonical = _gmail_setting()
    report = reports.open_report(stream)
    read = _read_people(report, gmail_canonical)
    if not read.people:
        unreadable = reports.ReportUnreadable("no_people" if not read.problem_count else "no_usable_rows")
        unreadable.problems = read.problems
        raise unreadable

    registrations = db.session.execute(
        db.select(Registration.id, Registration.email_normalised, Registration.full_name, Registration.status,
                  Registration.attendance_source)
        .where(Registration.webinar_id == webinar.id, Registration.purged_at.is_(None))
    ).all()
    by_email = {email_key(r.email_normalised, gmail_canonical=gmail_canonical): r for r in registrations
                if r.email_normalised}
    by_id = {r.id: r for r in registrations}
    remembered = _confirmed_aliases(webinar, gmail_canonical)

    groups: dict[int, list[reports.PersonTotals]] = {}
    unmatched: list[reports.PersonTotals] = []
    for key, person in read.people.items():
        found = by_email.get(email_key(person.email, gmail_canonical=gmail_canonical)) if person.email else None
        registration_id = found.id if found else remembered.get(key)
        if registration_id in by_id:
            groups.setdefault(registration_id, []).append(person)
        else:
            unmatched.append(person)

    _forget_previous_import(webinar, overrule_hand)
    threshold = webinar.attendance_threshold
    updates = []
    for registration_id, people in groups.items():
        row = by_id[registration_id]
        minutes = reports.union_minutes(people)
        values = {"id": registration_id, "minutes_attended": minutes}
        if overrule_hand or row.attendance_source != AttendanceSource.HAND:
            values["attended"] = row.status != RegistrationStatus.CANCELLED and minutes > 0 and minutes >= threshold
            values["attendance_source"] = AttendanceSource.REPORT
        else:
            values["attended"] = None  # placeholder removed below: hand ticks keep theirs
        updates.append(values)
    _bulk_update(updates)

    receipt = AttendanceImport(
        webinar_id=webinar.id, organiser_id=organiser.id if organiser else None, filename=filename[:255],
        report_format=report.format, encoding=report.encoding, rows_read=read.rows_read,
        people_matched=len(groups), people_unmatched=len(unmatched), overruled_hand=overrule_hand,
        problems=read.problems or None, problem_count=read.problem_count,
    )
    db.session.add(receipt)
    db.session.flush()
    taken = set(groups)
    candidates = [r for r in registrations if r.id not in taken and r.full_name
                  and r.status != RegistrationStatus.CANCELLED]
    _keep_unmatched(receipt, webinar, unmatched[:MAX_UNMATCHED_KEPT], candidates)
    db.session.expire_all()
    return receipt


def _bulk_update(updates: list[dict]) -> None:
    """ORM bulk UPDATE by primary key, grouped by the columns each row sets."""
    with_decision = [u for u in updates if u["attended"] is not None]
    minutes_only = [{"id": u["id"], "minutes_attended": u["minutes_attended"]} for u in updates
                    if u["attended"] is None]
    for batch in (with_decision, minutes_only):
        for start in range(0, len(batch), 1000):
            db.session.execute(update(Registration), batch[start:start + 1000])


def _confirmed_aliases(webinar: Webinar, gmail_canonical: bool) -> dict[str, int]:
    """Report identities the organiser matched by hand on the previous import: matched again."""
    rows = db.session.execute(
        db.select(UnmatchedAttendee.email, UnmatchedAttendee.name, UnmatchedAttendee.registration_id)
        .where(UnmatchedAttendee.webinar_id == webinar.id,
               UnmatchedAttendee.resolution == UnmatchedResolution.CONFIRMED,
               UnmatchedAttendee.registration_id.is_not(None))
    ).all()
    return {person_key(email, name, gmail_canonical=gmail_canonical): registration_id
            for email, name, registration_id in rows}


def _forget_previous_import(webinar: Webinar, overrule_hand: bool) -> None:
    """A new report replaces the last one: its minutes, its decisions and its loose ends go."""
    db.session.execute(delete(UnmatchedAttendee).where(UnmatchedAttendee.webinar_id == webinar.id))
    db.session.execute(delete(AttendanceImport).where(AttendanceImport.webinar_id == webinar.id))
    db.session.execute(update(Registration).where(Registration.webinar_id == webinar.id)
                       .values(minutes_attended=None).execution_options(synchronize_session=False))
    decided_by = [AttendanceSource.REPORT, AttendanceSource.HAND] if overrule_hand else [AttendanceSource.REPORT]
    db.session.execute(update(Registration)
                       .where(Registration.webinar_id == webinar.id, Registration.attendance_source.in_(decided_by))
                       .values(attended=False, attendance_source=None)
                       .execution_options(synchronize_session=False))


# ---------------------------------------------------------------- people the report could not match

def _name_variants(name: str) -> list[str]:
    """The name, and what Zoom or Teams put in brackets ('Amélie (iPhone) (Amélie Tremblay)', '(Guest)')."""
    outside = reports.folded(re.sub(r"\([^)]*\)", " ", name))
    inside = [reports.folded(part) for part in re.findall(r"\(([^)]*)\)", name)]
    return [v for v in [outside, *inside] if v]


def _keep_unmatched(receipt: AttendanceImport, webinar: Webinar, people: list[reports.PersonTotals],
                    candidates: list) -> None:
    index: dict[str, list] = {}
    folded_names = {}
    for candidate in candidates:
        folded_name = reports.folded(candidate.full_name)
        folded_names[candidate.id] = folded_name
        for token in set(folded_name.split()):
            if len(token) > 1:
                index.setdefault(token, []).append(candidate)
    rows = []
    for person in people:
        suggestion, score = _suggest(person.name, index, folded_names)
        rows.append({
            "import_id": receipt.id, "webinar_id": webinar.id, "row_number": person.first_line,
            "name": person.name[:200], "email": person.email[:254], "minutes": reports.union_minutes([person]),
            "suggested_registration_id": suggestion, "suggestion_score": score,
            "resolution": UnmatchedResolution.OPEN,
        })
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(UnmatchedAttendee), rows[start:start + 1000])


def _suggest(name: str, index: dict[str, list], folded_names: dict[int, str]) -> tuple[int | None, int]:
    """The registration whose name is closest (accents, case and punctuation ignored), if close enough.

    Only registrations sharing a word with the name are compared, so a report of thousands
    of strangers against thousands of registrations stays fast.
    """
    best, best_score = None, 0
    for variant in _name_variants(name):
        seen = set()
        for token in set(variant.split()):
            for candidate in index.get(token, ()):
                if candidate.id in seen:
                    continue
                seen.add(candidate.id)
                score = round(100 * difflib.SequenceMatcher(None, variant, folded_names[candidate.id]).ratio())
                if score > best_score:
                    best, best_score = candidate.id, score
    if best_score < SUGGESTION_CUTOFF:
        return None, 0
    return best, best_score


def decide_from_minutes(registration: Registration) -> None:
    """``attended`` from the minutes, now that the report decides for this registration."""
    registration.attendance_source = AttendanceSource.REPORT
    registration.attended = (registration.status != RegistrationStatus.CANCELLED
                             and reaches_threshold(registration.minutes_attended, registration.webinar))


def confirm_match(unmatched: UnmatchedAttendee, registration: Registration) -> None:
    """The organiser says this report person is that registration: its minutes are added.

    The intervals are gone by now, so overlap with the registration's own rows cannot be
    removed; the organiser sees both figures before confirming.
    """
    if registration.webinar_id != unmatched.webinar_id:
        raise ValueError("registration of another webinar")
    registration.minutes_attended = (registration.minutes_attended or 0) + unmatched.minutes
    if registration.attendance_source != AttendanceSource.HAND:
        decide_from_minutes(registration)
    unmatched.resolution = UnmatchedResolution.CONFIRMED
    unmatched.registration_id = registration.id


def leave_unmatched(unmatched: UnmatchedAttendee) -> None:
    unmatched.resolution = UnmatchedResolution.LEFT


def use_report_for(registration: Registration) -> None:
    """Overrule a hand tick for one registration: the report's minutes decide from now on."""
    decide_from_minutes(registration)


# ---------------------------------------------------------------- figures for the dashboard

@dataclass
class Figures:
    """Attendance of one webinar's confirmed registrations, and the report's loose ends."""

    confirmed: int = 0
    attended: int = 0
    unmatched: int = 0

    @property
    def no_show(self) -> int:
        return self.confirmed - self.attended

    @property
    def rate(self) -> float | None:
        """Attended as a percentage of confirmed (one decimal); None without confirmed registrations."""
        return round(100 * self.attended / self.confirmed, 1) if self.confirmed else None


def figures(webinar_ids: list[int] | None = None) -> dict[int, Figures]:
    """{webinar_id: Figures} in two aggregate queries, whatever the number of registrations."""
    statement = (db.select(Registration.webinar_id, Registration.attended, func.count())
                 .where(Registration.status == RegistrationStatus.CONFIRMED)
                 .group_by(Registration.webinar_id, Registration.attended))
    open_rows = (db.select(UnmatchedAttendee.webinar_id, func.count())
                 .where(UnmatchedAttendee.resolution == UnmatchedResolution.OPEN)
                 .group_by(UnmatchedAttendee.webinar_id))
    if webinar_ids is not None:
        statement = statement.where(Registration.webinar_id.in_(webinar_ids))
        open_rows = open_rows.where(UnmatchedAttendee.webinar_id.in_(webinar_ids))
    result: dict[int, Figures] = {}
    for webinar_id, attended, number in db.session.execute(statement):
        entry = result.setdefault(webinar_id, Figures())
        entry.confirmed += number
        if attended:
            entry.attended += number
    for webinar_id, number in db.session.execute(open_rows):
        result.setdefault(webinar_id, Figures()).unmatched = number
    return result


@dataclass
class SectorFigures:
    sector: str | None
    confirmed: int
    attended: int

    @property
    def rate(self) -> float | None:
        return round(100 * self.attended / self.confirmed, 1) if self.confirmed else None


def by_sector(webinar_id: int | None = None, *, now: datetime | None = None) -> list[SectorFigures]:
    """Attendance rate per sector over the webinars that have started (one query), largest first."""
    attended = func.sum(case((Registration.attended.is_(True), 1), else_=0))
    statement = (
        db.select(Registration.sector, func.count(), attended)
        .join(Webinar, Webinar.id == Registration.webinar_id)
        .where(Registration.status == RegistrationStatus.CONFIRMED, Webinar.starts_at <= (now or utcnow()))
        .group_by(Registration.sector)
        .order_by(func.count().desc(), Registration.sector.asc().nulls_last())
    )
    if webinar_id is not None:
        statement = statement.where(Registration.webinar_id == webinar_id)
    return [SectorFigures(sector, int(total), int(came or 0)) for sector, total, came in db.session.execute(statement)]


def hand_ticks_the_report_disputes(webinar: Webinar):
    """A SELECT of hand-ticked registrations whose report minutes say otherwise (for the organiser to overrule)."""
    threshold = webinar.attendance_threshold
    reaches = (Registration.minutes_attended >= threshold) & (Registration.minutes_attended > 0)
    return (
        db.select(Registration)
        .where(Registration.webinar_id == webinar.id,
               Registration.attendance_source == AttendanceSource.HAND,
               Registration.minutes_attended.is_not(None),
               Registration.status != RegistrationStatus.CANCELLED,
               ((Registration.attended.is_(True)) & ~reaches) | ((Registration.attended.is_(False)) & reaches))
        .order_by(Registration.full_name, Registration.id)
    )
