"""Organiser dashboard (placeholder)."""

from portal.organiser import bp


@bp.get("/login")
def login():
    return ""
