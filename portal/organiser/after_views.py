"""After the webinar, for organisers: certificates (download all, revoke one), materials
and recording, and the follow-up email (preview both versions in both languages, send).

Downloads and changes need the organiser or admin role; every change is audited.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import Certificate, Series, Webinar
from portal.models.types import utcnow
from portal.organiser import bp
from portal.organiser.access import EDITORS, role_required
from portal.organiser.after_forms import (
    AfterSettingsForm,
    MaterialLinkForm,
    MaterialUploadForm,
    SeriesCertificateForm,
)
from portal.organiser.forms import EmptyForm
from portal.services import audit, certificate_pdf, certificates, followup, materials

UPLOAD_ENDPOINT = "organiser.upload_material"
NO_CERTIFICATES_YET = _l("No certificates yet: they are issued to registrations marked attended, once the webinar "
                         "has ended and its attendance is final.")


@bp.url_value_preprocessor
def _allow_large_uploads(endpoint, values) -> None:
    """Uploads may exceed the app's 1 MB request limit; runs before the CSRF check reads the form."""
    if endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = current_app.config["MATERIALS_MAX_BYTES"] + 64 * 1024


def _webinar_or_404(webinar_id: int) -> Webinar:
    return followup.load_webinar(webinar_id) or abort(404)


def _page(webinar: Webinar, status: int = 200, settings_form=None, link_form=None, upload_form=None):
    now = utcnow()
    return render_template(
        "organiser/after.html", webinar=webinar, now=now,
        ended=webinar.ends_at <= now, final=followup.attendance_is_final(webinar, now),
        certificates=certificates.webinar_certificates(webinar),
        materials=materials.materials_of(webinar.id),
        sent=followup.queued_counts(webinar), versions=followup.VERSIONS,
        settings_form=settings_form or AfterSettingsForm(
            credited_hours=(Decimal(webinar.certificate_minutes) / 60 if webinar.certificate_minutes else None),
            materials_public=webinar.materials_public),
        link_form=link_form or MaterialLinkForm(prefix="link"),
        upload_form=upload_form or MaterialUploadForm(prefix="upload"),
        action_form=EmptyForm(),
        max_mb=round(current_app.config["MATERIALS_MAX_BYTES"] / 1024 / 1024, 1),
    ), status


@bp.get("/webinars/<int:webinar_id>/after")
@role_required(*EDITORS)
def after_webinar(webinar_id: int):
    return _page(_webinar_or_404(webinar_id))


@bp.post("/webinars/<int:webinar_id>/after/settings")
@role_required(*EDITORS)
def after_settings(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    form = AfterSettingsForm()
    if not form.validate_on_submit():
        return _page(webinar, 422, settings_form=form)
    minutes = int(round(form.credited_hours.data * 60)) if form.credited_hours.data is not None else None
    changes = {}
    if minutes != webinar.certificate_minutes:
        changes["certificate_minutes"] = (webinar.certificate_minutes, minutes)
        webinar.certificate_minutes = minutes
    if form.materials_public.data != webinar.materials_public:
        changes["materials_public"] = (webinar.materials_public, form.materials_public.data)
        webinar.materials_public = form.materials_public.data
    if changes:
        audit.record("webinar_after_settings", webinar, summary=webinar.title[:300], changes=changes)
    db.session.commit()
    flash(_("Saved. Certificates already issued keep the hours they were issued with."), "success")
    return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id), 303)


# ---------------------------------------------------------------- certificates

def _all_certificates(webinar: Webinar) -> list[Certificate]:
    certificates.issue_for_webinar(webinar)
    db.session.commit()
    return [c for c in certificates.webinar_certificates(webinar) if not c.revoked]


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/webinars/<int:webinar_id>/certificates.zip")
@role_required(*EDITORS)
def certificates_zip(webinar_id: int):
    """Every valid certificate of the webinar (issuing the missing ones), one PDF each."""
    webinar = _webinar_or_404(webinar_id)
    found = _all_certificates(webinar)
    if not found:
        flash(NO_CERTIFICATES_YET, "error")
        return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id), 303)
    return _download(certificate_pdf.certificates_zip(found), "application/zip", f"certificates-{webinar.slug}.zip")


@bp.get("/webinars/<int:webinar_id>/certificates.pdf")
@role_required(*EDITORS)
def certificates_merged(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    found = _all_certificates(webinar)
    if not found:
        flash(NO_CERTIFICATES_YET, "error")
        return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id), 303)
    return _download(certificate_pdf.certificates_pdf(found), "application/pdf", f"certificates-{webinar.slug}.pdf")


@bp.post("/certificates/<int:certificate_id>/revoke")
@role_required(*EDITORS)
def revoke_certificate(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id) or abort(404)
    form = EmptyForm()
    back = (url_for("organiser.after_webinar", webinar_id=certificate.webinar_id) if certificate.webinar_id
            else url_for("organiser.series_certificates", series_id=certificate.series_id))
    if not form.validate_on_submit():
        abort(400)
    try:
        certificates.revoke(certificate)
    except certificates.AlreadyRevoked:
        flash(_("This certificate was already revoked."), "info")
        return redirect(back, 303)
    db.session.commit()
    flash(_("Certificate revoked: its verification page now says so."), "success")
    return redirect(back, 303)


# ---------------------------------------------------------------- series certificates

def _series_or_404(series_id: int) -> Series:
    return db.session.scalars(select(Series).where(Series.id == series_id)
                              .options(selectinload(Series.webinars), joinedload(Series.host))).first() or abort(404)


def _series_page(series: Series, form=None, status: int = 200):
    return render_template(
        "organiser/series_certificates.html", series=series, certificates=certificates.series_certificates(series),
        eligible=len(certificates.series_attendance(series)), required=certificates.required_webinars(series),
        counted=certificates.webinars_counted(series), action_form=EmptyForm(),
        form=form or SeriesCertificateForm(min_webinars=series.certificate_min_webinars)), status


@bp.get("/series/<int:series_id>/certificates")
@role_required(*EDITORS)
def series_certificates(series_id: int):
    return _series_page(_series_or_404(series_id))


@bp.post("/series/<int:series_id>/certificates/settings")
@role_required(*EDITORS)
def series_certificate_settings(series_id: int):
    series = _series_or_404(series_id)
    form = SeriesCertificateForm()
    if not form.validate_on_submit():
        return _series_page(series, form, 422)
    if form.min_webinars.data != series.certificate_min_webinars:
        audit.record("series_certificate_rule", series, summary=series.title[:300],
                     changes={"certificate_min_webinars": (series.certificate_min_webinars, form.min_webinars.data)})
        series.certificate_min_webinars = form.min_webinars.data
    db.session.commit()
    flash(_("Saved. Series certificates already issued stay as they are."), "success")
    return redirect(url_for("organiser.series_certificates", series_id=series_id), 303)


@bp.get("/series/<int:series_id>/certificates.zip")
@role_required(*EDITORS)
def series_certificates_zip(series_id: int):
    series = _series_or_404(series_id)
    certificates.issue_for_series(series)
    db.session.commit()
    found = [c for c in certificates.series_certificates(series) if not c.revoked]
    if not found:
        flash(_("Nobody has attended enough webinars of the series for its certificate yet."), "error")
        return redirect(url_for("organiser.series_certificates", series_id=series_id), 303)
    return _download(certificate_pdf.certificates_zip(found), "application/zip", f"certificates-{series.slug}.zip")


# ---------------------------------------------------------------- materials

def _material_or_404(webinar: Webinar, material_id: int):
    return materials.material_of(webinar.id, material_id) or abort(404)


@bp.post("/webinars/<int:webinar_id>/materials/upload")
@role_required(*EDITORS)
def upload_material(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    form = MaterialUploadForm(prefix="upload")
    if not form.validate_on_submit():
        return _page(webinar, 422, upload_form=form)
    try:
        material = materials.save_upload(webinar, form.file.data, form.title.data or "")
    except materials.MaterialRefused as refused:
        form.file.errors = [*form.file.errors, str(refused.message)]
        return _page(webinar, 422, upload_form=form)
    db.session.flush()
    audit.record("material_added", material, summary=f"{material.title} ({webinar.title})"[:300])
    db.session.commit()
    flash(_("File added."), "success")
    return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id, _anchor="materials"), 303)


@bp.post("/webinars/<int:webinar_id>/materials/link")
@role_required(*EDITORS)
def add_material_link(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    form = MaterialLinkForm(prefix="link")
    if not form.validate_on_submit():
        return _page(webinar, 422, link_form=form)
    material = materials.add_link(webinar, form.title.data, form.url.data)
    db.session.flush()
    audit.record("material_added", material, summary=f"{material.title} ({webinar.title})"[:300])
    db.session.commit()
    flash(_("Link added."), "success")
    return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id, _anchor="materials"), 303)


@bp.post("/webinars/<int:webinar_id>/materials/<int:material_id>/delete")
@role_required(*EDITORS)
def delete_material(webinar_id: int, material_id: int):
    webinar = _webinar_or_404(webinar_id)
    material = _material_or_404(webinar, material_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    stored_name = material.stored_name
    audit.record("material_removed", material, summary=f"{material.title} ({webinar.title})"[:300])
    materials.remove(material)
    db.session.commit()
    materials.remove_file(stored_name)
    flash(_("Removed."), "success")
    return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id, _anchor="materials"), 303)


@bp.get("/webinars/<int:webinar_id>/materials/<int:material_id>")
@role_required(*EDITORS)
def organiser_material(webinar_id: int, material_id: int):
    webinar = _webinar_or_404(webinar_id)
    return materials.download(_material_or_404(webinar, material_id)) or abort(404)


# ---------------------------------------------------------------- follow-up

@bp.get("/webinars/<int:webinar_id>/followup/<version>/<language>")
@role_required(*EDITORS)
def followup_preview(webinar_id: int, version: str, language: str):
    webinar = _webinar_or_404(webinar_id)
    if version not in followup.VERSIONS or language not in current_app.config["PORTAL_LANGUAGES"]:
        abort(404)
    message = followup.preview(webinar, version, language)
    return render_template("organiser/followup_preview.html", webinar=webinar, message=message, version=version,
                           language=language, versions=followup.VERSIONS)


@bp.post("/webinars/<int:webinar_id>/followup/send")
@role_required(*EDITORS)
def followup_send(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not followup.attendance_is_final(webinar):
        flash(_("The follow-up can be sent once the webinar has ended and its attendance is final."), "error")
        return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id), 303)
    report = followup.send_for(webinar)
    audit.record("followup_sent", webinar, summary=f"{webinar.title}: {report.queued} queued"[:300])
    db.session.commit()
    flash(_("%(queued)d follow-up emails queued (%(already)d had already been sent).",
            queued=report.queued, already=report.already), "success")
    return redirect(url_for("organiser.after_webinar", webinar_id=webinar_id), 303)
