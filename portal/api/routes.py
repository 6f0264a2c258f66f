"""JSON API (placeholder; filled in by the API work)."""

from portal.api import bp


@bp.get("/webinars")
def webinars():
    return {"webinars": []}
