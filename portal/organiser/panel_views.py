"""Questions for the panel: the moderation queue, the printable presenter brief and the CSV."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.extensions import db
from portal.models import PanelQuestionStatus
from portal.models.types import parse_id
from portal.organiser import bp
from portal.organiser.access import EDITORS, READERS, role_required, webinar_or_404
from portal.organiser.forms import EmptyForm
from portal.services import audit, csv_export
from portal.services import panel_questions as panel


@bp.get("/webinars/<int:webinar_id>/panel-questions")
@role_required(*READERS)
def panel_queue(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    status = request.args.get("status", "")
    rows = panel.queue(webinar, status or None)
    talks = {t.id: t for t in panel.presentations_of(webinar)}
    return render_template("organiser/panel_queue.html", webinar=webinar, rows=rows, talks=talks, status=status,
                           statuses=list(PanelQuestionStatus), action_form=EmptyForm(),
                           merge_targets=[q for q, _r in panel.queue(webinar)
                                          if q.status != PanelQuestionStatus.MERGED])


@bp.post("/webinars/<int:webinar_id>/panel-questions/<int:panel_question_id>")
@role_required(*EDITORS)
def moderate_panel_question(webinar_id: int, panel_question_id: int):
    webinar = webinar_or_404(webinar_id)
    question = panel.question_of(webinar, panel_question_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    action = request.form.get("action", "")
    if action == "merge":
        target_id = parse_id(request.form.get("into"))
        target = panel.question_of(webinar, target_id) if target_id is not None else None
        if target is None or target.id == question.id:
            flash(_("Choose another question of this webinar to merge into."), "error")
            return redirect(url_for("organiser.panel_queue", webinar_id=webinar.id)), 303
        panel.merge(question, target)
        changes = {"merged_into": (None, target.id)}
    elif action in panel.ACTIONS:
        changes = panel.moderate(question, action)
    else:
        abort(400)
    if changes:
        audit.record("moderate", question, summary=f"question #{question.id} for {webinar.title}"[:300],
                     changes=changes)
    db.session.commit()
    return redirect(url_for("organiser.panel_queue", webinar_id=webinar.id, status=request.form.get("keep_status")
                            or None, _anchor=f"panel-question-{question.id}"))


@bp.get("/webinars/<int:webinar_id>/presenter-brief")
@role_required(*READERS)
def presenter_brief(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    return render_template("organiser/presenter_brief.html", webinar=webinar, groups=panel.brief(webinar))


CSV_HEADER = ["id", "presentation", "question", "status", "starred", "merged_into", "name_shared", "name",
              "asked_at"]


@bp.get("/webinars/<int:webinar_id>/panel-questions.csv")
@role_required(*READERS)
def panel_questions_csv(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    audit.record("export", webinar, summary=f"panel-questions.csv of {webinar.title}"[:300])
    db.session.commit()
    rows = [(q.id, talk or "", q.text, q.status.value, q.starred, q.merged_into_id or "", q.share_name,
             name if q.share_name else "", q.created_at) for q, name, talk in panel.for_csv(webinar)]
    return Response(csv_export.stream_csv(CSV_HEADER, iter(rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="panel-questions-{webinar.slug}.csv"'})
