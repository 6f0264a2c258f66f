"""What the public may see of the programme, loaded in a fixed number of queries.

Every function here eager-loads what the public pages and calendar files read
(presentations → presenters → roles → organisation), so a page costs the same
number of SQL statements with three webinars or three hundred. Drafts — a
webinar in draft, or any webinar of an unpublished series — are never returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    KeyTheme,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    Webinar,
    WebinarStatus,
)
from portal.models.types import utcnow

#: Longest slug the schema stores; longer (or control-character) slugs cannot exist.
SLUG_MAX = 120

# Collections that grow with the programme are joined, not "selectin"-loaded: selectin
# splits its IN list into chunks of 500, so the query count would creep up with size.
_ROLES = (joinedload(Presenter.roles).joinedload(PresenterRole.organisation),)


def _talks(path):
    """Presentations with their presenters and roles, joined onto ``path``."""
    return (
        path.joinedload(Presentation.presenters)
        .joinedload(Presenter.roles)
        .joinedload(PresenterRole.organisation),
    )


def _is_public():
    return and_(Webinar.status != WebinarStatus.DRAFT, Series.published.is_(True))


def plausible_slug(slug: str) -> bool:
    """Cheap guard before a query: NUL bytes break PostgreSQL, and no slug is that long."""
    return 0 < len(slug) <= SLUG_MAX and slug.isprintable()


@dataclass
class Programme:
    """The public webinars, split around now, and the series to feature on the home page."""

    upcoming: list[Webinar] = field(default_factory=list)
    past: list[Webinar] = field(default_factory=list)
    current_series: Series | None = None


def public_webinars() -> list[Webinar]:
    """Published and cancelled webinars of published series, earliest first."""
    statement = (
        db.select(Webinar)
        .join(Webinar.series)
        .where(_is_public())
        .options(
            joinedload(Webinar.series),
            *_talks(joinedload(Webinar.presentations)),
        )
        .order_by(Webinar.starts_at, Webinar.id)
    )
    return list(db.session.scalars(statement).unique())


def programme() -> Programme:
    """Upcoming (soonest first) and past (latest first) public webinars."""
    now = utcnow()
    webinars = public_webinars()
    upcoming = [w for w in webinars if w.ends_at > now]
    past = [w for w in reversed(webinars) if w.ends_at <= now]
    return Programme(upcoming=upcoming, past=past, current_series=_current_series(upcoming, past))


def _current_series(upcoming: list[Webinar], past: list[Webinar]) -> Series | None:
    """The series of the next webinar; else of the latest one; else the newest published."""
    if upcoming:
        return upcoming[0].series
    if past:
        return past[0].series
    return db.session.scalars(
        db.select(Series).where(Series.published.is_(True)).order_by(Series.created_at.desc()).limit(1)
    ).first()


def public_webinar(slug: str) -> Webinar | None:
    if not plausible_slug(slug):
        return None
    statement = (
        db.select(Webinar)
        .join(Webinar.series)
        .where(Webinar.slug == slug, _is_public())
        .options(joinedload(Webinar.series), *_talks(joinedload(Webinar.presentations)))
    )
    return db.session.scalars(statement).unique().first()


def _spoke_publicly():
    """Presenters with at least one talk in a public webinar."""
    return Presenter.presentations.any(
        Presentation.webinar.has(and_(Webinar.status != WebinarStatus.DRAFT,
                                      Webinar.series.has(Series.published.is_(True))))
    )


def _presenter_options():
    talks = selectinload(Presenter.presentations)
    webinar = talks.joinedload(Presentation.webinar)
    return (*_ROLES, webinar.joinedload(Webinar.series))


def public_presenters() -> list[Presenter]:
    statement = (
        db.select(Presenter)
        .where(_spoke_publicly())
        .options(*_ROLES)
        .order_by(Presenter.is_team, Presenter.name)
    )
    return list(db.session.scalars(statement).unique())


def public_presenter(slug: str) -> Presenter | None:
    if not plausible_slug(slug):
        return None
    statement = db.select(Presenter).where(Presenter.slug == slug, _spoke_publicly()).options(
        *_presenter_options()
    )
    return db.session.scalars(statement).unique().first()


def public_talks(presenter: Presenter) -> list[Presentation]:
    """The presenter's talks in public webinars, latest first (from what is already loaded)."""
    talks = [p for p in presenter.presentations if p.webinar is not None and p.webinar.is_public]
    return sorted(talks, key=lambda p: (p.webinar.starts_at, p.position), reverse=True)


def published_series(slug: str) -> Series | None:
    """A published series with its themes, partners and public webinars' talks."""
    if not plausible_slug(slug):
        return None
    webinars = selectinload(Series.webinars)
    statement = (
        db.select(Series)
        .where(Series.slug == slug, Series.published.is_(True))
        .options(
            joinedload(Series.host),
            selectinload(Series.partners),
            selectinload(Series.objectives),
            selectinload(Series.key_themes).selectinload(KeyTheme.points),
            *_talks(webinars.joinedload(Webinar.presentations)),
        )
    )
    return db.session.scalars(statement).unique().first()


def public_sessions(series: Series) -> list[Webinar]:
    return [w for w in series.webinars if w.status != WebinarStatus.DRAFT]

