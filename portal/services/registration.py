"""The registration rules: who gets a seat, who waits, who is told what.

Every function here works inside the caller's transaction and never commits:
the caller commits once, so the change and the emails it causes (outbox rows)
are stored together or not at all. Functions that count seats lock the
webinar row first and keep the lock until that commit (pretix's rule: lock the
scarce resource inside the transaction, before the availability check), so
the number of confirmed registrations can never pass the capacity, whatever
the number of workers or processes.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import markupsafe
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, column, func, insert, literal_column, select, text
from sqlalchemy.orm import contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from portal.dates import full_datetime
from portal.extensions import db
from portal.models import (
    DeclineReason,
    Registration,
    RegistrationStatus,
    Sector,
    Series,
    Webinar,
    WebinarStatus,
)
from portal.models.bilingual import when_shown
from portal.models.registrations import search_text_of
from portal.models.types import utcnow
from portal.services.audience import needs_decision
from portal.services.outbox import RenderedMessage, queue_email, render_message
from portal.services.programme import plausible_slug
from portal.services.tokens import hash_token, looks_like_token, token_matches
from portal.web import absolute_url

#: Passed as ``seats`` to ``registration_state`` to mean "count them".
UNSET = object()


class RegistrationState(enum.StrEnum):
    OPEN = "open"
    WAITLIST = "waitlist"  # full, but sign-ups join the waiting list
    FULL = "full"  # full and no waiting list: refused
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"
    STARTED = "started"
    CANCELLED = "cancelled"
    DRAFT = "draft"


class RegistrationRefused(Exception):
    """Registration is not possible now; ``reason`` is a RegistrationState, ``message`` is for people."""

    def __init__(self, availability: Availability) -> None:
        self.availability = availability
        self.reason = availability.state
        super().__init__(str(availability.state))

    @property
    def message(self) -> str:
        return self.availability.reason


class RegistrationClosed(RegistrationRefused):
    """Outside the registration window, started, cancelled or draft."""


class SeatsFull(RegistrationRefused):
    """No seat left and no waiting list (or no seat to move someone up into)."""


class NotWaitlisted(Exception):
    """Only a waitlisted registration can be moved up."""


class NotAwaitingDecision(Exception):
    """Only a pending registration can be declined, and only a pending or declined one approved."""


@dataclass(frozen=True)
class Availability:
    webinar: Webinar
    state: RegistrationState
    #: Seats still free; ``None`` when the webinar has no capacity limit.
    seats_left: int | None

    @property
    def accepting(self) -> bool:
        return self.state in (RegistrationState.OPEN, RegistrationState.WAITLIST)

    @property
    def reason(self) -> str:
        """Why registration is refused, in the current language (empty when accepting)."""
        webinar = self.webinar
        if self.state == RegistrationState.NOT_OPEN_YET:
            return _("Registration opens on %(when)s.", when=_when(webinar.registration_opens_at, webinar))
        messages = {
            RegistrationState.CLOSED: _("Registration for this webinar has closed."),
            RegistrationState.STARTED: _("This webinar has already started, so registration is closed."),
            RegistrationState.CANCELLED: _("This webinar has been cancelled."),
            RegistrationState.DRAFT: _("This webinar is not open for registration."),
            RegistrationState.FULL: _("This webinar is full and has no waiting list."),
        }
        return messages.get(self.state, "")


def _when(moment: datetime, webinar: Webinar) -> str:
    """In the series' zone, named, like every other time on the pages (not the server's UTC)."""
    return full_datetime(moment, webinar.series.zone)


@dataclass
class RegistrantDetails:
    """What the form collected, already validated and trimmed."""

    full_name: str
    email: str
    organisation_name: str | None = None
    sector: Sector | None = None
    region: str | None = None
    preferred_language: str = "en"
    accessibility_needs: str | None = None

    @property
    def email_normalised(self) -> str:
        return normalise_email(self.email)


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Outcome(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ALREADY_REGISTERED = "already_registered"


@dataclass
class RegistrationOutcome:
    webinar: Webinar
    registration: Registration
    outcome: Outcome


def _core(statement, parameters):
    """Run a Core statement on the session's connection and transaction, skipping the ORM layer.

    The statements on a registration's path run on every POST, and the ORM's
    execution layer cost more than the queries. No autoflush happens here:
    callers flush pending changes first (see ``cancel_registration``).
    """
    return db.session.connection().execute(statement, parameters)


# --- counting -------------------------------------------------------------------------


def confirmed_count(webinar: Webinar) -> int:
    """The webinar's counter as stored now (triggers keep it equal to the confirmed rows)."""
    return _core(_CONFIRMED_COUNT, {"webinar_id": webinar.id}).scalar() or 0


# Built once (on table columns, so no ORM compile step).
_CONFIRMED_COUNT = select(Webinar.__table__.c.confirmed_count).where(Webinar.__table__.c.id == bindparam("webinar_id"))


def seats_left(webinar: Webinar) -> int | None:
    if webinar.capacity is None:
        return None
    return max(webinar.capacity - confirmed_count(webinar), 0)


def seats_left_for(webinars) -> dict[int, int | None]:
    """Seats left for many webinars, from their counters as loaded (no query: lists and the API)."""
    return {w.id: None if w.capacity is None else max(w.capacity - w.confirmed_count, 0) for w in webinars}


def registration_state(webinar: Webinar, now: datetime | None = None, seats=UNSET) -> Availability:
    """Whether registration is open and, if not, why. Pass ``seats`` (from ``seats_left_for``) to skip the count."""
    now = now or utcnow()
    state = _window_state(webinar, now)
    left = seats_left(webinar) if seats is UNSET else seats
    if state == RegistrationState.OPEN and left is not None and left <= 0:
        state = RegistrationState.WAITLIST if webinar.waitlist_enabled else RegistrationState.FULL
    return Availability(webinar=webinar, state=state, seats_left=left)


def _window_state(webinar: Webinar, now: datetime) -> RegistrationState:
    if webinar.status == WebinarStatus.DRAFT or not webinar.series.published:
        return RegistrationState.DRAFT
    if webinar.status == WebinarStatus.CANCELLED:
        return RegistrationState.CANCELLED
    if now >= webinar.starts_at:
        return RegistrationState.STARTED
    if webinar.registration_opens_at and now < webinar.registration_opens_at:
        return RegistrationState.NOT_OPEN_YET
    if webinar.registration_closes_at and now >= webinar.registration_closes_at:
        return RegistrationState.CLOSED
    return RegistrationState.OPEN


def registration_webinar(slug: str) -> Webinar | None:
    """The public webinar behind a registration form, with its series but not its talks.

    The form pages never show the talks and the calendar file is built when the
    email is sent (see ``outbox.calendar_attachment``), so loading the talk
    graph here would be wasted work on every registration.
    """
    if not plausible_slug(slug):
        return None
    return db.session.scalars(_REGISTRATION_WEBINAR, {"slug": slug}).first()


# Built once: on every registration, building the statement cost as much as running it.
_REGISTRATION_WEBINAR = (
    select(Webinar).join(Webinar.series)
    .where(Webinar.slug == bindparam("slug"), Webinar.status != WebinarStatus.DRAFT, Series.published.is_(True))
    .options(contains_eager(Webinar.series))
)


# --- locking --------------------------------------------------------------------------


def lock_webinar(webinar: Webinar) -> Webinar:
    """Take the webinar's row lock for the rest of the transaction and reload its rule settings."""
    _lock_and_read(webinar, None)
    return webinar


def _lock_and_read(webinar: Webinar, email_normalised: str | None) -> int | None:
    """The lock and the rule settings and, given an email, that person's active registration
    on the webinar (``None`` otherwise).

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks: a no-op UPDATE
    makes pysqlite open the transaction and take the database write lock
    before anything is counted; other writers wait (busy timeout) until commit.
    Either way one statement locks, reads the settings the rules use (values read
    after the lock, so a concurrent capacity change is seen) and looks the email
    up in the partial unique index: one round trip. Loaded talks and series stay loaded.
    """
    dialect = db.session.get_bind().dialect.name
    row = _core(_lock_statement(dialect), {"id": webinar.id, "email": email_normalised}).one()
    for name, value in zip(_RULE_COLUMNS, row, strict=False):
        set_committed_value(webinar, name, value)
    return row[-1]


_RULE_COLUMNS = ["capacity", "waitlist_enabled", "status", "starts_at", "duration_minutes",
                 "registration_opens_at", "registration_closes_at", "confirmed_count"]

# SQLite: a no-op UPDATE of a column no index covers (``SET id = id`` rewrote the indexes'
# pages: 0.03 ms more), in plain SQL because SQLAlchemy writes RETURNING's columns unqualified,
# which inside the sub-select would name the registration's own ``id``.
_SQLITE_LOCK = (
    "UPDATE webinar SET confirmed_count = confirmed_count WHERE id = :id "
    "RETURNING capacity, waitlist_enabled, status, starts_at, duration_minutes, registration_opens_at, "
    "registration_closes_at, confirmed_count, "
    "(SELECT registration.id FROM registration WHERE registration.webinar_id = webinar.id "
    "AND registration.email_normalised = :email AND registration.status != 'cancelled')"
)


@functools.cache
def _lock_statement(dialect: str):
    webinars, registrations = Webinar.__table__, Registration.__table__
    columns = [webinars.c[name] for name in _RULE_COLUMNS]
    if dialect == "sqlite":
        return text(_SQLITE_LOCK).columns(*columns, column("existing_id", Integer))
    existing = (select(registrations.c.id)
                .where(registrations.c.webinar_id == webinars.c.id,
                       registrations.c.email_normalised == bindparam("email"),
                       # a literal, as in the index's predicate, so the planner may use it
                       registrations.c.status != literal_column("'cancelled'"))
                .scalar_subquery())
    return select(*columns, existing).where(webinars.c.id == bindparam("id")).with_for_update(of=webinars)


# --- registering ----------------------------------------------------------------------


def register(webinar: Webinar, details: RegistrantDetails, now: datetime | None = None) -> RegistrationOutcome:
    """Confirm, waitlist or refuse one person for one webinar, and queue the email that says so.

    Raises ``RegistrationClosed``/``SeatsFull``. When the email is already
    registered no row is added: the manage link is emailed again, and the
    outcome is ``already_registered`` (callers must answer exactly as for a new
    registration, so the response reveals nothing).
    """
    return register_for([webinar], details, now)[0]


def register_for(webinars, details: RegistrantDetails, now: datetime | None = None) -> list[RegistrationOutcome]:
    """All or nothing: if any webinar refuses, raise before anything is added. The webinars are
    locked in id order, so two people registering for the same pair cannot deadlock."""
    now = now or utcnow()
    existing = {w.id: _lock_and_read(w, details.email_normalised) for w in sorted(webinars, key=lambda w: w.id)}
    availabilities = [registration_state(w, now, _seats_left_as_locked(w)) for w in webinars]
    for availability in availabilities:
        _refuse_unless_accepting(availability)
    return [_register_locked(a, details, now, existing[a.webinar.id]) for a in availabilities]


def _seats_left_as_locked(webinar: Webinar) -> int | None:
    """From the counter the lock statement read: the same cost with 10 or 50 000 registrations."""
    return None if webinar.capacity is None else max(webinar.capacity - webinar.confirmed_count, 0)


def _refuse_unless_accepting(availability: Availability) -> None:
    if availability.state == RegistrationState.FULL:
        raise SeatsFull(availability)
    if not availability.accepting:
        raise RegistrationClosed(availability)


def _register_locked(availability: Availability, details: RegistrantDetails, now: datetime,
                     existing_id: int | None) -> RegistrationOutcome:
    webinar = availability.webinar
    if existing_id is not None:
        existing = db.session.get(Registration, existing_id)
        _queue(existing, "link_resent", _l("Your link for %(title)s", title=when_shown(webinar, "title")), dedupe=False)
        return RegistrationOutcome(webinar, existing, Outcome.ALREADY_REGISTERED)
    if needs_decision(webinar, details.email):
        # No seat is taken or promised: the organiser's approval does that, under this same lock.
        registration = _insert_registration(webinar, details, now, RegistrationStatus.PENDING)
        _queue(registration, "pending", _l("Your request to attend %(title)s", title=when_shown(webinar, "title")),
               check_first=False)
        return RegistrationOutcome(webinar, registration, Outcome.PENDING)
    confirmed = availability.state == RegistrationState.OPEN
    registration = _insert_registration(
        webinar, details, now, RegistrationStatus.CONFIRMED if confirmed else RegistrationStatus.WAITLISTED)
    # A brand-new registration has no message yet: no look-up before rendering (ON CONFLICT still guards).
    if confirmed:
        _queue(registration, "confirmation", _l("You are registered: %(title)s", title=when_shown(webinar, "title")),
               calendar=True, check_first=False)
    else:
        _queue(registration, "waitlisted", _l("You are on the waiting list: %(title)s", title=when_shown(webinar, "title")),
               check_first=False)
    return RegistrationOutcome(webinar, registration, Outcome.CONFIRMED if confirmed else Outcome.WAITLISTED)


def _insert_registration(webinar: Webinar, details: RegistrantDetails, now: datetime,
                         status: RegistrationStatus) -> Registration:
    """One Core INSERT instead of the unit of work (a registration's largest ORM cost).

    The link's hash is known before the row exists (see ``manage_token``), so
    the INSERT writes everything and returns the id. The object is then
    attached to the session as if loaded, with every column known: no flush,
    no SELECT to read it back. The unique index still refuses a duplicate.
    """
    stamp = utcnow()
    values = {
        "webinar_id": webinar.id,
        "full_name": details.full_name,
        "email": details.email,
        "email_normalised": details.email_normalised,
        "organisation_name": details.organisation_name,
        "search_text": search_text_of(details.full_name, details.email, details.organisation_name),
        "sector": details.sector,
        "region": details.region,
        "preferred_language": details.preferred_language,
        "accessibility_needs": details.accessibility_needs,
        "consented_at": now,
        "status": status,
        "attended": False,
        "created_at": stamp,
        "updated_at": stamp,
        "cancelled_at": None,
        "promoted_at": None,
        "purged_at": None,
        "approved_at": None,
        "declined_at": None,
        "decline_reason": None,
        "decline_note": None,
    }
    values["token_hash"] = hash_token(link_token(webinar.id, details.email_normalised, stamp))
    values["id"] = _core(_INSERT_REGISTRATION, values).scalar_one()
    registration = Registration(**values)
    make_transient_to_detached(registration)  # persistent, as if loaded
    db.session.add(registration)
    set_committed_value(registration, "webinar", webinar)
    return registration


_REGISTRATIONS = Registration.__table__
_INSERT_REGISTRATION = insert(_REGISTRATIONS).returning(_REGISTRATIONS.c.id)


# --- cancelling and the waiting list -----------------------------------------------


def cancel_registration(registration: Registration, by_organiser=None, now: datetime | None = None) -> list[Registration]:
    """Cancel (idempotent) and, if a seat was freed, promote the oldest waitlisted; returns those promoted."""
    webinar = lock_webinar(registration.webinar)
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED:
        return []
    freed_seat = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now or utcnow()
    _queue(registration, "cancelled", _l("Registration cancelled: %(title)s", title=when_shown(webinar, "title")),
           extra={"by_organiser": by_organiser is not None})
    db.session.flush()
    if freed_seat and webinar.status == WebinarStatus.PUBLISHED:
        return _promote(webinar, now)
    return []


def promote_from_waitlist(webinar: Webinar, now: datetime | None = None) -> list[Registration]:
    """Fill free seats with the oldest waitlisted registrations and tell each of them."""
    return _promote(lock_webinar(webinar), now)


#: A place in the waiting list: when the person joined it (approved people join when approved).
_QUEUED_AT = func.coalesce(Registration.approved_at, Registration.created_at)


def _promote(webinar: Webinar, now: datetime | None) -> list[Registration]:
    free = seats_left(webinar)
    query = (
        select(Registration)
        .where(Registration.webinar_id == webinar.id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(_QUEUED_AT, Registration.id)
    )
    if free is not None:
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for registration in promoted:
        _confirm_from_waitlist(registration, now)
    db.session.flush()
    return promoted


def _confirm_from_waitlist(registration: Registration, now: datetime | None) -> None:
    registration.status = RegistrationStatus.CONFIRMED
    registration.promoted_at = now or utcnow()
    _queue(registration, "promoted", _l("You have a seat: %(title)s", title=when_shown(registration.webinar, "title")), calendar=True)


def change_capacity(webinar: Webinar, new_capacity: int | None, now: datetime | None = None) -> list[Registration]:
    """Set the capacity (``None`` = unlimited); raising it promotes the oldest waitlisted.

    Lowering it below the confirmed count moves nobody out: those people keep their seats.
    """
    if new_capacity is not None and new_capacity < 1:
        raise ValueError("capacity must be at least 1, or None for unlimited")
    webinar = lock_webinar(webinar)
    webinar.capacity = new_capacity
    db.session.flush()
    if webinar.status != WebinarStatus.PUBLISHED:
        return []
    return _promote(webinar, now)


def move_up(registration: Registration, now: datetime | None = None) -> Registration:
    """An organiser gives one waitlisted person a seat out of turn, only if a seat is free."""
    webinar = lock_webinar(registration.webinar)
    db.session.refresh(registration)
    if registration.status != RegistrationStatus.WAITLISTED:
        raise NotWaitlisted(registration.id)
    left = seats_left(webinar)
    if left is not None and left <= 0:
        raise SeatsFull(Availability(webinar, RegistrationState.FULL, 0))
    _confirm_from_waitlist(registration, now)
    db.session.flush()
    return registration


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person to get a seat; ``None`` unless waitlisted."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    queued_at = registration.approved_at or registration.created_at
    others_queued_at = _QUEUED_AT
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.webinar_id == registration.webinar_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            (others_queued_at < queued_at)
            | ((others_queued_at == queued_at) & (Registration.id < registration.id)),
        )
    )
    return (ahead or 0) + 1


# --- an organiser's decision (approval, restricted and invitation webinars) ---------------


def approve(registration: Registration, now: datetime | None = None) -> Registration:
    """Give a pending (or earlier declined) registration a seat, or a waiting-list place when full.

    Takes the webinar's lock before counting, exactly like registering, so
    approvals racing with sign-ups never confirm more people than the capacity.
    Approved people join the waiting list in order of approval. Raises
    ``NotAwaitingDecision`` for any other status, ``RegistrationClosed`` when the
    webinar is cancelled or unpublished (it takes no registrations), ``SeatsFull``
    when full with no waiting list (the registration stays as it was).
    """
    webinar = lock_webinar(registration.webinar)
    db.session.refresh(registration)
    if registration.status not in (RegistrationStatus.PENDING, RegistrationStatus.DECLINED):
        raise NotAwaitingDecision(registration.id)
    now = now or utcnow()
    state = _window_state(webinar, now)
    if state in (RegistrationState.CANCELLED, RegistrationState.DRAFT):
        raise RegistrationClosed(Availability(webinar, state, None))
    left = seats_left(webinar)
    if left is not None and left <= 0 and not webinar.waitlist_enabled:
        raise SeatsFull(Availability(webinar, RegistrationState.FULL, 0))
    registration.approved_at = now
    registration.declined_at = registration.decline_reason = registration.decline_note = None
    if left is None or left > 0:
        registration.status = RegistrationStatus.CONFIRMED
        _queue(registration, "confirmation", _l("You are registered: %(title)s", title=when_shown(webinar, "title")),
               calendar=True)
    else:
        registration.status = RegistrationStatus.WAITLISTED
        _queue(registration, "waitlisted", _l("You are on the waiting list: %(title)s", title=when_shown(webinar, "title")))
    db.session.flush()
    return registration


def decline(registration: Registration, reason: DeclineReason, note: str | None = None,
            now: datetime | None = None) -> Registration:
    """Refuse a pending registration and tell the person, politely, with the reason chosen.

    No seat changes hands (a pending registration holds none), but the webinar's lock is
    taken as for an approval, so a decline and an approval of the same person cannot both
    happen (the second sees the first's status and refuses).
    """
    lock_webinar(registration.webinar)
    db.session.refresh(registration)
    if registration.status != RegistrationStatus.PENDING:
        raise NotAwaitingDecision(registration.id)
    registration.status = RegistrationStatus.DECLINED
    registration.declined_at = now or utcnow()
    registration.decline_reason = DeclineReason(reason)
    registration.decline_note = (note or "").strip() or None
    _queue(registration, "declined", _l("Your request to attend %(title)s", title=when_shown(registration.webinar, "title")),
           extra={"reason": registration.decline_reason.value, "note": registration.decline_note or ""})
    db.session.flush()
    return registration


def update_details(registration: Registration, full_name: str, organisation_name: str | None) -> None:
    registration.full_name = full_name
    registration.organisation_name = organisation_name


# --- the attendee's link --------------------------------------------------------------


def manage_token(registration: Registration) -> str:
    """The secret in the registration's links, derivable again for every later email.

    Only its hash is stored, yet the reminder, promotion, resend and feedback
    emails must carry the same link: so the token is an HMAC under SECRET_KEY
    (a 256-bit secret) of what identifies the registration from its first
    instant (webinar, email, creation time to the microsecond; one active
    registration per email and webinar), not a random value that would have
    to be kept. Being known before the INSERT, its hash goes in with the row.
    Links of registrations made before this form (an HMAC of the id) still work.
    """
    token = link_token(registration.webinar_id, registration.email_normalised, registration.created_at)
    if token_matches(token, registration.token_hash):
        return token
    return _link_token_from_id(registration.id, registration.created_at)


def link_token(webinar_id: int, email_normalised: str | None, created_at: datetime) -> str:
    """The link of a registration being created (see ``manage_token``)."""
    return _hmac_token(f"registration-link:v2:{webinar_id}:{email_normalised}:{_instant(created_at)}")


def _link_token_from_id(registration_id: int, created_at: datetime) -> str:
    return _hmac_token(f"registration-link:{registration_id}:{_instant(created_at)}")


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


def _hmac_token(message: str) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode("utf-8"), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def find_by_token(token: str) -> Registration | None:
    """The registration behind a link, or ``None`` for anything unknown or malformed."""
    if not looks_like_token(token):
        return None
    registration = db.session.scalar(select(Registration).where(Registration.token_hash == hash_token(token)))
    if registration is None or not token_matches(token, registration.token_hash):
        return None
    return registration


def manage_url(registration: Registration) -> str:
    """The manage page at its address in the registrant's language (``/fr/registration/…``)."""
    return absolute_url("registration.manage", language=registration.preferred_language,
                        token=manage_token(registration))


def join_link_open(registration: Registration, now: datetime | None = None) -> bool:
    """The join link shows only to confirmed people, from the lead time before the start until the end."""
    webinar = registration.webinar
    now = now or utcnow()
    lead = timedelta(minutes=current_app.config["JOIN_LINK_LEAD_MINUTES"])
    return (
        bool(webinar.join_url)
        and registration.status == RegistrationStatus.CONFIRMED
        and webinar.status == WebinarStatus.PUBLISHED
        and webinar.starts_at - lead <= now < webinar.ends_at
    )


# --- emails ---------------------------------------------------------------------------


#: Columns that change with every registration and that no email shows: keyed on, they would
#: make every registration render its email from scratch (the seat counter did, 2 ms a POST).
_NOT_IN_EMAILS = frozenset({"confirmed_count"})


def _row_key(instance) -> tuple:
    """Every column value of a loaded row that an email may show: any change to one (ORM or Core)
    gives a new key."""
    return (type(instance).__name__,
            *(getattr(instance, c.key) for c in instance.__table__.columns if c.key not in _NOT_IN_EMAILS))


def _queue(registration: Registration, kind: str, subject, *, dedupe: bool = True, calendar: bool = False,
           extra: dict | None = None, check_first: bool = True):
    webinar = registration.webinar
    language = registration.preferred_language or "en"
    return queue_email(
        kind=kind,
        recipient=registration.email,
        subject=subject,
        template=kind,
        context={},
        language=language,
        registration=registration,
        webinar=webinar,
        dedupe_key=f"{kind}:{registration.id}" if dedupe else None,
        calendar_language=language if calendar else None,
        check_first=check_first,
        rendered=_message(kind, subject, registration, language, extra or {}),
    )


# A message is rendered once per kind, language and webinar state, with these two
# markers in place of what differs per person, then the person's values are put
# in. The email templates may use ``registration.full_name`` and ``manage_url``
# as text only; touching any other registration attribute makes that message
# render in full every time (``_SharedOnly``), and so does a marker a filter
# altered. Private-use characters: the form refuses them in names.
_NAME, _LINK = "\ue000name\ue001", "\ue000link\ue001"
_MARKERS = re.compile("\ue000(?:name|link)\ue001")
_MESSAGE_CACHE_SIZE = 256
_RENDER_EVERY_TIME = object()


class _NotShared(Exception):
    """A template read something of the registration other than its name."""


class _SharedOnly:
    """Stands in for the registration while a message is rendered for everybody."""

    full_name = _NAME

    def __getattr__(self, name: str):
        raise _NotShared(name)


def _message(kind: str, subject, registration: Registration, language: str, extra: dict) -> RenderedMessage:
    webinar = registration.webinar
    key = (kind, language, _lazy_key(subject), _row_key(webinar), _row_key(webinar.series),
           tuple(sorted(extra.items())), current_app.config["PORTAL_BASE_URL"],
           current_app.config["JOIN_LINK_LEAD_MINUTES"])
    cache = current_app.extensions.setdefault("registration_messages", {})
    shared = cache.get(key)
    if shared is None:
        if len(cache) >= _MESSAGE_CACHE_SIZE:
            cache.clear()
        shared = cache[key] = _render_shared(kind, subject, webinar, language, extra)
    personal = {"name": registration.full_name, "url": manage_url(registration)}
    if shared is _RENDER_EVERY_TIME:
        return render_message(kind, _context(registration, webinar, personal["url"], extra, language), language, subject)
    return RenderedMessage(
        subject=shared.subject,
        text=_fill(shared.text, personal, escape=False),
        html=None if shared.html is None else _fill(shared.html, personal, escape=True),
    )


def _render_shared(kind: str, subject, webinar: Webinar, language: str, extra: dict):
    try:
        shared = render_message(kind, _context(_SharedOnly(), webinar, _LINK, extra, language), language, subject)
    except _NotShared:
        return _RENDER_EVERY_TIME
    for body in (shared.text, shared.html or ""):
        if "\ue000" in _MARKERS.sub("", body) or "\ue001" in _MARKERS.sub("", body):
            return _RENDER_EVERY_TIME
    return shared


def _fill(body: str, personal: dict, escape: bool) -> str:
    name, url = str(personal["name"]), personal["url"]
    if escape:
        name, url = str(markupsafe.escape(name)), str(markupsafe.escape(url))
    return _MARKERS.sub(lambda m: name if m.group(0) == _NAME else url, body)


def _lazy_key(subject) -> tuple:
    """A lazy subject by what it is made of (its text depends on the language being rendered)."""
    return (getattr(subject, "_args", str(subject)), tuple(sorted(getattr(subject, "_kwargs", {}).items())))


def _context(registration, webinar: Webinar, link: str, extra: dict, language: str) -> dict:
    return {
        "registration": registration,
        "webinar": webinar,
        "manage_url": link,
        "webinar_url": absolute_url("public.webinar", language=language, slug=webinar.slug),
        "calendar_url": absolute_url("public.webinar_ics", language=language, slug=webinar.slug),
        **extra,
    }


def queue_reminder(registration: Registration) -> bool:
    """Queue the reminder once per registration; ``False`` when it was already queued."""
    subject = _l("Reminder: %(title)s", title=when_shown(registration.webinar, "title"))
    return _queue(registration, "reminder", subject, calendar=True) is not None
