"""Public pages: the programme, its people, the series report and calendar files."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from portal.models.types import utcnow
from portal.page_cache import public_page
from portal.public import bp
from portal.search import clean_query
from portal.services import programme as queries
from portal.services.audience import patterns_of
from portal.services.calendar import programme_calendar, webinar_calendar
from portal.services.registration import seats_left_for

CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _calendar_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = CALENDAR_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _found(thing):
    if thing is None:
        abort(404)
    return thing


@bp.get("/")
@public_page
def home():
    found = queries.programme()
    return render_template("public/home.html", programme=found, series=found.current_series,
                           seats=seats_left_for(found.upcoming), now=utcnow())


@bp.get("/webinars/")
@public_page
def webinars():
    q = clean_query(request.args.get("q"))
    found = queries.programme(q)
    return render_template("public/webinars.html", programme=found, q=q, seats=seats_left_for(found.upcoming),
                           now=utcnow())


@bp.get("/webinars/<slug>.ics")
@public_page
def webinar_ics(slug: str):
    webinar = _found(queries.public_webinar(slug))
    return _calendar_response(webinar_calendar(webinar), f"{webinar.slug}.ics")


@bp.get("/webinars/<slug>")
@public_page
def webinar(slug: str):
    found = _found(queries.public_webinar(slug))
    return render_template("public/webinar.html", webinar=found, now=utcnow(),
                           allowed_domains=patterns_of(found.series))


@bp.get("/presenters/")
@public_page
def presenters():
    q = clean_query(request.args.get("q"))
    return render_template("public/presenters.html", presenters=queries.public_presenters(q), q=q)


@bp.get("/presenters/<slug>")
@public_page
def presenter(slug: str):
    found = _found(queries.public_presenter(slug))
    return render_template("public/presenter.html", presenter=found, talks=queries.public_talks(found))


@bp.get("/series/<slug>")
@public_page
def series(slug: str):
    found = _found(queries.published_series(slug))
    return render_template("public/series.html", series=found, sessions=queries.public_sessions(found))


@bp.get("/series/<slug>/report")
@public_page
def series_report(slug: str):
    found = _found(queries.published_series(slug))
    return render_template("public/report.html", series=found, sessions=queries.public_sessions(found))


@bp.get("/privacy")
@public_page
def privacy():
    return render_template("public/privacy.html")


@bp.get("/accessibility")
@public_page
def accessibility():
    return render_template("public/accessibility.html")


@bp.get("/calendar.ics")
@public_page
def calendar():
    return _calendar_response(programme_calendar(queries.public_webinars()), "webinars.ics")
