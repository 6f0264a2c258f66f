"""Sign-up figures for the dashboard, computed in SQL.

Each function is one aggregate query whatever the number of registrations,
so the overview costs the same with ten sign-ups or a hundred thousand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import (
    Answer,
    FeedbackResponse,
    FeedbackSubmission,
    Registration,
    RegistrationStatus,
    Sector,
    Webinar,
)
from portal.search import clean_query, query_words
from portal.services import accessibility_needs


@dataclass
class Counts:
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    #: Awaiting an organiser's decision, and refused (approval, restricted and invitation webinars).
    pending: int = 0
    declined: int = 0
    attended: int = 0
    feedback: int = 0
    #: Feedback responses given by registrations marked attended.
    feedback_attended: int = 0

    @property
    def total(self) -> int:
        return self.confirmed + self.waitlisted + self.cancelled + self.pending + self.declined

    @property
    def feedback_rate_attended(self) -> float | None:
        """Share of attendees who answered the feedback, in percent (``None`` without attendees)."""
        return round(100 * self.feedback_attended / self.attended, 1) if self.attended else None


@dataclass
class WebinarFigures:
    webinar: Webinar
    counts: Counts

    @property
    def seats_label(self) -> str:
        capacity = self.webinar.capacity
        return f"{self.counts.confirmed} / {capacity}" if capacity else f"{self.counts.confirmed} / ∞"


def webinar_counts(webinar_ids: list[int] | None = None) -> dict[int, Counts]:
    """{webinar_id: Counts}, in two aggregate queries (registrations, feedback).

    Registrations are counted per (webinar, attended, status): a few rows per
    webinar, read from a covering index, folded together here. The GROUP BY
    follows the index's column order so PostgreSQL aggregates the rows as the
    index hands them over instead of hashing every one (11 ms instead of 21 ms
    for 100 000 rows).
    """
    statement = db.select(
        Registration.webinar_id, Registration.status, Registration.attended, func.count()
    ).group_by(Registration.webinar_id, Registration.attended, Registration.status)
    feedback = (
        db.select(FeedbackResponse.webinar_id, func.count(),
                  func.sum(case((Registration.attended.is_(True), 1), else_=0)))
        .outerjoin(FeedbackSubmission, FeedbackSubmission.response_id == FeedbackResponse.id)
        .outerjoin(Registration, Registration.id == FeedbackSubmission.registration_id)
        .group_by(FeedbackResponse.webinar_id)
    )
    if webinar_ids is not None:
        statement = statement.where(Registration.webinar_id.in_(webinar_ids))
        feedback = feedback.where(FeedbackResponse.webinar_id.in_(webinar_ids))
    counts: dict[int, Counts] = {}
    for webinar_id, status, attended, number in db.session.execute(statement):
        entry = counts.setdefault(webinar_id, Counts())
        setattr(entry, status.value, getattr(entry, status.value) + number)
        if attended:
            entry.attended += number
    for webinar_id, responses, from_attendees in db.session.execute(feedback):
        entry = counts.setdefault(webinar_id, Counts())
        entry.feedback = int(responses)
        entry.feedback_attended = int(from_attendees or 0)
    return counts


def overview() -> list[WebinarFigures]:
    """Every webinar (latest first) with its figures: three queries in all."""
    webinars = db.session.scalars(
        db.select(Webinar).join(Webinar.series).options(joinedload(Webinar.series))
        .order_by(Webinar.starts_at.desc(), Webinar.id)
    ).all()
    counts = webinar_counts()
    return [WebinarFigures(w, counts.get(w.id, Counts())) for w in webinars]


def needs_by_webinar(webinar_ids: list[int]) -> dict[int, Counter]:
    """{webinar_id: Counter of need kinds} over registrations holding or awaiting a seat;
    one query (only rows with something written in the field)."""
    if not webinar_ids:
        return {}
    rows = db.session.execute(
        db.select(Registration.webinar_id, Registration.accessibility_needs)
        .where(Registration.webinar_id.in_(webinar_ids),
               Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]),
               Registration.accessibility_needs.is_not(None), Registration.accessibility_needs != "")
    )
    found: dict[int, Counter] = {}
    for webinar_id, text in rows:
        found.setdefault(webinar_id, Counter()).update(accessibility_needs.kinds_in(text))
    return found


def _scoped(statement, webinar_id: int | None):
    if webinar_id is not None:
        statement = statement.where(Registration.webinar_id == webinar_id)
    return statement


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def per_day(webinar_id: int | None = None) -> list[tuple[date, int, int]]:
    """(day, sign-ups that day, cumulative) for every day from the first to the last sign-up (UTC days)."""
    day = func.date(Registration.created_at)
    rows = db.session.execute(_scoped(db.select(day, func.count()).group_by(day).order_by(day), webinar_id)).all()
    if not rows:
        return []
    by_day = {_as_date(d): n for d, n in rows}
    first, last = min(by_day), max(by_day)
    result, total, current = [], 0, first
    while current <= last:
        count = by_day.get(current, 0)
        total += count
        result.append((current, count, total))
        current += timedelta(days=1)
    return result


def by_column(column, webinar_id: int | None = None) -> list[tuple[str | None, int]]:
    """Active registrations grouped by ``column`` (sector, region), largest first."""
    statement = (
        db.select(column, func.count())
        .where(Registration.status != RegistrationStatus.CANCELLED)
        .group_by(column)
        .order_by(func.count().desc(), column.asc().nulls_last())  # NULL sorts first on SQLite, last on PostgreSQL
    )
    return [(value, n) for value, n in db.session.execute(_scoped(statement, webinar_id))]


def by_sector(webinar_id: int | None = None):
    return by_column(Registration.sector, webinar_id)


def by_region(webinar_id: int | None = None):
    return by_column(Registration.region, webinar_id)


# ---------------------------------------------------------------- one webinar's registrations

PAGE_SIZE = 50
SORTS = {
    "newest": (Registration.created_at.desc(), Registration.id.desc()),
    "oldest": (Registration.created_at, Registration.id),
    "name": (func.lower(Registration.full_name), Registration.id),
    "organisation": (func.lower(Registration.organisation_name), Registration.id),
    "status": (Registration.status, Registration.created_at, Registration.id),
}


@dataclass
class RegistrationFilters:
    """What the registrations page and its CSV export select; built from the query string."""

    q: str = ""
    status: str = ""
    sector: str = ""
    attended: str = ""  # "", "yes", "no"
    #: "question id:choice code": registrations that gave that answer to one of the organisers' questions.
    answer: str = ""
    need: str = ""  # a kind from accessibility_needs.KIND_LABELS
    sort: str = "newest"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> RegistrationFilters:
        status = args.get("status", "")
        sector = args.get("sector", "")
        attended = args.get("attended", "")
        answer = args.get("answer", "")
        need = args.get("need", "")
        sort = args.get("sort", "newest")
        try:
            page = max(1, min(int(args.get("page", 1)), 100_000))
        except (TypeError, ValueError):
            page = 1
        return cls(
            q=clean_query(args.get("q")),
            status=status if status in {s.value for s in RegistrationStatus} else "",
            sector=sector if sector in {s.value for s in Sector} else "",
            attended=attended if attended in {"yes", "no"} else "",
            answer=answer if _ANSWER_FILTER.match(answer) else "",
            need=need if need in accessibility_needs.KIND_LABELS else "",
            sort=sort if sort in SORTS else "newest",
            page=page,
        )

    def as_args(self, **overrides) -> dict:
        values = {"q": self.q, "status": self.status, "sector": self.sector, "attended": self.attended,
                  "answer": self.answer, "need": self.need, "sort": self.sort, "page": self.page, **overrides}
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}


_ANSWER_FILTER = re.compile(r"^\d{1,9}:[a-z0-9]{1,20}$")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(webinar_id: int, filters: RegistrationFilters):
    """A SELECT of the webinar's registrations matching ``filters`` (unsorted, unpaged)."""
    statement = db.select(Registration).where(Registration.webinar_id == webinar_id)
    # Every word of the search, accents and case ignored ("quebec zoe" finds "Zoë … Québec"),
    # in the folded column: the same LIKE on SQLite and PostgreSQL.
    for word in query_words(filters.q):
        statement = statement.where(Registration.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
    if filters.status:
        statement = statement.where(Registration.status == RegistrationStatus(filters.status))
    if filters.sector:
        statement = statement.where(Registration.sector == filters.sector)
    if filters.attended:
        statement = statement.where(Registration.attended.is_(filters.attended == "yes"))
    if filters.answer:
        question_id, _, code = filters.answer.partition(":")
        value = Answer.value
        statement = statement.where(
            db.select(Answer.id).where(
                Answer.registration_id == Registration.id, Answer.question_id == int(question_id),
                (value == code) | value.like(f"{code}\n%") | value.like(f"%\n{code}") | value.like(f"%\n{code}\n%"),
            ).exists()
        )
    if filters.need:
        statement = statement.where(accessibility_needs.sql_condition(filters.need))
    return statement


def sorted_(statement, filters: RegistrationFilters):
    return statement.order_by(*SORTS[filters.sort])


@dataclass
class Page:
    items: list[Registration]
    total: int
    page: int
    pages: int


def page_of(webinar_id: int, filters: RegistrationFilters) -> Page:
    """One page (50) of matching registrations and the total: two queries."""
    statement = filtered(webinar_id, filters)
    total = db.session.scalar(db.select(func.count()).select_from(statement.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    items = db.session.scalars(sorted_(statement, filters).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return Page(list(items), total, page, pages)


AUDIENCES = {
    "all": lambda: Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]),
    "confirmed": lambda: Registration.status == RegistrationStatus.CONFIRMED,
    "waitlisted": lambda: Registration.status == RegistrationStatus.WAITLISTED,
    "attended": lambda: Registration.attended.is_(True),
    "not_attended": lambda: (Registration.status == RegistrationStatus.CONFIRMED) & Registration.attended.is_(False),
}


def audience(webinar_id: int, name: str):
    """A SELECT of the registrations an organiser's message goes to (with an email left)."""
    return (
        db.select(Registration)
        .where(Registration.webinar_id == webinar_id, AUDIENCES[name](), Registration.email.is_not(None))
        .order_by(Registration.id)
    )


def audience_size(webinar_id: int, name: str) -> int:
    return db.session.scalar(db.select(func.count()).select_from(audience(webinar_id, name).order_by(None).subquery()))
