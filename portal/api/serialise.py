"""Models as the JSON the API promises (see ``openapi.py``), from already-loaded objects.

Nothing here queries the database: callers hand in objects loaded eagerly, so
a response costs the same number of statements whatever its size. Times are
ISO 8601 in UTC with a ``Z``; links are absolute, under ``PORTAL_BASE_URL``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from portal.models import Organisation, Presentation, Presenter, PresenterRole, Series, Webinar
from portal.web import absolute_url


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def organisation(org: Organisation | None) -> dict | None:
    if org is None:
        return None
    return {"name": org.name, "acronym": org.acronym, "website": org.website, "country": org.country}


def role(found: PresenterRole) -> dict:
    return {"title": found.title, "unit": found.unit, "organisation": organisation(found.organisation)}


def presenter(person: Presenter) -> dict:
    return {
        "slug": person.slug,
        "name": person.name,
        "display_name": person.display_name,
        "honorific": person.honorific,
        "post_nominals": person.post_nominals,
        "is_team": person.is_team,
        "bio": person.bio or "",
        "roles": [role(r) for r in person.roles],
        "url": absolute_url("public.presenter", slug=person.slug),
    }


def presentation(talk: Presentation) -> dict:
    return {
        "position": talk.position,
        "title": talk.title,
        "abstract": talk.abstract or "",
        "presenters": [presenter(p) for p in talk.presenters],
    }


def series_reference(found: Series) -> dict:
    return {"slug": found.slug, "title": found.title, "url": absolute_url("public.series", slug=found.slug)}


def webinar(session: Webinar) -> dict:
    return {
        "slug": session.slug,
        "title": session.title,
        "status": session.status.value,
        "starts_at": iso(session.starts_at),
        "ends_at": iso(session.ends_at),
        "duration_minutes": session.duration_minutes,
        "timezone": session.series.timezone,
        "language": session.language.value if session.language else None,
        "description": session.description or "",
        "highlights": session.highlights or "",
        "capacity": session.capacity,
        "registration_opens_at": iso(session.registration_opens_at),
        "registration_closes_at": iso(session.registration_closes_at),
        "recording_url": session.public_recording_url,
        "url": absolute_url("public.webinar", slug=session.slug),
        "ics_url": absolute_url("public.webinar_ics", slug=session.slug),
        "series": series_reference(session.series),
        "presentations": [presentation(p) for p in session.presentations],
    }


def talk_reference(session: Webinar, talk: Presentation) -> dict:
    """A presenter's talk, pointing at its webinar without repeating the whole programme."""
    return {
        "title": talk.title,
        "webinar": {
            "slug": session.slug,
            "title": session.title,
            "starts_at": iso(session.starts_at),
            "url": absolute_url("public.webinar", slug=session.slug),
        },
    }


def presenter_with_talks(person: Presenter, talks: list[tuple[Webinar, Presentation]]) -> dict:
    return {**presenter(person), "presentations": [talk_reference(w, t) for w, t in talks]}
