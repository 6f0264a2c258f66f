"""Feedback after a webinar: when it may be given, by whom, once, and what it adds up to.

The link an attendee answers through is their registration's own secret link
(``manage_token``), derivable again for every email, so no second secret is
stored. A registration's answer lives in ``FeedbackResponse``; the separate
``FeedbackSubmission`` row only says "this registration has answered, and this
is the response to edit". Results read responses without joining to people,
except for the name and email of respondents who allowed contact — and that
choice is made in SQL, so a name never leaves the database otherwise.

Functions here work in the caller's transaction and never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import (
    FeedbackResponse,
    FeedbackSubmission,
    Presentation,
    PresentationRating,
    Registration,
    RegistrationStatus,
    Webinar,
    WebinarStatus,
)
from portal.models.bilingual import when_shown
from portal.models.types import utcnow
from portal.services import registration as registrations
from portal.services.outbox import queue_email
from portal.web import absolute_url

RATINGS = (1, 2, 3, 4, 5)
TEXT_QUESTIONS = ("most_useful", "improvements", "topics_wanted")


# --- the window -----------------------------------------------------------------------


class WindowState(enum.StrEnum):
    NOT_YET = "not_yet"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class FeedbackWindow:
    """Open from the webinar's end (included) until ``closes_at`` (excluded)."""

    opens_at: datetime
    closes_at: datetime

    def state(self, now: datetime | None = None) -> WindowState:
        now = now or utcnow()
        if now < self.opens_at:
            return WindowState.NOT_YET
        if now >= self.closes_at:
            return WindowState.CLOSED
        return WindowState.OPEN

    def is_open(self, now: datetime | None = None) -> bool:
        return self.state(now) == WindowState.OPEN


def feedback_window(webinar: Webinar) -> FeedbackWindow:
    days = current_app.config["FEEDBACK_WINDOW_DAYS"]
    return FeedbackWindow(webinar.ends_at, webinar.ends_at + timedelta(days=days))


# --- who may answer -------------------------------------------------------------------


class FeedbackRefused(Exception):
    """The link cannot be used for feedback; ``status`` is the HTTP status a view should answer."""

    def __init__(self, status: int, message) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message


INVALID_LINK = _l("This feedback link is not valid. Check that you copied the whole link from your email.")


def registration_for_feedback(token: str) -> Registration:
    """The registration behind a feedback link, or ``FeedbackRefused`` with a 4xx status.

    Garbage, unknown, cancelled and erased registrations and draft webinars all
    look the same (404), so a link reveals nothing about other people.
    """
    registration = registrations.find_by_token(token)
    if (
        registration is None
        or registration.purged_at is not None
        or registration.status == RegistrationStatus.CANCELLED
        or registration.webinar.status == WebinarStatus.DRAFT
    ):
        raise FeedbackRefused(404, INVALID_LINK)
    if registration.webinar.status == WebinarStatus.CANCELLED:
        raise FeedbackRefused(410, _l("This webinar was cancelled, so there is no feedback to give."))
    if registration.status != RegistrationStatus.CONFIRMED:
        raise FeedbackRefused(403, _l("Feedback is asked of the people who had a seat at this webinar; "
                                      "you were on the waiting list."))
    return registration


def can_give_feedback(registration: Registration, now: datetime | None = None) -> bool:
    """For the manage page: show the link to the form only when it would open."""
    return (
        registration.status == RegistrationStatus.CONFIRMED
        and registration.purged_at is None
        and registration.webinar.status == WebinarStatus.PUBLISHED
        and feedback_window(registration.webinar).is_open(now)
    )


# --- answering ------------------------------------------------------------------------


@dataclass
class Answers:
    """What the form collected, validated: ratings 1–5, texts trimmed."""

    overall_rating: int
    #: {presentation_id: rating}; presentations left unrated are absent.
    presentation_ratings: dict[int, int] = field(default_factory=dict)
    relevance: int | None = None
    most_useful: str = ""
    improvements: str = ""
    topics_wanted: str = ""
    quote_consent: bool = False
    contact_consent: bool = False


def response_of(registration: Registration) -> FeedbackResponse | None:
    """The registration's earlier answer with its ratings, or ``None``."""
    return db.session.scalar(
        select(FeedbackResponse)
        .join(FeedbackSubmission, FeedbackSubmission.response_id == FeedbackResponse.id)
        .where(FeedbackSubmission.registration_id == registration.id)
        .options(selectinload(FeedbackResponse.presentation_ratings))
    )


def submit(registration: Registration, answers: Answers, now: datetime | None = None) -> tuple[FeedbackResponse, bool]:
    """Store or replace the registration's answer; returns ``(response, created)``.

    Refused (``FeedbackRefused``) outside the window. One response per
    registration is guaranteed by the unique ``FeedbackSubmission.registration_id``:
    a racing second insert fails at commit and the caller retries as an edit.
    """
    now = now or utcnow()
    _refuse_outside_window(registration.webinar, now)
    valid_ids = {p.id for p in registration.webinar.presentations}
    ratings = {pid: r for pid, r in answers.presentation_ratings.items() if pid in valid_ids and r in RATINGS}
    response = response_of(registration)
    created = response is None
    if created:
        response = FeedbackResponse(webinar_id=registration.webinar_id, created_at=now)
        db.session.add(response)
    _fill(response, answers, ratings, now)
    db.session.flush()
    if created:
        db.session.add(FeedbackSubmission(registration_id=registration.id, response_id=response.id, submitted_at=now))
        db.session.flush()
    return response, created


def _refuse_outside_window(webinar: Webinar, now: datetime) -> None:
    state = feedback_window(webinar).state(now)
    if state == WindowState.NOT_YET:
        raise FeedbackRefused(403, _l("Feedback opens when the webinar ends."))
    if state == WindowState.CLOSED:
        raise FeedbackRefused(410, _l("Feedback for this webinar has closed."))


def _fill(response: FeedbackResponse, answers: Answers, ratings: dict[int, int], now: datetime) -> None:
    response.overall_rating = answers.overall_rating
    response.relevance = answers.relevance
    response.most_useful = answers.most_useful
    response.improvements = answers.improvements
    response.topics_wanted = answers.topics_wanted
    response.quote_consent = answers.quote_consent
    response.contact_consent = answers.contact_consent
    response.updated_at = now
    existing = {rating.presentation_id: rating for rating in response.presentation_ratings}
    for presentation_id, rating in existing.items():
        if presentation_id not in ratings:
            response.presentation_ratings.remove(rating)
    for presentation_id, value in ratings.items():
        if presentation_id in existing:
            existing[presentation_id].rating = value
        else:
            response.presentation_ratings.append(PresentationRating(presentation_id=presentation_id, rating=value))


# --- invitations ----------------------------------------------------------------------


@dataclass
class InvitationReport:
    webinar: Webinar
    queued: int = 0
    already: int = 0


def webinars_to_invite(now: datetime | None = None) -> list[Webinar]:
    """Published webinars that have ended and whose feedback is still open."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Webinar)
        .where(Webinar.status == WebinarStatus.PUBLISHED, Webinar.starts_at <= now)
        .options(selectinload(Webinar.series))
        .order_by(Webinar.starts_at)
    )
    return [webinar for webinar in candidates if feedback_window(webinar).is_open(now)]


def invite(webinar: Webinar, now: datetime | None = None) -> InvitationReport:
    """Queue the invitation once per confirmed registration (attended or not)."""
    report = InvitationReport(webinar)
    window = feedback_window(webinar)
    people = db.session.scalars(
        select(Registration)
        .where(Registration.webinar_id == webinar.id, Registration.status == RegistrationStatus.CONFIRMED,
               Registration.purged_at.is_(None), Registration.email.is_not(None))
        .order_by(Registration.id)
    )
    for registration in people:
        if queue_invitation(registration, window) is None:
            report.already += 1
        else:
            report.queued += 1
    return report


def queue_invitation(registration: Registration, window: FeedbackWindow):
    webinar = registration.webinar
    token = registrations.manage_token(registration)
    language = registration.preferred_language or "en"
    return queue_email(
        kind="feedback_invitation",
        recipient=registration.email,
        subject=_l("Your feedback on %(title)s", title=when_shown(webinar, "title")),
        template="feedback_invitation",
        context={
            "registration": registration,
            "webinar": webinar,
            "attended": registration.attended,
            "feedback_url": absolute_url("feedback.form", language=language, token=token),
            "manage_url": absolute_url("registration.manage", language=language, token=token),
            "webinar_url": absolute_url("public.webinar", language=language, slug=webinar.slug),
            "closes_at": window.closes_at,
        },
        language=language,
        registration=registration,
        webinar=webinar,
        dedupe_key=f"feedback_invitation:{registration.id}",
    )


# --- results --------------------------------------------------------------------------


@dataclass
class Distribution:
    """How many chose each rating 1–5, with the average computed by the database."""

    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    average: float | None = None
    total: int = 0

    @property
    def peak(self) -> int:
        return max(self.counts.values()) or 1

    def bars(self) -> list[tuple[int, int, float, float]]:
        """(rating, count, percent of answers, percent of the largest bar) from 1 to 5."""
        return [(r, n, round(100 * n / self.total, 1) if self.total else 0.0, round(100 * n / self.peak, 1))
                for r, n in self.counts.items()]


@dataclass
class PresentationResult:
    presentation: Presentation
    ratings: Distribution


@dataclass
class WebinarResults:
    webinar: Webinar
    confirmed: int = 0
    attended: int = 0
    responses: int = 0
    #: Answers given by confirmed registrations marked attended (the dashboard's numerator too).
    responses_from_attendees: int = 0
    quotable: int = 0
    overall: Distribution = field(default_factory=Distribution)
    relevance: Distribution = field(default_factory=Distribution)
    presentations: list[PresentationResult] = field(default_factory=list)

    @property
    def rate_confirmed(self) -> float | None:
        return round(100 * self.responses / self.confirmed, 1) if self.confirmed else None

    @property
    def rate_attended(self) -> float | None:
        """Share of attendees who answered: a confirmed no-show may answer too, and is not counted
        here (dividing every answer by the attendees could pass 100 %)."""
        return round(100 * self.responses_from_attendees / self.attended, 1) if self.attended else None


def results_for(webinars: Iterable[Webinar]) -> dict[int, WebinarResults]:
    """{webinar_id: WebinarResults}; eight queries whatever the number of webinars or answers."""
    results = {w.id: WebinarResults(w) for w in webinars}
    ids = list(results)
    if not ids:
        return results
    _add_registration_counts(results, ids)
    _add_response_summary(results, ids)
    _add_distributions(results, ids)
    _add_presentations(results, ids)
    return results


def _average(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _add_registration_counts(results: dict[int, WebinarResults], ids: list[int]) -> None:
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    rows = db.session.execute(
        select(
            Registration.webinar_id,
            func.sum(case((confirmed, 1), else_=0)),
            func.sum(case((confirmed & Registration.attended, 1), else_=0)),
        ).where(Registration.webinar_id.in_(ids)).group_by(Registration.webinar_id)
    )
    for webinar_id, n_confirmed, n_attended in rows:
        results[webinar_id].confirmed = int(n_confirmed or 0)
        results[webinar_id].attended = int(n_attended or 0)


def _add_response_summary(results: dict[int, WebinarResults], ids: list[int]) -> None:
    rows = db.session.execute(
        select(
            FeedbackResponse.webinar_id,
            func.count(FeedbackResponse.id),
            func.avg(FeedbackResponse.overall_rating),
            func.count(FeedbackResponse.relevance),
            func.avg(FeedbackResponse.relevance),
            func.sum(case((FeedbackResponse.quote_consent, 1), else_=0)),
            func.sum(case((Registration.attended.is_(True) & (Registration.status == RegistrationStatus.CONFIRMED),
                           1), else_=0)),
        )
        .outerjoin(FeedbackSubmission, FeedbackSubmission.response_id == FeedbackResponse.id)
        .outerjoin(Registration, Registration.id == FeedbackSubmission.registration_id)
        .where(FeedbackResponse.webinar_id.in_(ids)).group_by(FeedbackResponse.webinar_id)
    )
    for webinar_id, count, overall, n_relevance, relevance, quotable, from_attendees in rows:
        result = results[webinar_id]
        result.responses = result.overall.total = int(count)
        result.overall.average = _average(overall)
        result.relevance.total = int(n_relevance)
        result.relevance.average = _average(relevance)
        result.quotable = int(quotable or 0)
        result.responses_from_attendees = int(from_attendees or 0)


def _add_distributions(results: dict[int, WebinarResults], ids: list[int]) -> None:
    overall = (
        select(literal("overall").label("question"), FeedbackResponse.webinar_id,
               FeedbackResponse.overall_rating.label("rating"), func.count().label("n"))
        .where(FeedbackResponse.webinar_id.in_(ids))
        .group_by(FeedbackResponse.webinar_id, FeedbackResponse.overall_rating)
    )
    relevance = (
        select(literal("relevance").label("question"), FeedbackResponse.webinar_id,
               FeedbackResponse.relevance.label("rating"), func.count().label("n"))
        .where(FeedbackResponse.webinar_id.in_(ids), FeedbackResponse.relevance.is_not(None))
        .group_by(FeedbackResponse.webinar_id, FeedbackResponse.relevance)
    )
    for question, webinar_id, rating, n in db.session.execute(union_all(overall, relevance)):
        getattr(results[webinar_id], question).counts[int(rating)] = int(n)


def _add_presentations(results: dict[int, WebinarResults], ids: list[int]) -> None:
    presentations = db.session.scalars(
        select(Presentation).where(Presentation.webinar_id.in_(ids))
        .options(selectinload(Presentation.presenters))
        .order_by(Presentation.webinar_id, Presentation.position, Presentation.id)
    ).all()
    by_id = {p.id: PresentationResult(p, Distribution()) for p in presentations}
    for p in presentations:
        results[p.webinar_id].presentations.append(by_id[p.id])
    if not by_id:
        return
    in_webinars = PresentationRating.presentation_id.in_(list(by_id))
    for presentation_id, rating, n in db.session.execute(
        select(PresentationRating.presentation_id, PresentationRating.rating, func.count())
        .where(in_webinars).group_by(PresentationRating.presentation_id, PresentationRating.rating)
    ):
        by_id[presentation_id].ratings.counts[int(rating)] = int(n)
    for presentation_id, total, average in db.session.execute(
        select(PresentationRating.presentation_id, func.count(), func.avg(PresentationRating.rating))
        .where(in_webinars).group_by(PresentationRating.presentation_id)
    ):
        by_id[presentation_id].ratings.total = int(total)
        by_id[presentation_id].ratings.average = _average(average)


# --- the answers themselves -----------------------------------------------------------


@dataclass(frozen=True)
class CommentFilters:
    #: One of TEXT_QUESTIONS, or empty for any.
    question: str = ""
    quotable_only: bool = False
    min_rating: int | None = None


@dataclass(frozen=True)
class Comment:
    response_id: int
    overall_rating: int
    relevance: int | None
    most_useful: str
    improvements: str
    topics_wanted: str
    quote_consent: bool
    contact_consent: bool
    updated_at: datetime
    #: Only when the respondent allowed contact (and their data is not purged).
    contact_name: str | None
    contact_email: str | None


def _answers_statement(webinar_id: int):
    """Responses with the respondent's name and email only where they allowed contact.

    The CASE runs in the database: for everyone else the name never reaches Python.
    """
    allowed = FeedbackResponse.contact_consent
    return (
        select(
            FeedbackResponse.id, FeedbackResponse.overall_rating, FeedbackResponse.relevance,
            FeedbackResponse.most_useful, FeedbackResponse.improvements, FeedbackResponse.topics_wanted,
            FeedbackResponse.quote_consent, FeedbackResponse.contact_consent, FeedbackResponse.updated_at,
            case((allowed, Registration.full_name), else_=None).label("contact_name"),
            case((allowed, Registration.email), else_=None).label("contact_email"),
        )
        .outerjoin(FeedbackSubmission, FeedbackSubmission.response_id == FeedbackResponse.id)
        .outerjoin(Registration, Registration.id == FeedbackSubmission.registration_id)
        .where(FeedbackResponse.webinar_id == webinar_id)
    )


def comments(webinar_id: int, filters: CommentFilters = CommentFilters(), limit: int = 500) -> list[Comment]:
    """Responses with some written answer, newest first, filtered in SQL."""
    statement = _answers_statement(webinar_id)
    if filters.question in TEXT_QUESTIONS:
        statement = statement.where(getattr(FeedbackResponse, filters.question) != "")
    else:
        statement = statement.where(
            (FeedbackResponse.most_useful != "") | (FeedbackResponse.improvements != "")
            | (FeedbackResponse.topics_wanted != "")
        )
    if filters.quotable_only:
        statement = statement.where(FeedbackResponse.quote_consent.is_(True))
    if filters.min_rating in RATINGS:
        statement = statement.where(FeedbackResponse.overall_rating >= filters.min_rating)
    rows = db.session.execute(statement.order_by(FeedbackResponse.updated_at.desc(), FeedbackResponse.id.desc())
                              .limit(limit))
    return [Comment(*row) for row in rows]


def quotable_comments(webinar_id: int) -> list[Comment]:
    return comments(webinar_id, CommentFilters(quotable_only=True))


def export_rows(webinar: Webinar, presentations: list[Presentation]) -> Iterable[list]:
    """One row per response for the CSV, ratings per presentation in the header's order.

    Two queries: the responses, then every presentation rating of the webinar.
    """
    ratings: dict[int, dict[int, int]] = {}
    for response_id, presentation_id, rating in db.session.execute(
        select(PresentationRating.response_id, PresentationRating.presentation_id, PresentationRating.rating)
        .join(FeedbackResponse, FeedbackResponse.id == PresentationRating.response_id)
        .where(FeedbackResponse.webinar_id == webinar.id)
    ):
        ratings.setdefault(response_id, {})[presentation_id] = rating
    rows = db.session.execute(_answers_statement(webinar.id).order_by(FeedbackResponse.id))
    for row in rows:
        comment = Comment(*row)
        mine = ratings.get(comment.response_id, {})
        yield [
            comment.response_id, comment.updated_at, comment.overall_rating, comment.relevance,
            *[mine.get(p.id) for p in presentations],
            comment.most_useful, comment.improvements, comment.topics_wanted,
            comment.quote_consent, comment.contact_consent, comment.contact_name, comment.contact_email,
        ]


def export_header(presentations: list[Presentation]) -> list[str]:
    return [
        "response_id", "answered_at", "overall_rating", "relevance",
        *[f"presentation_{i}_rating ({p.title})" for i, p in enumerate(presentations, start=1)],
        "most_useful", "improvements", "topics_wanted", "quote_consent", "contact_consent",
        "contact_name", "contact_email",
    ]
