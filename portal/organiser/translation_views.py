"""A series' texts for a translator: download them as CSV, upload the translated file."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.extensions import db
from portal.models import Series
from portal.organiser import bp
from portal.organiser.access import EDITORS, role_required
from portal.organiser.forms import TranslationsUploadForm
from portal.services import audit, translations


def _series_or_404(series_id: int) -> Series:
    slug = db.session.scalar(db.select(Series.slug).where(Series.id == series_id))
    if slug is None:
        abort(404)
    return translations.load_series(slug)


@bp.get("/series/<int:series_id>/translations.csv")
@role_required(*EDITORS)
def translations_csv(series_id: int):
    series = _series_or_404(series_id)
    return Response(translations.export_csv(series), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{series.slug}-translations.csv"'})


@bp.route("/series/<int:series_id>/translations", methods=["GET", "POST"])
@role_required(*EDITORS)
def translations_import(series_id: int):
    series = _series_or_404(series_id)
    form = TranslationsUploadForm()
    template = "organiser/translations.html"
    if not form.validate_on_submit():
        return render_template(template, series=series, form=form, problems=None), 422 if form.is_submitted() else 200
    try:
        summary = translations.import_csv(form.file.data.read(), series)
    except translations.TranslationFileError as error:
        db.session.rollback()
        return render_template(template, series=series, form=form, problems=error.problems), 422
    if summary.changed:
        audit.record("update", series, summary=f"translations imported: {summary.changed} texts",
                     changes={"translations": [None, summary.changed_keys[:200]]})
    db.session.commit()
    flash(_("Imported: %(rows)d rows read, %(changed)d texts changed.", rows=summary.rows, changed=summary.changed),
          "info")
    return redirect(url_for("organiser.edit_series", series_id=series.id))
