"""Questions sent ahead for the presenters, and their moderation.

A registrant sees only their own questions; other registrants never see them,
and the name goes with a question only when its author agreed. Questions can be
sent with the registration and from the manage page until the webinar starts.
"""

from __future__ import annotations

from sqlalchemy import case, select

from portal.extensions import db
from portal.models import (
    PanelQuestion,
    PanelQuestionStatus,
    Presentation,
    Registration,
    RegistrationStatus,
    Webinar,
)
from portal.models.types import utcnow

MAX_TEXT = 1000
MAX_PER_REGISTRATION = 10
#: Moderation actions an organiser may take on one question.
ACTIONS = ("approve", "hide", "answered", "star", "unstar", "reopen")


class PanelQuestionRefused(Exception):
    """Not accepted now (webinar started, registration not active, too many); ``reason`` is a code."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def open_for(registration: Registration, now=None) -> bool:
    """Questions are taken from active registrations until the webinar starts."""
    return (registration.status not in (RegistrationStatus.CANCELLED, RegistrationStatus.DECLINED)
            and (now or utcnow()) < registration.webinar.starts_at)


def ask(registration: Registration, text: str, presentation_id: int | None, share_name: bool,
        now=None) -> PanelQuestion:
    if not open_for(registration, now):
        raise PanelQuestionRefused("closed")
    if len(own_questions(registration)) >= MAX_PER_REGISTRATION:
        raise PanelQuestionRefused("too_many")
    question = PanelQuestion(webinar_id=registration.webinar_id, registration_id=registration.id,
                             presentation_id=presentation_id or None, text=text.strip()[:MAX_TEXT],
                             share_name=bool(share_name), status=PanelQuestionStatus.NEW, starred=False,
                             created_at=now or utcnow())
    db.session.add(question)
    return question


def own_questions(registration: Registration) -> list[PanelQuestion]:
    return list(db.session.scalars(
        select(PanelQuestion).where(PanelQuestion.registration_id == registration.id).order_by(PanelQuestion.id)))


def presentations_of(webinar: Webinar) -> list[Presentation]:
    return list(db.session.scalars(
        select(Presentation).where(Presentation.webinar_id == webinar.id).order_by(Presentation.position)))


def queue(webinar: Webinar, status: str | None = None) -> list[tuple[PanelQuestion, Registration]]:
    """The moderation queue: starred first, then oldest first; one query."""
    statement = (
        select(PanelQuestion, Registration)
        .join(Registration, Registration.id == PanelQuestion.registration_id)
        .where(PanelQuestion.webinar_id == webinar.id)
        .order_by(PanelQuestion.starred.desc(), PanelQuestion.id)
    )
    if status in {s.value for s in PanelQuestionStatus}:
        statement = statement.where(PanelQuestion.status == status)
    return [tuple(row) for row in db.session.execute(statement)]


def moderate(question: PanelQuestion, action: str) -> dict:
    """Apply one moderation action; returns the changes for the audit trail."""
    before = (question.status, question.starred)
    if action == "approve":
        question.status = PanelQuestionStatus.APPROVED
    elif action == "hide":
        question.status = PanelQuestionStatus.HIDDEN
    elif action == "answered":
        question.status = PanelQuestionStatus.ANSWERED
    elif action == "reopen":
        question.status, question.merged_into_id = PanelQuestionStatus.NEW, None
    elif action in ("star", "unstar"):
        question.starred = action == "star"
    else:
        raise ValueError(action)
    after = (question.status, question.starred)
    return {} if before == after else {"status": (before[0], after[0]), "starred": (before[1], after[1])}


def merge(duplicate: PanelQuestion, into: PanelQuestion) -> None:
    """Fold a duplicate into another question of the same webinar (kept, marked merged)."""
    if duplicate.id == into.id or duplicate.webinar_id != into.webinar_id:
        raise ValueError("cannot merge")
    duplicate.status = PanelQuestionStatus.MERGED
    duplicate.merged_into_id = into.merged_into_id or into.id


def brief(webinar: Webinar) -> list[tuple[Presentation | None, list[tuple[PanelQuestion, str | None, int]]]]:
    """Approved and starred questions grouped by talk (the whole panel first): (question, name or None,
    number of duplicates merged into it). Names only where the author agreed. Two queries."""
    rows = db.session.execute(
        select(PanelQuestion, Registration.full_name)
        .join(Registration, Registration.id == PanelQuestion.registration_id)
        .where(PanelQuestion.webinar_id == webinar.id,
               PanelQuestion.status.in_([PanelQuestionStatus.APPROVED, PanelQuestionStatus.ANSWERED,
                                         PanelQuestionStatus.MERGED]))
        .order_by(PanelQuestion.starred.desc(), case((PanelQuestion.status == "answered", 1), else_=0),
                  PanelQuestion.id)
    ).all()
    merged: dict[int, int] = {}
    for question, _name in rows:
        if question.merged_into_id:
            merged[question.merged_into_id] = merged.get(question.merged_into_id, 0) + 1
    talks = presentations_of(webinar)
    groups: dict[int | None, list] = {None: [], **{t.id: [] for t in talks}}
    for question, name in rows:
        if question.status == PanelQuestionStatus.MERGED:
            continue
        groups.setdefault(question.presentation_id, []).append(
            (question, name if question.share_name else None, merged.get(question.id, 0)))
    return [(None, groups[None])] + [(t, groups[t.id]) for t in talks]


def for_csv(webinar: Webinar):
    return db.session.execute(
        select(PanelQuestion, Registration.full_name, Presentation.title)
        .join(Registration, Registration.id == PanelQuestion.registration_id)
        .outerjoin(Presentation, Presentation.id == PanelQuestion.presentation_id)
        .where(PanelQuestion.webinar_id == webinar.id).order_by(PanelQuestion.id)
    ).all()


def question_of(webinar: Webinar, question_id: int) -> PanelQuestion | None:
    return db.session.scalar(
        select(PanelQuestion).where(PanelQuestion.id == question_id, PanelQuestion.webinar_id == webinar.id))
