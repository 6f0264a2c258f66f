"""The organisers' own registration questions and the answers registrants give."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, str_enum, utcnow


class QuestionKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    ONE_CHOICE = "one_choice"
    SEVERAL_CHOICES = "several_choices"
    YES_NO = "yes_no"
    NUMBER = "number"
    DATE = "date"


#: Kinds whose answer is one or more codes from a fixed list (counted as bars on the dashboard).
CHOICE_KINDS = (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES, QuestionKind.YES_NO)


class Question(db.Model):
    """One question of a series' registration form, or of one webinar's only (its override).

    Never deleted once answered: removing archives it, so answers keep their question.
    """

    __table_args__ = (Index("ix_question_series_position", "series_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    #: Set: asked only on this webinar's form (added to the series' questions).
    webinar_id: Mapped[int | None] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"), index=True)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    label_en: Mapped[str] = mapped_column(String(500))
    label_fr: Mapped[str] = mapped_column(String(500))
    help_en: Mapped[str] = mapped_column(Text, default="")
    help_fr: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    #: For choice kinds: [{"code": "a1", "en": "…", "fr": "…"}, …]; codes never change once given.
    choices: Mapped[list] = mapped_column(JSON, default=list)
    #: Asked only when this earlier question's answer is ``condition_value`` (any answer when empty).
    condition_question_id: Mapped[int | None] = mapped_column(ForeignKey("question.id", ondelete="SET NULL"))
    condition_value: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Removed from the form; answers already given stay, with their question.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def label(self, language: str) -> str:
        return self.label_fr if language == "fr" and self.label_fr else self.label_en

    def help(self, language: str) -> str:
        return self.help_fr if language == "fr" and self.help_fr else self.help_en

    def choice_words(self, language: str) -> dict[str, str]:
        return {c["code"]: (c.get("fr") if language == "fr" and c.get("fr") else c.get("en", c["code"]))
                for c in self.choices or []}


class Answer(db.Model):
    __table_args__ = (
        Index("uq_answer_registration_question", "registration_id", "question_id", unique=True),
        Index("ix_answer_question_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    #: Text as typed; a choice's code (several joined by newlines); "yes"/"no"; a number; an ISO date.
    value: Mapped[str] = mapped_column(Text)
    #: The question's wording when answered (English / French), so a later edit never changes what was asked.
    question_label: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship()


class PanelQuestionStatus(enum.StrEnum):
    NEW = "new"  # waiting for a moderator
    APPROVED = "approved"  # goes in the presenter brief
    HIDDEN = "hidden"  # off the brief (off topic, inappropriate)
    MERGED = "merged"  # a duplicate, folded into ``merged_into``
    ANSWERED = "answered"  # dealt with during the session


class PanelQuestion(db.Model):
    """A question a registrant sends ahead for the presenters; seen only by the organisers and its author."""

    __table_args__ = (Index("ix_panel_question_webinar_status", "webinar_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    #: The talk it is for; empty means the whole panel.
    presentation_id: Mapped[int | None] = mapped_column(ForeignKey("presentation.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    #: The author agreed that their name goes with the question (brief, read out); otherwise it is anonymous.
    share_name: Mapped[bool] = mapped_column(default=False)
    status: Mapped[PanelQuestionStatus] = mapped_column(
        str_enum(PanelQuestionStatus, "panel_question_status"), default=PanelQuestionStatus.NEW)
    starred: Mapped[bool] = mapped_column(default=False)
    #: The question this duplicate was merged into.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("panel_question.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
