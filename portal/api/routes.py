"""Read-only JSON API over the public programme (described in ``openapi.py``).

The same public rule as the pages applies (drafts and unpublished series never
appear) because the data comes from ``services.programme``; errors are JSON
through ``portal.web``'s handler for every path under ``/api/``.
"""

from __future__ import annotations

from collections import defaultdict

from flask import abort, current_app, jsonify, request

from portal.api import bp, openapi, serialise
from portal.models import Presentation, Webinar
from portal.models.types import utcnow
from portal.page_cache import public_page
from portal.services import programme

WHEN_CHOICES = ("upcoming", "past")


#: Accepted by every endpoint: the language of the words and of the page links (else Accept-Language).
LANGUAGE_PARAMETER = "lang"


def _allow_only(*names: str) -> None:
    """Refuse unknown parameters: a typo silently ignored would return the wrong data."""
    names = (*names, LANGUAGE_PARAMETER)
    unknown = sorted(set(request.args) - set(names))
    if unknown:
        abort(400, description=f"Unknown query parameter: {', '.join(unknown)}. Allowed: {', '.join(names)}.")
    _choice(LANGUAGE_PARAMETER, tuple(current_app.config["PORTAL_LANGUAGES"]))


def _choice(name: str, choices: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if value not in choices:
        abort(400, description=f"Query parameter '{name}' must be one of: {', '.join(choices)}.")
    return value


def _slug_parameter(name: str) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not programme.plausible_slug(value):
        abort(400, description=f"Query parameter '{name}' must be a slug of at most {programme.SLUG_MAX} characters.")
    return value


@bp.after_request
def public_headers(response):
    """Public data: any site may read it (caching headers come from ``public_page``)."""
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/webinars")
@public_page
def webinars():
    _allow_only("when", "series")
    when = _choice("when", WHEN_CHOICES)
    series = _slug_parameter("series")
    found = programme.public_webinars()
    if series is not None:
        found = [w for w in found if w.series.slug == series]
    if when is not None:
        now = utcnow()
        found = [w for w in found if (w.ends_at > now) == (when == "upcoming")]
    return jsonify(count=len(found), webinars=[serialise.webinar(w) for w in found])


@bp.get("/webinars/<slug>")
@public_page
def webinar(slug: str):
    _allow_only()
    found = programme.public_webinar(slug)
    if found is None:
        abort(404, description="No public webinar has this slug.")
    return jsonify(serialise.webinar(found))


@bp.get("/presenters")
@public_page
def presenters():
    _allow_only()
    people = programme.public_presenters()
    talks = _public_talks_by_presenter()
    return jsonify(
        count=len(people),
        presenters=[serialise.presenter_with_talks(p, talks.get(p.id, [])) for p in people],
    )


def _public_talks_by_presenter() -> dict[int, list[tuple[Webinar, Presentation]]]:
    """Every public talk grouped by presenter, latest first, from one eager-loaded programme.

    The webinar travels with each talk: ``talk.webinar`` would be a lazy load per talk.
    """
    talks: dict[int, list[tuple[Webinar, Presentation]]] = defaultdict(list)
    for session in reversed(programme.public_webinars()):
        for talk in session.presentations:
            for person in talk.presenters:
                talks[person.id].append((session, talk))
    return talks


@bp.get("/openapi.json")
@public_page
def openapi_document():
    _allow_only()
    return jsonify(openapi.document(current_app.config["PORTAL_BASE_URL"]))
