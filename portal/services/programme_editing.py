"""Rules for editing the programme: slugs, local times, publishing, cancelling,
moving a webinar, reordering, and refusing deletes that would orphan records.

(The public, read-only side of the programme is ``portal.services.programme``.)
Nothing here commits: the view commits the change and its audit event together.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.dates import full_datetime
from portal.extensions import db
from portal.models import (
    KeyTheme,
    Objective,
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Registration,
    RegistrationStatus,
    Series,
    Webinar,
    WebinarStatus,
)
from portal.models.bilingual import shown
from portal.models.events import series_partners
from portal.models.types import utcnow
from portal.services import message_text

SLUG_MAX = 120


class ProgrammeError(ValueError):
    """An edit broke a rule; ``field`` names the form field to attach the message to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- slugs

def slugify(text: str) -> str:
    """'Sextortion: what parents need to know' -> 'sextortion-what-parents-need-to-know'."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "item"


def _slug_taken(model, slug: str, exclude_id: int | None) -> bool:
    statement = db.select(model.id).where(model.slug == slug)
    if exclude_id is not None:
        statement = statement.where(model.id != exclude_id)
    return db.session.scalar(statement.limit(1)) is not None


def choose_slug(model, requested: str | None, title: str, exclude_id: int | None = None) -> str:
    """The slug to store.

    A slug typed by the organiser must be free (else ProgrammeError on the
    ``slug`` field); one generated from the title gets -2, -3… until free.
    """
    requested = (requested or "").strip()
    if requested:
        if _slug_taken(model, requested, exclude_id):
            raise ProgrammeError(str(_l("This slug is already used; choose another.")), field="slug")
        return requested
    base = slugify(title)
    slug, n = base, 2
    while _slug_taken(model, slug, exclude_id):
        suffix = f"-{n}"
        slug = base[: SLUG_MAX - len(suffix)] + suffix
        n += 1
    return slug


# ---------------------------------------------------------------- local times

def to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock date and time in ``zone`` as an aware UTC datetime.

    A time that does not exist (the spring-forward gap) is refused rather than
    silently shifted.
    """
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
    round_trip = local.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ProgrammeError(str(_l("This time does not exist in %(zone)s (clocks change).", zone=zone.key)),
                             field="start_time")
    return local.astimezone(ZoneInfo("UTC"))


def to_local(moment: datetime | None, zone: ZoneInfo) -> tuple[date | None, time | None]:
    if moment is None:
        return None, None
    local = moment.astimezone(zone)
    return local.date(), local.time().replace(tzinfo=None, second=0, microsecond=0)


def check_registration_window(starts_at: datetime, opens: datetime | None, closes: datetime | None) -> None:
    """The database checks these too; here they become messages next to the field."""
    if opens is not None and opens >= starts_at:
        raise ProgrammeError(str(_l("Registration must open before the webinar starts.")), field="opens_date")
    if closes is not None and closes > starts_at:
        raise ProgrammeError(str(_l("Registration must close by the start of the webinar.")),
                             field="closes_date")
    if opens is not None and closes is not None and opens >= closes:
        raise ProgrammeError(str(_l("Registration must open before it closes.")), field="closes_date")


# ---------------------------------------------------------------- webinars

_ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


def _registrants(webinar: Webinar, statuses=_ACTIVE):
    return db.session.scalars(
        db.select(Registration)
        .where(Registration.webinar_id == webinar.id, Registration.status.in_(statuses),
               Registration.email.is_not(None))
        .order_by(Registration.id)
    ).all()


def email_context(webinar: Webinar, registration: Registration, **extra) -> dict:
    from portal.services.registration import manage_url
    from portal.web import absolute_url

    language = registration.preferred_language or "en"
    return {
        "webinar": webinar,
        "registration": registration,
        "manage_url": manage_url(registration),
        "webinar_url": absolute_url("public.webinar", language=language, slug=webinar.slug),
        "calendar_url": absolute_url("public.webinar_ics", language=language, slug=webinar.slug),
        **extra,
    }


def publish_webinar(webinar: Webinar) -> None:
    if webinar.status == WebinarStatus.CANCELLED:
        raise ProgrammeError(str(_l("A cancelled webinar cannot be published again.")))
    webinar.status = WebinarStatus.PUBLISHED


def unpublish_webinar(webinar: Webinar) -> None:
    if webinar.status == WebinarStatus.CANCELLED:
        raise ProgrammeError(str(_l("A cancelled webinar stays cancelled.")))
    if _registrants(webinar):
        raise ProgrammeError(str(_l("People have registered; cancel the webinar instead of unpublishing it.")))
    webinar.status = WebinarStatus.DRAFT


def cancel_webinar(webinar: Webinar, message: str, message_fr: str | None = None) -> int:
    """Cancel and queue one email per active registrant; returns how many were queued.

    ``message`` is the English, ``message_fr`` the French; each registrant reads
    theirs, else the other one, marked as such.
    """
    from portal.services.outbox import queue_email

    if webinar.status == WebinarStatus.CANCELLED:
        raise ProgrammeError(str(_l("This webinar is already cancelled.")))
    webinar.status = WebinarStatus.CANCELLED
    webinar.cancellation_message_en = message_text.normalised(message)
    webinar.cancellation_message_fr = message_text.normalised(message_fr) or None
    # People awaiting the organisers' decision are told too: their request ends with the webinar.
    registrants = _registrants(webinar, (*_ACTIVE, RegistrationStatus.PENDING))
    for registration in registrants:
        language = registration.preferred_language or "en"
        with force_locale(language):
            subject = _("Cancelled: %(title)s", title=webinar.title)
        found = shown(webinar, "cancellation_message", language)
        queue_email(
            kind="webinar_cancelled", recipient=registration.email, subject=subject,
            template="webinar_cancelled",
            context=email_context(webinar, registration, message_version=found,
                                  paragraphs=message_text.paragraphs(found.text)),
            language=registration.preferred_language or "en", registration=registration,
            webinar=webinar, dedupe_key=f"webinar_cancelled:{registration.id}",
        )
    return len(registrants)


def reschedule(webinar: Webinar, new_start: datetime, new_duration: int) -> int:
    """Move the webinar; registrants get the new time and an updated calendar file.

    Returns the number of emails queued (0 when the time did not change).
    """
    from portal.services.outbox import queue_email

    if new_start == webinar.starts_at and new_duration == webinar.duration_minutes:
        return 0
    webinar.starts_at = new_start
    webinar.duration_minutes = new_duration
    webinar.schedule_version = (webinar.schedule_version or 1) + 1
    if webinar.status != WebinarStatus.PUBLISHED:
        return 0
    db.session.flush()
    registrants = _registrants(webinar)
    for registration in registrants:
        language = registration.preferred_language or "en"
        with force_locale(language):
            subject = _("New time: %(title)s", title=webinar.title)
        queue_email(
            kind="webinar_changed", recipient=registration.email, subject=subject,
            template="webinar_changed", context=email_context(webinar, registration),
            language=language, registration=registration, webinar=webinar,
            dedupe_key=f"changed:{registration.id}:{webinar.schedule_version}", calendar_language=language,
        )
    return len(registrants)


def risky_webinar_changes(webinar: Webinar, new_start: datetime, new_capacity: int | None,
                          now: datetime | None = None) -> list[ProgrammeError]:
    """Edits that are allowed but probably a slip, each with why, so the organiser confirms them
    with a second submit: a start moved into the past (registrants would be emailed a time already
    gone) and a capacity below the seats already confirmed (nobody loses a seat, but the waiting
    list stops moving until enough people cancel)."""
    from portal.services.registration import confirmed_count

    found = []
    if new_start != webinar.starts_at and new_start < (now or utcnow()):
        found.append(ProgrammeError(
            _("The new start, %(when)s, is in the past: registrants would be emailed a time that has "
              "already gone.", when=full_datetime(new_start, webinar.series.zone)), field="start_date"))
    if new_capacity is not None and new_capacity != webinar.capacity and webinar.id is not None:
        seated = confirmed_count(webinar)
        if new_capacity < seated:
            found.append(ProgrammeError(
                ngettext("%(num)d person already has a confirmed seat, more than a capacity of %(capacity)d: "
                         "nobody loses a seat, but nobody is moved up from the waiting list until enough "
                         "cancel.",
                         "%(num)d people already have a confirmed seat, more than a capacity of %(capacity)d: "
                         "nobody loses a seat, but nobody is moved up from the waiting list until enough "
                         "cancel.", seated, capacity=new_capacity), field="capacity"))
    return found


# ---------------------------------------------------------------- ordering

def move(items: list, item, direction: int) -> bool:
    """Swap ``item`` with its neighbour (-1 up, +1 down) by renumbering positions.

    Works on a copy: reassigning slots of a relationship list would orphan
    (and so delete) the item displaced.
    """
    ordered = list(items)
    index = ordered.index(item)
    other = index + direction
    if other < 0 or other >= len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, each in enumerate(ordered):
        each.position = position
    return True


def paired_lines(english: list[str], french: list[str] | None = None) -> list[tuple[str, str | None]]:
    """One-per-line lists in two languages as (English, French) pairs, matched by position.

    Blank lines are dropped in each list first; a line missing in one language
    becomes an empty version (English '' / French None), never a shifted one.
    """
    english = [line.strip() for line in english if line.strip()]
    french = [line.strip() for line in (french or []) if line.strip()]
    pairs = []
    for n in range(max(len(english), len(french))):
        pairs.append((english[n] if n < len(english) else "", french[n] if n < len(french) else None))
    return pairs


def set_objectives(series: Series, lines: list[str], french_lines: list[str] | None = None) -> dict:
    old = [(o.text_en or "", o.text_fr or None) for o in series.objectives]
    new = paired_lines(lines, french_lines)
    if old == new:
        return {}
    series.objectives.clear()
    db.session.flush()
    for position, (english, french) in enumerate(new):
        series.objectives.append(Objective(text_en=english, text_fr=french, position=position))
    return {"objectives": ([list(p) for p in old], [list(p) for p in new])}


def set_theme_points(theme: KeyTheme, lines: list[str], french_lines: list[str] | None = None) -> dict:
    from portal.models import ThemePoint

    old = [(p.text_en or "", p.text_fr or None) for p in theme.points]
    new = paired_lines(lines, french_lines)
    if old == new:
        return {}
    theme.points.clear()
    db.session.flush()
    for position, (english, french) in enumerate(new):
        theme.points.append(ThemePoint(text_en=english, text_fr=french, position=position))
    return {"points": ([list(p) for p in old], [list(p) for p in new])}


def set_presenters(presentation: Presentation, presenters: list[Presenter]) -> dict:
    old = [p.id for p in presentation.presenters]
    new = [p.id for p in presenters]
    if old == new:
        return {}
    presentation.presenters = list(presenters)
    db.session.flush()
    # Keep the organiser's order in the association table.
    table = Presentation.presenters.property.secondary
    for position, presenter in enumerate(presenters):
        db.session.execute(
            table.update()
            .where(table.c.presentation_id == presentation.id, table.c.presenter_id == presenter.id)
            .values(position=position)
        )
    return {"presenters": (old, new)}


class RoleRow(NamedTuple):
    """One position as the presenter form gives it: job title and unit in both languages."""

    title_en: str | None = None
    title_fr: str | None = None
    unit_en: str | None = None
    unit_fr: str | None = None
    organisation_id: int | None = None

    @classmethod
    def of(cls, role: PresenterRole) -> RoleRow:
        return cls(role.title_en, role.title_fr, role.unit_en, role.unit_fr, role.organisation_id)

    def normalised(self) -> RoleRow:
        return RoleRow(*(value or None for value in self))


def set_roles(presenter: Presenter, rows: list[RoleRow | tuple]) -> dict:
    """Replace the presenter's roles with the non-empty rows.

    A row is a ``RoleRow``, or an English-only (title, unit, organisation_id)
    triple as callers wrote before roles had a French version.
    """
    rows = [RoleRow(row[0], None, row[1], None, row[2]) if len(row) == 3 else RoleRow(*row) for row in rows]
    old = [RoleRow.of(r).normalised() for r in presenter.roles]
    new = [row.normalised() for row in rows if any(row)]
    if old == new:
        return {}
    presenter.roles.clear()
    db.session.flush()
    for position, row in enumerate(new):
        presenter.roles.append(PresenterRole(**row._asdict(), position=position))
    return {"roles": ([list(r) for r in old], [list(r) for r in new])}


# ---------------------------------------------------------------- deleting

def _count(statement) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(statement.subquery()))


def delete_webinar(webinar: Webinar) -> None:
    registrations = _count(db.select(Registration.id).where(Registration.webinar_id == webinar.id))
    if registrations:
        raise ProgrammeError(str(_l(
            "This webinar has %(count)d registrations; cancel it instead so registrants are told.",
            count=registrations)))
    from portal.models import FeedbackResponse, OutboxMessage, WebinarMessage

    for model in (FeedbackResponse, WebinarMessage):
        if _count(db.select(model.id).where(model.webinar_id == webinar.id)):
            raise ProgrammeError(str(_l("This webinar has feedback or messages on record; it cannot be deleted.")))
    db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.webinar_id == webinar.id,
                                                      OutboxMessage.registration_id.is_(None)))
    db.session.delete(webinar)


def delete_series(series: Series) -> None:
    webinars = _count(db.select(Webinar.id).where(Webinar.series_id == series.id))
    if webinars:
        raise ProgrammeError(str(_l("This series still has %(count)d webinars; delete or move them first.",
                                    count=webinars)))
    db.session.delete(series)


def delete_presentation(presentation: Presentation) -> None:
    db.session.delete(presentation)


def delete_presenter(presenter: Presenter) -> None:
    talks = _count(db.select(Presentation.id).where(Presentation.presenters.any(Presenter.id == presenter.id)))
    if talks:
        raise ProgrammeError(str(_l("This presenter gives %(count)d presentations; remove them from those first.",
                                    count=talks)))
    db.session.delete(presenter)


def delete_organisation(organisation: Organisation) -> None:
    uses = (
        _count(db.select(PresenterRole.id).where(PresenterRole.organisation_id == organisation.id))
        + _count(db.select(Series.id).where(Series.host_organisation_id == organisation.id))
        + _count(db.select(series_partners.c.series_id).where(series_partners.c.organisation_id == organisation.id))
    )
    if uses:
        raise ProgrammeError(str(_l("Presenters or series refer to this organisation (%(count)d); change them first.",
                                    count=uses)))
    db.session.delete(organisation)


def organisation_name_taken(name: str, except_ids=frozenset()) -> bool:
    """Whether another organisation (not one of ``except_ids``) has this English name, case aside:
    the name is how organisers tell organisations apart, and the database keeps it unique."""
    statement = db.select(Organisation.id).where(db.func.lower(Organisation.name_en) == name.strip().lower())
    if except_ids:
        statement = statement.where(Organisation.id.not_in(except_ids))
    return db.session.scalar(statement.limit(1)) is not None
