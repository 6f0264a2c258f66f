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
from portal.search import matches, query_words

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


def programme(query: str = "") -> Programme:
    """Upcoming (soonest first) and past (latest first) public webinars; with a ``query``, only
    those it finds (``matching_webinars``). The featured series is the same either way."""
    now = utcnow()
    webinars = public_webinars()
    featured = _current_series([w for w in webinars if w.ends_at > now], list(reversed(webinars)))
    webinars = matching_webinars(webinars, query)
    upcoming = [w for w in webinars if w.ends_at > now]
    past = [w for w in reversed(webinars) if w.ends_at <= now]
    return Programme(upcoming=upcoming, past=past, current_series=featured)


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


def public_presenters(query: str = "") -> list[Presenter]:
    """Presenters with a public talk, teams last; with a ``query``, those it finds."""
    statement = (
        db.select(Presenter)
        .where(_spoke_publicly())
        .options(*_ROLES)
        .order_by(Presenter.is_team, Presenter.name)
    )
    return matching_presenters(list(db.session.scalars(statement).unique()), query)


# --- public search ----------------------------------------------------------------------------
# The public programme is small and the pages load it whole anyway, so searching it is a
# filter over what is loaded: no extra query, and SQLite and PostgreSQL cannot disagree.
# Every word of the query must appear, accents and case ignored (``portal.search``), in the
# English or the French of a text, whichever language the page is in.


def _both_languages(item, *fields: str):
    """Each field's text, and its per-language versions when the model has them (``title_fr``)."""
    for name in fields:
        for attribute in (name, f"{name}_en", f"{name}_fr"):
            value = getattr(item, attribute, None)
            if isinstance(value, str):
                yield value


def presenter_texts(presenter: Presenter):
    """What finds a presenter: names, roles, units, organisations and their acronyms, bio."""
    yield presenter.name
    yield from _both_languages(presenter, "honorific", "post_nominals", "bio")
    for role in presenter.roles:
        yield from _both_languages(role, "title", "unit")
        if role.organisation is not None:
            yield from _both_languages(role.organisation, "name", "acronym")


def webinar_texts(webinar: Webinar):
    """What finds a webinar: its own texts, its series' title, its talks and their presenters."""
    yield from _both_languages(webinar, "title", "description", "highlights")
    yield from _both_languages(webinar.series, "title")
    for talk in webinar.presentations:
        yield from _both_languages(talk, "title", "abstract")
        for presenter in talk.presenters:
            yield from presenter_texts(presenter)


def matching_webinars(webinars: list[Webinar], query: str) -> list[Webinar]:
    words = query_words(query)
    return [w for w in webinars if matches(words, webinar_texts(w))] if words else webinars


def matching_presenters(presenters: list[Presenter], query: str) -> list[Presenter]:
    words = query_words(query)
    return [p for p in presenters if matches(words, presenter_texts(p))] if words else presenters


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

