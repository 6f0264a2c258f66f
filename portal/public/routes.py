"""Public pages (placeholder views; the public helper fills these in)."""

from flask import render_template

from portal.public import bp


@bp.get("/")
def home():
    return render_template("errors/error.html", error=None)


@bp.get("/webinars/")
def webinars():
    return ""


@bp.get("/presenters/")
def presenters():
    return ""


@bp.get("/privacy")
def privacy():
    return ""


@bp.get("/accessibility")
def accessibility():
    return ""


@bp.get("/calendar.ics")
def calendar():
    return ""
