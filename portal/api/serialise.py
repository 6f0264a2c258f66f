"""Models as the JSON the API promises (see ``openapi.py``), from already-loaded objects.

Nothing here queries the database: callers hand in objects loaded eagerly, so
a response costs the same number of statements whatever its size. Times are
ISO 8601 in UTC with a ``Z``; links are absolute, under ``PORTAL_BASE_URL``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from portal.models import Organisation, Presentation, Presenter, PresenterRole, Series, Webinar
from portal.models.bilingual import LANGUAGES, is_written
from portal.web import absolute_url


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def both(item, field: str) -> dict[str, str | None]:
    """``{"en": …, "fr": …}``: each version as written, null when not written."""
    return {language: (text if is_written(text := getattr(item, f"{field}_{language}")) else None)
            for language in LANGUAGES}


def with_languages(item, values: dict, *fields: str) -> dict:
    """Adds ``<field>_i18n`` beside each translatable field (API 1.1; ``<field>`` keeps the reader's language)."""
    return {**values, **{f"{name}_i18n": both(item, name) for name in fields}}


def organisation(org: Organisation | None) -> dict | None:
    if org is None:
        return None
    return with_languages(org, {"name": org.name, "acronym": org.acronym, "website": org.website,
                                "country": org.country}, "name", "acronym")


def role(found: PresenterRole) -> dict:
    return with_languages(found, {"title": found.title, "unit": found.unit,
                                  "organisation": organisation(found.organisation)}, "title", "unit")


def presenter(person: Presenter) -> dict:
    return with_languages(person, {
        "slug": person.slug,
        "name": person.name,
        "display_name": person.display_name,
        "honorific": person.honorific,
        "post_nominals": person.post_nominals,
        "is_team": person.is_team,
        "bio": person.bio or "",
        "roles": [role(r) for r in person.roles],
        "url": absolute_url("public.presenter", slug=person.slug),
    }, "honorific", "bio")


def presentation(talk: Presentation) -> dict:
    return with_languages(talk, {
        "position": talk.position,
        "title": talk.title,
        "abstract": talk.abstract or "",
        "presenters": [presenter(p) for p in talk.presenters],
    }, "title", "abstract")


def series_reference(found: Series) -> dict:
    return with_languages(found, {"slug": found.slug, "title": found.title,
                                  "url": absolute_url("public.series", slug=found.slug)}, "title")


def webinar(session: Webinar) -> dict:
    return with_languages(session, {
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
        "recording_url": session.recording_url,
        "url": absolute_url("public.webinar", slug=session.slug),
        "ics_url": absolute_url("public.webinar_ics", slug=session.slug),
        "series": series_reference(session.series),
        "presentations": [presentation(p) for p in session.presentations],
    }, "title", "description", "highlights")


def talk_reference(session: Webinar, talk: Presentation) -> dict:
    """A presenter's talk, pointing at its webinar without repeating the whole programme."""
    return with_languages(talk, {
        "title": talk.title,
        "webinar": with_languages(session, {
            "slug": session.slug,
            "title": session.title,
            "starts_at": iso(session.starts_at),
            "url": absolute_url("public.webinar", slug=session.slug),
        }, "title"),
    }, "title")


def presenter_with_talks(person: Presenter, talks: list[tuple[Webinar, Presentation]]) -> dict:
    return {**presenter(person), "presentations": [talk_reference(w, t) for w, t in talks]}
