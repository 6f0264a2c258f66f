"""Certificates of attendance: who gets one, issuing it once, verifying and revoking it.

A webinar certificate belongs to one attended registration; a series
certificate to one person (normalised email) who attended enough webinars of a
series. Issuing is idempotent — an ``INSERT … ON CONFLICT DO NOTHING`` on the
unique registration (or series and person), then a read — so two requests
racing to issue the same certificate end with one row. What the certificate
says (the name, the hours, the sessions) is frozen when it is issued.

Functions here work in the caller's transaction and never commit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import (
    Certificate,
    CertificateKind,
    Registration,
    RegistrationStatus,
    Series,
    Webinar,
    WebinarStatus,
)
from portal.models.bilingual import shown
from portal.models.types import utcnow
from portal.services import attendance, audit
from portal.web import absolute_url

#: Longest code we ever hand out (token_urlsafe(24) is 32 characters); longer input is not looked up.
CODE_LENGTH_LIMIT = 64
#: The base64url alphabet ``token_urlsafe`` draws from.
CODE_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")


def new_code() -> str:
    """192 random bits, URL-safe: a code cannot be guessed or enumerated."""
    return secrets.token_urlsafe(24)


def verification_url(certificate: Certificate) -> str:
    return absolute_url("public.certificate", code=certificate.code)


# --- who attended ------------------------------------------------------------------------


def webinar_settled(webinar: Webinar, now: datetime | None = None) -> bool:
    """Certificates wait until the webinar has ended and the organiser said its attendance is final."""
    return (webinar.status == WebinarStatus.PUBLISHED and webinar.ends_at <= (now or utcnow())
            and attendance.attendance_is_final(webinar))


def attendance_counts(registration: Registration, now: datetime | None = None) -> bool:
    """A confirmed registration that attended (``attendance.has_attended``) a settled webinar."""
    return (registration.status == RegistrationStatus.CONFIRMED and attendance.has_attended(registration)
            and registration.purged_at is None and webinar_settled(registration.webinar, now))


def _attended(now: datetime):
    return (Registration.status == RegistrationStatus.CONFIRMED, Registration.attended.is_(True),
            Registration.purged_at.is_(None), Webinar.status == WebinarStatus.PUBLISHED,
            Webinar.starts_at <= now, Webinar.attendance_final_at.is_not(None))


# --- issuing -----------------------------------------------------------------------------


def _insert_once(values: list[dict]) -> None:
    if not values:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.flush()
    db.session.execute(insert(Certificate).values(values).on_conflict_do_nothing())


def _webinar_values(registration: Registration) -> dict:
    webinar = registration.webinar
    return {
        "code": new_code(), "kind": CertificateKind.WEBINAR, "registration_id": registration.id,
        "webinar_id": webinar.id, "series_id": webinar.series_id,
        "email_normalised": registration.email_normalised,
        "printed_name": (registration.full_name or "").strip()[:200],
        "language": registration.preferred_language if registration.preferred_language in ("en", "fr") else "en",
        "credited_minutes": webinar.credited_minutes, "issued_at": utcnow(),
    }


def certificate_of(registration: Registration) -> Certificate | None:
    """The registration's certificate if one was issued (issues nothing)."""
    return db.session.scalar(select(Certificate).where(Certificate.registration_id == registration.id))


def certificate_for(registration: Registration, now: datetime | None = None) -> Certificate | None:
    """The registration's certificate, issued now if it has none and attendance counts; else ``None``."""
    existing = db.session.scalar(select(Certificate).where(Certificate.registration_id == registration.id))
    if existing is not None or not attendance_counts(registration, now):
        return existing
    _insert_once([_webinar_values(registration)])
    return db.session.scalar(select(Certificate).where(Certificate.registration_id == registration.id))


def issue_for_webinar(webinar: Webinar, now: datetime | None = None) -> int:
    """Issue the missing certificates of every attended registration; returns how many were new.

    Two queries and one INSERT whatever the number of attendees.
    """
    now = now or utcnow()
    if not webinar_settled(webinar, now):
        return 0
    missing = db.session.scalars(
        select(Registration)
        .join(Webinar, Webinar.id == Registration.webinar_id)
        .outerjoin(Certificate, Certificate.registration_id == Registration.id)
        .where(Registration.webinar_id == webinar.id, Certificate.id.is_(None), *_attended(now))
        .options(joinedload(Registration.webinar))
        .order_by(Registration.id)
    ).all()
    _insert_once([_webinar_values(r) for r in missing])
    return len(missing)


def webinar_certificates(webinar: Webinar) -> list[Certificate]:
    return list(db.session.scalars(
        select(Certificate).where(Certificate.webinar_id == webinar.id, Certificate.kind == CertificateKind.WEBINAR)
        .options(joinedload(Certificate.webinar).joinedload(Webinar.series).joinedload(Series.host))
        .order_by(Certificate.printed_name, Certificate.id)
    ))


def find_by_code(code: str) -> Certificate | None:
    """The certificate with this code; input that cannot be a code (wrong length or characters,
    a NUL byte PostgreSQL would refuse) is not looked up at all."""
    if not code or len(code) > CODE_LENGTH_LIMIT or not CODE_CHARACTERS.fullmatch(code):
        return None
    return db.session.scalar(
        select(Certificate).where(Certificate.code == code)
        .options(joinedload(Certificate.webinar), joinedload(Certificate.series).joinedload(Series.host))
    )


class AlreadyRevoked(Exception):
    pass


def revoke(certificate: Certificate) -> None:
    """Mark it revoked (the verification page then says so) and audit who did it."""
    if certificate.revoked:
        raise AlreadyRevoked()
    certificate.revoked_at = utcnow()
    audit.record("certificate_revoked", certificate,
                 summary=f"certificate #{certificate.id} of {certificate.printed_name}"[:300],
                 changes={"revoked": (False, True)})


# --- series ------------------------------------------------------------------------------


def webinars_counted(series: Series) -> list[Webinar]:
    """The series' webinars that count toward its certificate: published ones (not drafts, not cancelled)."""
    return [w for w in series.webinars if w.status == WebinarStatus.PUBLISHED]


def required_webinars(series: Series) -> int:
    counted = len(webinars_counted(series))
    wanted = series.certificate_min_webinars
    return min(wanted, counted) if wanted else counted


@dataclass
class SeriesAttendance:
    email_normalised: str
    registrations: list[Registration]

    @property
    def printed_name(self) -> str:
        return (self.registrations[-1].full_name or "").strip()[:200]

    @property
    def language(self) -> str:
        language = self.registrations[-1].preferred_language
        return language if language in ("en", "fr") else "en"


def series_attendance(series: Series, now: datetime | None = None,
                      email_normalised: str | None = None) -> list[SeriesAttendance]:
    """People with enough attended webinars in the series for its certificate (one query)."""
    now = now or utcnow()
    needed = required_webinars(series)
    if needed == 0:
        return []
    statement = (
        select(Registration).join(Webinar, Webinar.id == Registration.webinar_id)
        .where(Webinar.series_id == series.id, Registration.email_normalised.is_not(None), *_attended(now))
        .options(joinedload(Registration.webinar))
        .order_by(Registration.email_normalised, Webinar.starts_at)
    )
    if email_normalised is not None:
        statement = statement.where(Registration.email_normalised == email_normalised)
    people: dict[str, list[Registration]] = {}
    for registration in db.session.scalars(statement):
        people.setdefault(registration.email_normalised, []).append(registration)
    return [SeriesAttendance(email, regs) for email, regs in people.items() if len(regs) >= needed]


def _series_values(series: Series, person: SeriesAttendance) -> dict:
    # The title in the holder's language, not in whoever's request issued it.
    sessions = [{"webinar_id": r.webinar.id, "title": shown(r.webinar, "title", person.language).text,
                 "starts_at": r.webinar.starts_at.isoformat(),
                 "minutes": r.webinar.credited_minutes} for r in person.registrations]
    return {
        "code": new_code(), "kind": CertificateKind.SERIES, "registration_id": None, "webinar_id": None,
        "series_id": series.id, "email_normalised": person.email_normalised, "printed_name": person.printed_name,
        "language": person.language, "credited_minutes": sum(s["minutes"] for s in sessions),
        "sessions": sessions, "issued_at": utcnow(),
    }


def _series_certificate(series_id: int, email_normalised: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(
        Certificate.kind == CertificateKind.SERIES, Certificate.series_id == series_id,
        Certificate.email_normalised == email_normalised))


def series_certificate_for(registration: Registration, now: datetime | None = None) -> Certificate | None:
    """The series certificate of the registration's person, issued now if they qualify; else ``None``."""
    series = registration.webinar.series
    email = registration.email_normalised
    if email is None:
        return None
    existing = _series_certificate(series.id, email)
    if existing is not None:
        return existing
    qualifying = series_attendance(series, now, email_normalised=email)
    if not qualifying:
        return None
    _insert_once([_series_values(series, qualifying[0])])
    return _series_certificate(series.id, email)


def series_certificate_available(registration: Registration, now: datetime | None = None) -> bool:
    """Has (or may get) a valid series certificate; issues nothing."""
    if registration.email_normalised is None:
        return False
    existing = _series_certificate(registration.webinar.series_id, registration.email_normalised)
    if existing is not None:
        return not existing.revoked
    return bool(series_attendance(registration.webinar.series, now, email_normalised=registration.email_normalised))


def issue_for_series(series: Series, now: datetime | None = None) -> int:
    """Issue the missing series certificates; returns how many were new."""
    have = set(db.session.scalars(select(Certificate.email_normalised).where(
        Certificate.kind == CertificateKind.SERIES, Certificate.series_id == series.id)))
    new = [p for p in series_attendance(series, now) if p.email_normalised not in have]
    _insert_once([_series_values(series, p) for p in new])
    return len(new)


def series_certificates(series: Series) -> list[Certificate]:
    return list(db.session.scalars(
        select(Certificate).where(Certificate.series_id == series.id, Certificate.kind == CertificateKind.SERIES)
        .options(joinedload(Certificate.series).joinedload(Series.host))
        .order_by(Certificate.printed_name, Certificate.id)
    ))


def count_for_webinars(webinar_ids: list[int]) -> dict[int, int]:
    if not webinar_ids:
        return {}
    return dict(db.session.execute(
        select(Certificate.webinar_id, func.count()).where(Certificate.webinar_id.in_(webinar_ids),
                                                           Certificate.revoked_at.is_(None))
        .group_by(Certificate.webinar_id)).all())
