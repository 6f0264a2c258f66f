"""Removing people's personal data once a webinar is well past.

What goes: name, email (both forms), organisation, region, accessibility
needs, the answers to the organisers' own questions, an organiser's note when declining, the webinar's invitations (name,
email, link) and their emails, the secret link (its hash is replaced, so old links stop working), the
link between a registration and its feedback answer, the recipient and
bodies of the emails sent to that registration, the address on its certificates
(the name printed on a certificate stays, so the code its holder shows an employer still
verifies), and the names and addresses of the webinar's unmatched attendance-report rows.

What stays, so the counts in reports stay right: the registration row itself
with its status, attendance, preferred language, sector and timestamps, and
the feedback answers. Sector stays on purpose: it is one of nine broad groups
("education", "government"…), which on its own names nobody, and the
organisers report sign-ups by sector.

Functions here work in the caller's transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, literal, select, update

from portal.extensions import db
from portal.models import (
    Answer,
    Certificate,
    FeedbackSubmission,
    Invitation,
    OutboxMessage,
    OutboxStatus,
    PanelQuestion,
    Registration,
    UnmatchedAttendee,
    Webinar,
)
from portal.models.types import utcnow

PURGED_ERROR = "personal data removed before delivery"


@dataclass
class PurgeCount:
    webinar: Webinar
    registrations: int = 0
    emails: int = 0
    feedback_links: int = 0


@dataclass
class PurgeReport:
    webinars: list[PurgeCount] = field(default_factory=list)

    @property
    def registrations(self) -> int:
        return sum(c.registrations for c in self.webinars)

    @property
    def emails(self) -> int:
        return sum(c.emails for c in self.webinars)

    def summary(self) -> str:
        touched = sum(1 for c in self.webinars if c.registrations or c.emails)
        return (f"privacy purge: {self.registrations} registrations and {self.emails} emails "
                f"cleared across {touched} webinars")


def ended_before(cutoff: datetime) -> list[Webinar]:
    """Webinars (any status) whose end is at or before ``cutoff``."""
    candidates = db.session.scalars(select(Webinar).where(Webinar.starts_at <= cutoff).order_by(Webinar.starts_at))
    return [webinar for webinar in candidates if webinar.ends_at <= cutoff]


def purge_older_than(days: int, now: datetime | None = None) -> PurgeReport:
    """Purge every registration of webinars that ended more than ``days`` ago; idempotent."""
    now = now or utcnow()
    report = PurgeReport()
    for webinar in ended_before(now - timedelta(days=days)):
        ids = select(Registration.id).where(Registration.webinar_id == webinar.id)
        count = PurgeCount(webinar)
        count.registrations, count.emails, count.feedback_links = _purge(ids, now)
        count.emails += _purge_invitations(webinar)
        _purge_unmatched_attendees(webinar)
        report.webinars.append(count)
    return report


def erase_registration(registration: Registration, now: datetime | None = None) -> None:
    """The attendee's own "delete my data": the same purge, for one registration."""
    _purge(select(Registration.id).where(Registration.id == registration.id), now or utcnow())
    db.session.expire(registration)


def _purge_invitations(webinar: Webinar) -> int:
    """Invitees' names, addresses and links, and the invitation emails; returns the emails cleared."""
    db.session.execute(
        update(Invitation)
        .where(Invitation.webinar_id == webinar.id, Invitation.email.is_not(None))
        .values(full_name=None, email=None, email_normalised=None,
                token_hash=literal("purged-") + cast(Invitation.id, String))
        .execution_options(synchronize_session=False)
    )
    invitation_emails = (OutboxMessage.webinar_id == webinar.id) & (OutboxMessage.kind == "invitation")
    db.session.execute(
        update(OutboxMessage).where(invitation_emails, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, last_error=PURGED_ERROR)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        update(OutboxMessage).where(invitation_emails, OutboxMessage.recipient != "")
        .values(recipient="", body_text="", body_html=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _purge_unmatched_attendees(webinar: Webinar) -> None:
    """Report rows that matched no registration keep their minutes, not who they were."""
    db.session.execute(
        update(UnmatchedAttendee).where(UnmatchedAttendee.webinar_id == webinar.id)
        .values(name="", email="").execution_options(synchronize_session=False)
    )


def _purge_certificates(registration_ids) -> None:
    """The address on the person's certificates, for this webinar and for its series."""
    addresses = select(Registration.email_normalised).where(
        Registration.id.in_(registration_ids), Registration.email_normalised.is_not(None))
    db.session.execute(
        update(Certificate)
        .where(Certificate.registration_id.in_(registration_ids)
               | (Certificate.registration_id.is_(None) & Certificate.email_normalised.in_(addresses)))
        .values(email_normalised=None).execution_options(synchronize_session=False)
    )


def _purge(registration_ids, now: datetime) -> tuple[int, int, int]:
    """Bulk updates over ``registration_ids`` (a SELECT); returns (registrations, emails, feedback links)."""
    _purge_certificates(registration_ids)  # first: series certificates are found by the address
    people = db.session.execute(
        update(Registration)
        .where(Registration.id.in_(registration_ids), Registration.purged_at.is_(None))
        .values(
            full_name=None, email=None, email_normalised=None, organisation_name=None, region=None,
            search_text=None,
            accessibility_needs=None, decline_note=None, purged_at=now, updated_at=now,
            # Not a SHA-256 (those are 64 hex digits), so no link can ever match again.
            token_hash=literal("purged-") + cast(Registration.id, String),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    emails = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(registration_ids), OutboxMessage.recipient != "")
        .values(recipient="", body_text="", body_html=None, ics=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.registration_id.in_(registration_ids), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, last_error=PURGED_ERROR)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(Answer).where(Answer.registration_id.in_(registration_ids))
        .execution_options(synchronize_session=False)
    )
    # Questions for the presenters stay (the brief's record), without the name their author had allowed.
    db.session.execute(
        update(PanelQuestion).where(PanelQuestion.registration_id.in_(registration_ids))
        .values(share_name=False).execution_options(synchronize_session=False)
    )
    links = db.session.execute(
        delete(FeedbackSubmission).where(FeedbackSubmission.registration_id.in_(registration_ids))
        .execution_options(synchronize_session=False)
    ).rowcount
    return people, emails, links
