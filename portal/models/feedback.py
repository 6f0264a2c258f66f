"""Feedback after a webinar.

The submission record (who answered) is kept apart from the response (what
they said): the link exists only to stop double answers and allow edits, and
results pages read responses without joining to people unless the respondent
allowed contact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow


class FeedbackResponse(db.Model):
    __table_args__ = (
        CheckConstraint("overall_rating BETWEEN 1 AND 5", name="overall_rating_range"),
        CheckConstraint("relevance IS NULL OR relevance BETWEEN 1 AND 5", name="relevance_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinar.id"), index=True)
    overall_rating: Mapped[int]
    #: How relevant the session was to the respondent's work, 1–5.
    relevance: Mapped[int | None]
    most_useful: Mapped[str] = mapped_column(Text, default="")
    improvements: Mapped[str] = mapped_column(Text, default="")
    topics_wanted: Mapped[str] = mapped_column(Text, default="")
    quote_consent: Mapped[bool] = mapped_column(default=False)
    contact_consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    presentation_ratings: Mapped[list[PresentationRating]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class PresentationRating(db.Model):
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_response.id", ondelete="CASCADE"), primary_key=True
    )
    presentation_id: Mapped[int] = mapped_column(
        ForeignKey("presentation.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rating: Mapped[int]

    response: Mapped[FeedbackResponse] = relationship(back_populates="presentation_ratings")


class FeedbackSubmission(db.Model):
    """That a registration has answered, and which response is theirs."""

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_response.id", ondelete="CASCADE"), unique=True
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[FeedbackResponse] = relationship()
