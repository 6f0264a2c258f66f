"""The site identity's stylesheet (accent colour) and logo, both cacheable by version."""

from __future__ import annotations

from flask import Response, abort

from portal.public import bp
from portal.services import site_identity

ONE_YEAR = 365 * 24 * 3600
#: An SVG opened on its own is a document: nothing in it may run or load anything.
LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def _cached_for_a_year(response: Response) -> Response:
    # The pages ask for ?v=<version>, which changes with the content.
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}"
    return response


@bp.get("/site/identity.css")
def identity_stylesheet():
    """The accent colour as CSS custom properties (the pages' policy refuses inline styles)."""
    accent = site_identity.current().accent
    body = (f":root {{ --portal-accent: {accent}; --pico-primary: {accent}; "
            f"--pico-primary-background: {accent}; --pico-primary-border: {accent}; "
            f"--pico-primary-underline: {accent}; }}\n")
    return _cached_for_a_year(Response(body, mimetype="text/css"))


@bp.get("/site/logo")
def logo():
    found = site_identity.logo()
    if found is None:
        abort(404)
    data, media_type = found
    response = Response(data, mimetype=media_type)
    response.headers["Content-Security-Policy"] = LOGO_POLICY
    return _cached_for_a_year(response)
