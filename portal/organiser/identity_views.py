"""Site identity (admins only): the organisation's name, logo, accent colour and footer links."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.extensions import db
from portal.organiser import bp
from portal.organiser.access import ADMINS, role_required
from portal.organiser.forms import SiteIdentityForm
from portal.services import audit, site_identity


def _form_from_current() -> SiteIdentityForm:
    identity = site_identity.current()
    values = {"name_en": identity.names.get("en", ""), "name_fr": identity.names.get("fr", ""),
              "logo_alt_en": identity.logo_alts.get("en", ""), "logo_alt_fr": identity.logo_alts.get("fr", ""),
              "accent": identity.accent}
    for kind in site_identity.LINK_KINDS:
        for lang in ("en", "fr"):
            values[f"{kind}_url_{lang}"] = identity.links.get(kind, {}).get(lang, "")
    return SiteIdentityForm(data=values)


def _render(form: SiteIdentityForm, status: int = 200):
    return render_template("organiser/site_identity.html", form=form,
                           identity=site_identity.current()), status


@bp.get("/site-identity")
@role_required(*ADMINS)
def site_identity_page():
    # The stored identity, not this worker's copy (up to 30 s old): a form filled from a stale
    # copy, saved again, would undo a change another worker just made.
    site_identity.forget()
    return _render(_form_from_current())


@bp.post("/site-identity")
@role_required(*ADMINS)
def save_site_identity():
    form = SiteIdentityForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    upload = form.logo.data
    logo_data = upload.read() if upload and getattr(upload, "filename", "") else None
    values = {name: (form[name].data or "").strip() for name in SiteIdentityForm.TEXT_FIELDS}
    try:
        changes = site_identity.save(values, logo_data=logo_data, remove_logo=form.remove_logo.data)
    except site_identity.IdentityError as exc:
        db.session.rollback()
        form.logo.errors = [*form.logo.errors, str(exc)]
        return _render(form, 422)
    if changes:
        audit.record("update", "site_identity", summary=values["name_en"], changes=changes)
    db.session.commit()
    site_identity.forget()
    flash(_("Site identity saved."), "info")
    return redirect(url_for("organiser.site_identity_page"))
