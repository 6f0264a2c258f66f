"""The organisers' own registration questions: which are asked, how answers are checked and kept.

A question belongs to a series (asked on each of its webinars' forms) or to one
webinar (added to the series' questions there). One level of condition: a
question may be asked only when an earlier, unconditional question got a given
answer (or any answer). The server decides: an answer to a question not asked
is dropped and never required, whatever the browser showed.

Answers keep the question's wording of the moment; editing a question never
rewrites them, and removing one archives it so its answers stay readable.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.orm import contains_eager

from portal.extensions import db
from portal.models import CHOICE_KINDS, Answer, Question, QuestionKind, Series, Webinar
from portal.models.types import utcnow

MAX_TEXT = {QuestionKind.SHORT_TEXT: 500, QuestionKind.LONG_TEXT: 5000}
YES_NO = ("yes", "no")
_NUMBER = re.compile(r"^-?\d{1,12}(?:[.,]\d{1,6})?$")


class QuestionError(ValueError):
    """A question the builder cannot save; ``field`` names the form field to attach the message to."""

    def __init__(self, message, field: str) -> None:
        self.field = field
        super().__init__(str(message))


# --- which questions a form asks -------------------------------------------------------


def questions_for(webinar: Webinar) -> list[Question]:
    """The live questions of the webinar's form, series' first then its own, in builder order.

    No query at all for a webinar whose series and itself never had questions.
    """
    if not webinar.series.questions_version and not webinar.questions_version:
        return []
    return list(db.session.scalars(
        select(Question)
        .where(Question.series_id == webinar.series_id, Question.archived_at.is_(None),
               (Question.webinar_id.is_(None)) | (Question.webinar_id == webinar.id))
        .order_by(Question.webinar_id.is_not(None), Question.position, Question.id)
    ))


def every_question_of(webinar: Webinar) -> list[Question]:
    """Every question ever asked on the webinar's form, removed ones too (their answers are kept): for
    exports and filters. One query."""
    return list(db.session.scalars(
        select(Question)
        .where(Question.series_id == webinar.series_id,
               (Question.webinar_id.is_(None)) | (Question.webinar_id == webinar.id))
        .order_by(Question.webinar_id.is_not(None), Question.position, Question.id)
    ))


def answer_filter_choices(asked: list[Question], language: str) -> list[tuple[str, str]]:
    """("question id:code", words) for the registrations list's answer filter (choice questions)."""
    options = []
    for question in asked:
        if question.kind == QuestionKind.YES_NO:
            codes = list(YES_NO)
        elif question.kind in (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES):
            codes = [c["code"] for c in question.choices]
        else:
            continue
        for code in codes:
            options.append((f"{question.id}:{code}",
                            f"{question.label(language)}: {words_for(question, code, language)}"))
    return options


def builder_questions(series: Series, webinar: Webinar | None) -> list[Question]:
    """The live questions a builder page edits: the series' own, or one webinar's own."""
    scope = Question.webinar_id.is_(None) if webinar is None else Question.webinar_id == webinar.id
    return list(db.session.scalars(
        select(Question).where(Question.series_id == series.id, scope, Question.archived_at.is_(None))
        .order_by(Question.position, Question.id)
    ))


def is_asked(question: Question, answers: dict[int, str | None]) -> bool:
    """Whether ``question`` is asked given the other answers ({question id: stored value})."""
    if question.condition_question_id is None:
        return True
    given = answers.get(question.condition_question_id)
    if not given:
        return False
    if not question.condition_value:
        return True
    return question.condition_value in given.split("\n")


# --- checking and keeping answers ---------------------------------------------------------


def stored_value(question: Question, data) -> str | None:
    """The field's data as stored (None when empty)."""
    if data is None or data == "" or data == []:
        return None
    if question.kind == QuestionKind.SEVERAL_CHOICES:
        return "\n".join(str(code) for code in data)
    if question.kind == QuestionKind.NUMBER:
        return str(Decimal(str(data).replace(",", ".")).normalize())
    if isinstance(data, date):
        return data.isoformat()
    return str(data).strip() or None


def number_problem(text: str | None):
    if text and (not _NUMBER.match(text.strip())):
        return _l("Enter a number, such as 12 or 3.5.")
    return None


def date_problem(text: str | None):
    if not text:
        return None
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return _l("Enter a date as year-month-day, such as 2026-03-31.")
    return None


def save_answers(registration_ids_by_webinar: dict[int, int], asked: list[Question],
                 values: dict[int, str], language: str) -> None:
    """One INSERT for the answers of new registrations ({webinar id: registration id}).

    A series question's answer goes with every new registration of the form; a
    webinar's own question's only with that webinar's registration.
    """
    rows = []
    for webinar_id, registration_id in registration_ids_by_webinar.items():
        for question in asked:
            value = values.get(question.id)
            if value is None or (question.webinar_id is not None and question.webinar_id != webinar_id):
                continue
            rows.append({"registration_id": registration_id, "question_id": question.id, "value": value,
                         "question_label": f"{question.label_en} / {question.label_fr}", "created_at": utcnow()})
    if rows:
        db.session.connection().execute(insert(Answer.__table__), rows)


def answers_of(registration_ids: list[int]) -> dict[int, list[Answer]]:
    """{registration id: answers with their question} in one query (for a page of registrations)."""
    if not registration_ids:
        return {}
    found: dict[int, list[Answer]] = {rid: [] for rid in registration_ids}
    rows = db.session.scalars(
        select(Answer).join(Answer.question).options(contains_eager(Answer.question))
        .where(Answer.registration_id.in_(registration_ids))
        .order_by(Question.webinar_id.is_not(None), Question.position, Question.id)
    )
    for answer in rows:
        found[answer.registration_id].append(answer)
    return found


def words_for(question: Question, value: str | None, language: str) -> str:
    """An answer as a person reads it: choices by their words, yes/no translated."""
    if value is None:
        return ""
    if question.kind in (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES):
        words = question.choice_words(language)
        return "; ".join(words.get(code, code) for code in value.split("\n"))
    if question.kind == QuestionKind.YES_NO:
        return str(YES_NO_WORDS.get(value, value))
    return value


YES_NO_WORDS = {"yes": _l("Yes"), "no": _l("No")}


# --- figures ---------------------------------------------------------------------------


@dataclass
class ChoiceBars:
    question: Question
    #: (words, count) for each choice, in the builder's order.
    bars: list[tuple[str, int]]

    @property
    def largest(self) -> int:
        return max((n for _, n in self.bars), default=0)


def choice_counts(webinar: Webinar, language: str) -> list[ChoiceBars]:
    """Answers per choice of each choice question of the webinar's active registrations: two queries."""
    from portal.models import Registration, RegistrationStatus

    questions = [q for q in questions_for(webinar) if q.kind in CHOICE_KINDS]
    if not questions:
        return []
    rows = db.session.execute(
        select(Answer.question_id, Answer.value, func.count())
        .join(Registration, Registration.id == Answer.registration_id)
        .where(Registration.webinar_id == webinar.id, Registration.status != RegistrationStatus.CANCELLED,
               Answer.question_id.in_([q.id for q in questions]))
        .group_by(Answer.question_id, Answer.value)
    )
    tally: dict[int, Counter] = {q.id: Counter() for q in questions}
    for question_id, value, count in rows:
        for code in value.split("\n"):
            tally[question_id][code] += count
    result = []
    for question in questions:
        codes = list(YES_NO) if question.kind == QuestionKind.YES_NO else [c["code"] for c in question.choices
                                                                        if not c.get("archived")]
        result.append(ChoiceBars(question, [(words_for(question, code, language), tally[question.id][code])
                                            for code in codes]))
    return result


# --- the builder -----------------------------------------------------------------------


def parse_choices(text: str, existing: list[dict]) -> list[dict]:
    """Lines "English | French" as choices. A line keeps the code of the choice it replaces (same place),
    so answers already given still name it; choices removed stay, archived, for those answers."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    live = [c for c in existing if not c.get("archived")]
    used = {c["code"] for c in existing}
    result = []
    for index, line in enumerate(lines):
        english, _, french = (part.strip() for part in line.partition("|"))
        if not english or len(line) > 300:
            raise QuestionError(_l("Write each choice as “English | French”, at most 300 characters."), "choices")
        if index < len(live):
            code = live[index]["code"]
        else:
            number = len(used) + 1
            while f"c{number}" in used:
                number += 1
            code = f"c{number}"
            used.add(code)
        result.append({"code": code, "en": english, "fr": french or english})
    kept = {c["code"] for c in result}
    result += [{**c, "archived": True} for c in existing if c["code"] not in kept]
    return result


def choices_text(question: Question) -> str:
    return "\n".join(f"{c['en']} | {c['fr']}" for c in question.choices or [] if not c.get("archived"))


def condition_options(series: Series, webinar: Webinar | None, before: Question | None) -> list[tuple[str, str]]:
    """("question id:value", words) for every answer a question may depend on: earlier, unconditional ones."""
    candidates = builder_questions(series, None)
    if webinar is not None:
        candidates = candidates + builder_questions(series, webinar)
    options = []
    for question in candidates:
        if before is not None and question.id == before.id:
            break
        if question.condition_question_id is not None:
            continue
        options.append((f"{question.id}:", _("%(question)s: any answer", question=question.label_en)))
        codes = list(YES_NO) if question.kind == QuestionKind.YES_NO else (
            [c["code"] for c in question.choices if not c.get("archived")]
            if question.kind in (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES) else [])
        for code in codes:
            options.append((f"{question.id}:{code}", f"{question.label_en} = {words_for(question, code, 'en')}"))
    return options


def touch(series: Series, webinar: Webinar | None) -> None:
    """Say the form changed (and that it may have questions): see ``questions_for``."""
    target = webinar if webinar is not None else series
    target.questions_version = (target.questions_version or 0) + 1


def move(question: Question, direction: str) -> bool:
    """Swap with the neighbour above or below in the same list; False at either end."""
    siblings = builder_questions(question_series(question), question_webinar(question))
    index = next(i for i, q in enumerate(siblings) if q.id == question.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return False
    for position, q in enumerate(siblings):
        q.position = position
    siblings[index].position, siblings[other].position = other, index
    touch(question_series(question), question_webinar(question))
    return True


def archive(question: Question) -> None:
    """Off the form; its answers stay. Questions that depended on it are asked always from now on."""
    question.archived_at = utcnow()
    for dependent in db.session.scalars(select(Question).where(Question.condition_question_id == question.id)):
        dependent.condition_question_id, dependent.condition_value = None, None
    touch(question_series(question), question_webinar(question))


def question_series(question: Question) -> Series:
    return db.session.get(Series, question.series_id)


def question_webinar(question: Question) -> Webinar | None:
    return db.session.get(Webinar, question.webinar_id) if question.webinar_id else None


def next_position(series: Series, webinar: Webinar | None) -> int:
    return len(builder_questions(series, webinar))
