"""dashboard pages."""
from portal.organiser import bp  # noqa: F401

from flask import render_template

from portal.organiser.access import READERS, role_required


@bp.get("/")
@role_required(*READERS)
def dashboard():
    return render_template("organiser/layout.html")


@bp.get("/signups")
@role_required(*READERS)
def signups():
    return render_template("organiser/layout.html")


@bp.get("/programme")
@role_required(*READERS)
def programme():
    return render_template("organiser/layout.html")


@bp.get("/audit")
@role_required(*READERS)
def audit_log():
    return render_template("organiser/layout.html")


@bp.get("/accounts")
@role_required(*READERS)
def accounts():
    return render_template("organiser/layout.html")
