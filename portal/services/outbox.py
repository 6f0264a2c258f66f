"""The outbox: every email is first a row written with the change that causes it.

``queue_email`` renders and adds a message to the caller's transaction without
committing, so a rolled-back change sends nothing and a committed change always
has its email. ``deliver_due`` (``flask outbox send``) hands the rows to SMTP or
the ``.eml`` folder, retrying failures with exponential backoff.
"""

from __future__ import annotations

import functools
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import joinedload, make_transient_to_detached, selectinload

from portal.extensions import db
from portal.models import (
    OutboxMessage,
    OutboxStatus,
    Presentation,
    Presenter,
    PresenterRole,
    Registration,
    Webinar,
)
from portal.models.types import utcnow
from portal.services.calendar import webinar_calendar
from portal.services.mailer import build_email, open_transport

#: How long a claimed message is reserved for the worker that claimed it; if the
#: worker dies mid-send the message becomes due again after this.
CLAIM_LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
DEFAULT_MAX_ATTEMPTS = 8
ERROR_LIMIT = 2000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: The mail server could not be reached at all (a worker backs off before the next pass).
    server_down: bool = False

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.server_down = other.server_down

    def summary(self) -> str:
        return f"outbox: {self.sent} sent, {self.retrying} to retry, {self.failed} failed for good"


def queue_email(
    *,
    kind: str,
    recipient: str,
    subject,
    template: str,
    context: dict,
    language: str = "en",
    registration: Registration | None = None,
    webinar: Webinar | None = None,
    dedupe_key: str | None = None,
    calendar_language: str | None = None,
    check_first: bool = True,
    rendered: RenderedMessage | None = None,
) -> OutboxMessage | None:
    """Add a rendered message to the current transaction (the caller commits).

    Renders ``templates/email/<template>.txt`` (and ``.html`` when present) in
    ``language``; ``subject`` may be a lazy string. Returns ``None`` when a
    message with ``dedupe_key`` already exists: that is how "at most once per
    registration and kind" holds, even between two racing transactions.
    ``check_first=False`` skips the look-up that saves rendering a duplicate,
    for keys that cannot exist yet (a registration created in this
    transaction): the INSERT … ON CONFLICT still decides. A caller that
    already has the message (``rendered``, from ``render_message``) skips the
    rendering. ``calendar_language`` attaches the webinar's calendar in that
    language, built when the message is sent (see ``calendar_attachment``).
    """
    if dedupe_key and check_first and _already_queued(dedupe_key):
        return None
    if rendered is None:
        rendered = render_message(template, context, language, subject)
    values = {
        "kind": kind,
        "recipient": recipient,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "calendar_language": calendar_language if webinar is not None else None,
        "ics": None,
        "registration_id": registration.id if registration is not None else None,
        "webinar_id": webinar.id if webinar is not None else None,
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
    }
    if dedupe_key is None:
        message = OutboxMessage(**values)
        db.session.add(message)
        return message
    return _insert_once(values)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str | None


def render_message(template: str, context: dict, language: str, subject) -> RenderedMessage:
    """``templates/email/<template>.txt`` (and ``.html`` when present) and the subject, in ``language``."""
    with force_locale(language):
        context = {**context, "language": language}
        return RenderedMessage(
            subject=_one_line(str(subject))[:300],
            text=render_template(f"email/{template}.txt", **context),
            html=_render_optional(f"email/{template}.html", context),
        )


def _one_line(subject: str) -> str:
    """A header on one line. Only ASCII white space is collapsed: ``str.split()`` would also
    turn French no-break spaces ("Rappel\u00a0: …") into ordinary ones."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", subject).strip()


def _already_queued(dedupe_key: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def _insert_once(values: dict) -> OutboxMessage | None:
    """INSERT … ON CONFLICT DO NOTHING: a duplicate key leaves the caller's transaction intact.

    (Chosen over a SAVEPOINT because pysqlite's implicit transactions make a
    savepoint opened first in a transaction commit on release.) The statement
    is built once per dialect and the values go as parameters, and the new
    row is attached to the session from the values it was written with, so a
    queued message costs one round trip.
    """
    db.session.flush()
    statement = _insert_once_statement(db.session.get_bind().dialect.name)
    new_id = db.session.connection().execute(statement, values).scalar()
    if new_id is None:
        return None
    message = OutboxMessage(id=new_id, **values)
    make_transient_to_detached(message)  # persistent, as if loaded: no SELECT to get it back
    db.session.add(message)
    return message


#: Plain SQL, the same on SQLite and PostgreSQL, for the columns ``queue_email`` fills.
_INSERT_ONCE = (
    "INSERT INTO outbox_message (kind, recipient, subject, body_text, body_html, calendar_language, ics, "
    "registration_id, webinar_id, dedupe_key, status, attempts, next_attempt_at, created_at) "
    "VALUES (:kind, :recipient, :subject, :body_text, :body_html, :calendar_language, :ics, :registration_id, "
    ":webinar_id, :dedupe_key, :status, :attempts, :next_attempt_at, :created_at) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)


@functools.cache
def _insert_once_statement(dialect: str):
    """A ``text()`` with the columns' types as its parameters (enum and UTC date handling kept).

    SQLAlchemy cannot cache the compiled form of ``insert().on_conflict_do_nothing()``,
    so that construct was compiled again for every message; this compiles once.
    """
    table = OutboxMessage.__table__
    names = re.findall(r":(\w+)", _INSERT_ONCE)
    return text(_INSERT_ONCE).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names)).columns(table.c.id)


def _render_optional(template: str, context: dict) -> str | None:
    try:
        return render_template(template, **context)
    except TemplateNotFound:
        return None


def max_attempts() -> int:
    return int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4, 8… capped at six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def deliver_due(now: datetime | None = None, batch: int = 50,
                stop: Callable[[], bool] | None = None) -> DeliveryReport:
    """One delivery pass: claim up to ``batch`` due messages, send them, record each outcome.

    Claiming is one UPDATE that pushes the messages' next attempt past a lease
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the database write lock on
    SQLite), committed before any network traffic, so two workers never send
    the same message and no database lock is held while talking to SMTP.

    When the mail server cannot be reached at all, the claimed messages are
    handed back due at once without spending one of their attempts (an outage
    is not the message's fault: a long one must not make confirmations fail for
    good) and ``report.server_down`` is set. ``stop()`` is asked after each
    message: when it answers true the pass ends after the message in hand and
    the rest are handed back, so a worker stopped by a signal delays nothing.
    """
    now = now or utcnow()
    ids = _claim(now, batch)
    report = DeliveryReport()
    if not ids:
        return report
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    ).all()
    handled: set[int] = set()
    calendars: dict[tuple[int, str], bytes] = {}
    try:
        with open_transport() as transport:
            for message in messages:
                try:
                    transport.send(build_email(message, calendar_attachment(message, calendars)), message)
                except _SESSION_LOST as error:
                    # The message in hand spends its try (it may be the cause); the rest go back
                    # untouched, below, as when the server cannot be reached at all.
                    _record_failure(message, error, now, report)
                    handled.add(message.id)
                    db.session.commit()
                    raise
                except (OSError, smtplib.SMTPException) as error:
                    _record_failure(message, error, now, report)
                else:
                    _record_sent(message, report)
                handled.add(message.id)
                db.session.commit()
                if stop is not None and stop():
                    break
    except (OSError, smtplib.SMTPException) as error:
        # The server could not be reached at all, or the session broke during the pass.
        report.server_down = True
        _hand_back([m for m in messages if m.id not in handled], now, error)
        report.retrying += len(messages) - len(handled)
        return report
    _hand_back([m for m in messages if m.id not in handled], now)
    return report


#: The connection itself is gone: not one message's fault.
_SESSION_LOST = (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError)


def _hand_back(messages: list[OutboxMessage], now: datetime, error: Exception | None = None) -> None:
    """End the claim on messages this pass did not try: due again now, attempts unchanged."""
    for message in messages:
        message.next_attempt_at = now
        if error is not None:
            message.last_error = f"{type(error).__name__}: {error}"[:ERROR_LIMIT]
    db.session.commit()


def calendar_attachment(message: OutboxMessage, built: dict | None = None) -> bytes | None:
    """The .ics the message carries: its webinar as it is now, in the message's language.

    ``built`` keeps the files of one delivery pass, so a batch of confirmations
    for one webinar builds its calendar once. A message queued before calendars
    were built at send time carries its stored file; a message whose webinar is
    gone goes without one.
    """
    if message.ics:
        return message.ics.encode("utf-8")
    if message.calendar_language is None or message.webinar_id is None:
        return None
    built = {} if built is None else built
    key = (message.webinar_id, message.calendar_language)
    if key not in built:
        built[key] = _webinar_calendar(message.webinar_id, message.calendar_language)
    return built[key]


def _webinar_calendar(webinar_id: int, language: str) -> bytes | None:
    webinar = db.session.scalars(
        select(Webinar).where(Webinar.id == webinar_id).options(
            joinedload(Webinar.series),
            selectinload(Webinar.presentations).selectinload(Presentation.presenters)
            .selectinload(Presenter.roles).joinedload(PresenterRole.organisation))
    ).first()
    if webinar is None:
        return None
    with force_locale(language):
        return webinar_calendar(webinar)


def _claim(now: datetime, batch: int) -> list[int]:
    table = OutboxMessage.__table__
    due = (
        select(table.c.id)
        .where(table.c.status == OutboxStatus.PENDING.value, table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + CLAIM_LEASE)
        .returning(table.c.id)
    )
    ids = sorted(db.session.execute(claim).scalars().all())
    db.session.commit()
    return ids


def _record_sent(message: OutboxMessage, report: DeliveryReport) -> None:
    message.attempts += 1
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    message.last_error = None
    report.sent += 1


def _record_failure(message: OutboxMessage, error: Exception, now: datetime, report: DeliveryReport) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:ERROR_LIMIT]
    if message.attempts >= max_attempts():
        message.status = OutboxStatus.FAILED
        report.failed += 1
    else:
        message.next_attempt_at = now + retry_delay(message.attempts)
        report.retrying += 1


def deliver_all_due(now: datetime | None = None, batch: int = 50, max_passes: int = 1000,
                    stop: Callable[[], bool] | None = None) -> DeliveryReport:
    """Passes until nothing due is left (bounded, so a flood cannot spin forever), the mail
    server is down, or ``stop()`` says so."""
    total = DeliveryReport()
    for _ in range(max_passes):
        report = deliver_due(now=now, batch=batch, stop=stop)
        total.add(report)
        if report.claimed < batch or report.server_down or (stop is not None and stop()):
            break
    return total
