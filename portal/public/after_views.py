"""After a webinar, in public: certificate verification and the materials an organiser made public.

``GET /certificates/<code>`` says whether the certificate exists and is valid
(or revoked), the name as printed and what it was for — nothing else about the
person.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, render_template

from portal.models.bilingual import reading_language
from portal.public import bp
from portal.services import certificates, materials, programme
from portal.services.certificate_pdf import hours_text


@bp.get("/certificates/<code>")
def certificate(code: str):
    found = certificates.find_by_code(code)
    if found is None:
        abort(404)
    language = reading_language()
    sessions = [{**s, "starts_at": datetime.fromisoformat(s["starts_at"]), "hours": hours_text(s["minutes"], language)}
                for s in found.sessions or []]
    response = render_template("public/certificate.html", certificate=found, sessions=sessions,
                               hours=hours_text(found.credited_minutes, language))
    return response, 200, {"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer",
                           "Cache-Control": "no-store"}


@bp.app_context_processor
def public_materials_helper():
    """``public_materials(webinar)`` for the public webinar page (empty unless made public)."""
    return {"public_materials": materials.public_materials}


@bp.get("/webinars/<slug>/materials/<int:material_id>")
def public_material(slug: str, material_id: int):
    webinar = programme.public_webinar(slug)
    if webinar is None or not webinar.materials_shown_publicly:
        abort(404)
    found = materials.material_of(webinar.id, material_id)
    response = materials.download(found) if found is not None else None
    if response is None:
        abort(404)
    return response
