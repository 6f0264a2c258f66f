"""The follow-up after a webinar, fitted to each person: attendees and no-shows get different emails.

Once a webinar's attendance is final (it has ended and its attendance is
settled), ``send_for`` queues one message per confirmed registration — never
twice, the outbox's ``followup:<registration id>`` key sees to that:

* attendees: thanks, their certificate (issued first), the recording and
  materials when there are any, and the feedback link while feedback is open;
* no-shows: "sorry we missed you", the recording, and the series' next webinar
  with a link to its registration form filled in from this registration.

Cancelled and waitlisted registrations get nothing. ``preview`` renders either
version in either language for the organiser, with a sample person, and stores
nothing. Functions here work in the caller's transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import OutboxMessage, Registration, RegistrationStatus, Series, Webinar, WebinarStatus
from portal.models.bilingual import when_shown
from portal.models.types import utcnow
from portal.services import attendance, certificates, materials
from portal.services import feedback as feedback_rules
from portal.services import registration as registrations
from portal.services.outbox import RenderedMessage, queue_email, render_message
from portal.web import absolute_url

ATTENDED = "attended"
MISSED = "missed"
VERSIONS = (ATTENDED, MISSED)
#: Stands in for the secret link in previews (never a real registration's).
SAMPLE_LINK = "sample-link"  # noqa: S105


def attendance_is_final(webinar: Webinar, now: datetime | None = None) -> bool:
    """Ended, published, and the organiser said its attendance is final (after the report's import)."""
    return certificates.webinar_settled(webinar, now)


def webinars_ready(now: datetime | None = None) -> list[Webinar]:
    now = now or utcnow()
    ended = db.session.scalars(
        select(Webinar).where(Webinar.status == WebinarStatus.PUBLISHED, Webinar.starts_at <= now,
                              Webinar.attendance_final_at.is_not(None))
        .options(joinedload(Webinar.series).selectinload(Series.webinars)).order_by(Webinar.starts_at)
    ).unique()
    return [w for w in ended if attendance_is_final(w, now)]


def next_webinar(webinar: Webinar, now: datetime | None = None) -> Webinar | None:
    """The series' next published webinar still to come."""
    now = now or utcnow()
    upcoming = [w for w in webinar.series.webinars
                if w.id != webinar.id and w.status == WebinarStatus.PUBLISHED and w.starts_at > now]
    return min(upcoming, key=lambda w: w.starts_at, default=None)


def _context(registration: Registration, token: str, webinar: Webinar, now: datetime,
             certificate_url: str | None, shared_materials: list) -> dict:
    window = feedback_rules.feedback_window(webinar)
    following = next_webinar(webinar, now)
    # Links lead to the pages in the registrant's language (/fr/… for a French registrant).
    language = registration.preferred_language or "en"
    material_links = [
        (m.title, m.url if m.url else absolute_url("registration.material", language=language, token=token,
                                                      material_id=m.id))
        for m in shared_materials
    ]
    return {
        "registration": registration,
        "webinar": webinar,
        "webinar_url": absolute_url("public.webinar", language=language, slug=webinar.slug),
        "manage_url": absolute_url("registration.manage", language=language, token=token),
        "certificate_url": certificate_url,
        "feedback_url": absolute_url("feedback.form", language=language, token=token) if window.is_open(now) else None,
        "feedback_closes_at": window.closes_at,
        "materials": material_links,
        "next_webinar": following,
        "next_register_url": (absolute_url("registration.register", language=language, slug=following.slug, **{"from": token})
                              if following is not None else None),
        "next_webinar_url": absolute_url("public.webinar", language=language, slug=following.slug) if following is not None else None,
    }


def version_for(registration: Registration) -> str:
    return ATTENDED if attendance.has_attended(registration) else MISSED


@dataclass
class FollowupReport:
    webinar: Webinar
    queued: int = 0
    already: int = 0


def send_for(webinar: Webinar, now: datetime | None = None) -> FollowupReport:
    """Queue the follow-up for every confirmed registration of a webinar whose attendance is final."""
    now = now or utcnow()
    report = FollowupReport(webinar)
    if not attendance_is_final(webinar, now):
        return report
    certificates.issue_for_webinar(webinar, now)
    people = db.session.scalars(
        select(Registration)
        .where(Registration.webinar_id == webinar.id, Registration.status == RegistrationStatus.CONFIRMED,
               Registration.purged_at.is_(None), Registration.email.is_not(None))
        .order_by(Registration.id)
    ).all()
    issued = {c.registration_id: c for c in certificates.webinar_certificates(webinar)}
    shared_materials = materials.materials_of(webinar.id)  # once, not once per person
    for registration in people:
        token = registrations.manage_token(registration)
        certificate = issued.get(registration.id)
        certificate_url = (absolute_url("registration.certificate", language=registration.preferred_language,
                                        token=token)
                           if certificate is not None and not certificate.revoked else None)
        version = version_for(registration)
        queued = queue_email(
            kind=f"followup_{version}",
            recipient=registration.email,
            subject=_subject(version, webinar),
            template=f"followup_{version}",
            context=_context(registration, token, webinar, now, certificate_url, shared_materials),
            language=registration.preferred_language or "en",
            registration=registration,
            webinar=webinar,
            dedupe_key=f"followup:{registration.id}",
        )
        if queued is None:
            report.already += 1
        else:
            report.queued += 1
    return report


def _subject(version: str, webinar: Webinar):
    if version == ATTENDED:
        return _l("Thank you for attending %(title)s", title=when_shown(webinar, "title"))
    return _l("Sorry we missed you at %(title)s", title=when_shown(webinar, "title"))


def preview(webinar: Webinar, version: str, language: str, now: datetime | None = None) -> RenderedMessage:
    """The message a sample registrant would get, in ``language``; nothing is stored."""
    now = now or utcnow()
    sample = Registration(id=0, webinar=webinar, full_name=str(_l("Alex Sample")), email="alex@example.org",
                          email_normalised="alex@example.org", preferred_language=language,
                          status=RegistrationStatus.CONFIRMED, attended=version == ATTENDED,
                          created_at=datetime(2000, 1, 1, tzinfo=UTC))
    token = SAMPLE_LINK
    certificate_url = (absolute_url("registration.certificate", language=language, token=token)
                       if version == ATTENDED else None)
    context = _context(sample, token, webinar, now, certificate_url, materials.materials_of(webinar.id))
    return render_message(f"followup_{version}", context, language, _subject(version, webinar))


def queued_counts(webinar: Webinar) -> dict[str, int]:
    """How many follow-ups of each version are already queued or sent for the webinar."""
    rows = db.session.execute(
        select(OutboxMessage.kind, func.count()).where(OutboxMessage.webinar_id == webinar.id,
                                                        OutboxMessage.kind.in_([f"followup_{v}" for v in VERSIONS]))
        .group_by(OutboxMessage.kind))
    counts = dict.fromkeys(VERSIONS, 0)
    for kind, n in rows:
        counts[kind.removeprefix("followup_")] = int(n)
    return counts


def load_webinar(webinar_id: int) -> Webinar | None:
    return db.session.scalars(
        select(Webinar).where(Webinar.id == webinar_id)
        .options(joinedload(Webinar.series).selectinload(Series.webinars), selectinload(Webinar.presentations))
    ).first()
