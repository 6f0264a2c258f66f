"""Feedback results for organisers: per webinar, per series, CSV and a printable summary.

Every figure comes from ``portal.services.feedback`` (aggregated in SQL, a
fixed number of queries). Respondents stay anonymous here unless they allowed
contact: the query itself only returns a name for those.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Series
from portal.organiser import bp
from portal.organiser.access import READERS, role_required, webinar_or_404
from portal.services import audit, csv_export
from portal.services import feedback as results
from portal.services.feedback import TEXT_QUESTIONS, CommentFilters

#: Geometry of the horizontal rating bar charts (SVG user units).
CHART = {"width": 480, "row": 30, "label": 80, "value_gap": 8}


def _filters_from_args() -> CommentFilters:
    question = request.args.get("question", "")
    min_rating = request.args.get("min_rating", "")
    return CommentFilters(
        question=question if question in TEXT_QUESTIONS else "",
        quotable_only=request.args.get("quotable") == "1",
        min_rating=int(min_rating) if min_rating in ("1", "2", "3", "4", "5") else None,
    )


@bp.get("/webinars/<int:webinar_id>/feedback")
@role_required(*READERS)
def webinar_feedback(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    filters = _filters_from_args()
    return render_template(
        "organiser/feedback/webinar.html",
        webinar=webinar,
        result=results.results_for([webinar])[webinar.id],
        comments=results.comments(webinar.id, filters),
        filters=filters,
        window=results.feedback_window(webinar),
        chart=CHART,
    )


@bp.get("/webinars/<int:webinar_id>/feedback/summary")
@role_required(*READERS)
def webinar_feedback_summary(webinar_id: int):
    """A page meant for printing or saving as PDF: figures and the quotable comments only."""
    webinar = webinar_or_404(webinar_id)
    return render_template(
        "organiser/feedback/summary.html",
        webinar=webinar,
        result=results.results_for([webinar])[webinar.id],
        comments=results.quotable_comments(webinar.id),
        chart=CHART,
    )


@bp.get("/series/<int:series_id>/feedback")
@role_required(*READERS)
def series_feedback(series_id: int):
    series = db.session.scalars(
        db.select(Series).where(Series.id == series_id).options(selectinload(Series.webinars))
    ).first() or abort(404)
    webinars = list(series.webinars)
    by_webinar = results.results_for(webinars)
    return render_template("organiser/feedback/series.html", series=series,
                           results=[by_webinar[w.id] for w in webinars], chart=CHART)


@bp.get("/webinars/<int:webinar_id>/feedback.csv")
@role_required(*READERS)
def webinar_feedback_csv(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    audit.record("export", webinar, summary=f"feedback.csv of {webinar.title}"[:300])
    db.session.commit()
    presentations = list(webinar.presentations)
    return Response(
        stream_with_context(csv_export.stream_csv(results.export_header(presentations),
                                                  results.export_rows(webinar, presentations))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="feedback-{webinar.slug}.csv"'},
    )
