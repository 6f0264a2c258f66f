"""The question builder: a series' registration questions, and a webinar's own (added to the series')."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from portal.extensions import db
from portal.models import CHOICE_KINDS, Question, QuestionKind, Series, Webinar
from portal.organiser import bp
from portal.organiser.access import EDITORS, role_required
from portal.organiser.forms import EmptyForm, QuestionForm
from portal.services import audit
from portal.services import questions as rules


def _scope(series_id: int | None = None, webinar_id: int | None = None) -> tuple[Series, Webinar | None]:
    if webinar_id is not None:
        webinar = db.session.get(Webinar, webinar_id) or abort(404)
        return webinar.series, webinar
    return db.session.get(Series, series_id) or abort(404), None


def _list_url(series: Series, webinar: Webinar | None, **kwargs) -> str:
    if webinar is not None:
        return url_for("organiser.webinar_questions", webinar_id=webinar.id, **kwargs)
    return url_for("organiser.series_questions", series_id=series.id, **kwargs)


def _form(series: Series, webinar: Webinar | None, question: Question | None = None) -> QuestionForm:
    form = QuestionForm(obj=question) if request.method == "GET" and question else QuestionForm()
    options = rules.condition_options(series, webinar, question)
    form.condition.choices = [SelectChoice("", _("Always"))] + [SelectChoice(v, w) for v, w in options]
    if request.method == "GET" and question is not None:
        form.kind.data = question.kind.value
        form.choices.data = rules.choices_text(question)
        if question.condition_question_id:
            form.condition.data = f"{question.condition_question_id}:{question.condition_value or ''}"
    return form


def _page(series, webinar, form, status=200, question=None):
    return render_template("organiser/questions.html", series=series, webinar=webinar, form=form,
                           question=question, questions=rules.builder_questions(series, webinar),
                           inherited=rules.builder_questions(series, None) if webinar else [],
                           action_form=EmptyForm(), list_url=_list_url(series, webinar)), status


def _apply(form: QuestionForm, question: Question) -> None:
    """The form's values on ``question``; raises ``QuestionError`` for choices that make no sense."""
    kind = QuestionKind(form.kind.data)
    question.kind = kind
    question.label_en, question.label_fr = form.label_en.data.strip(), form.label_fr.data.strip()
    question.help_en, question.help_fr = (form.help_en.data or "").strip(), (form.help_fr.data or "").strip()
    question.required = bool(form.required.data)
    if kind in (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES):
        question.choices = rules.parse_choices(form.choices.data, list(question.choices or []))
        if not [c for c in question.choices if not c.get("archived")]:
            raise rules.QuestionError(_("Give at least one choice."), "choices")
    parent, _sep, value = (form.condition.data or "").partition(":")
    question.condition_question_id = int(parent) if parent else None
    question.condition_value = value or None


@bp.route("/series/<int:series_id>/questions", methods=["GET", "POST"])
@role_required(*EDITORS)
def series_questions(series_id: int):
    return _builder(*_scope(series_id=series_id))


@bp.route("/webinars/<int:webinar_id>/questions", methods=["GET", "POST"])
@role_required(*EDITORS)
def webinar_questions(webinar_id: int):
    return _builder(*_scope(webinar_id=webinar_id))


def _builder(series: Series, webinar: Webinar | None):
    form = _form(series, webinar)
    if request.method == "GET" or not form.validate_on_submit():
        return _page(series, webinar, form, 200 if request.method == "GET" else 422)
    question = Question(series_id=series.id, webinar_id=webinar.id if webinar else None, choices=[],
                       position=rules.next_position(series, webinar))
    try:
        _apply(form, question)
    except rules.QuestionError as error:
        getattr(form, error.field).errors.append(str(error))
        return _page(series, webinar, form, 422)
    db.session.add(question)
    db.session.flush()
    rules.touch(series, webinar)
    audit.record("create", question, summary=question.label_en[:300])
    db.session.commit()
    flash(_("Question added."), "info")
    return redirect(_list_url(series, webinar))


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit_question(question_id: int):
    question = db.session.get(Question, question_id) or abort(404)
    if question.archived_at is not None:
        abort(404)
    series, webinar = rules.question_series(question), rules.question_webinar(question)
    form = _form(series, webinar, question)
    if request.method == "GET" or not form.validate_on_submit():
        return _page(series, webinar, form, 200 if request.method == "GET" else 422, question)
    before = {"label_en": question.label_en, "label_fr": question.label_fr, "kind": question.kind.value}
    if (QuestionKind(form.kind.data) in CHOICE_KINDS) != (question.kind in CHOICE_KINDS) and question.id:
        form.kind.errors.append(_("Answers already given would no longer fit: add a new question instead."))
        return _page(series, webinar, form, 422, question)
    try:
        _apply(form, question)
    except rules.QuestionError as error:
        db.session.rollback()
        getattr(form, error.field).errors.append(str(error))
        return _page(series, webinar, form, 422, question)
    rules.touch(series, webinar)
    audit.record("update", question, summary=question.label_en[:300],
                 changes={k: (v, getattr(question, k) if k != "kind" else question.kind.value)
                          for k, v in before.items() if v != (getattr(question, k) if k != "kind"
                                                              else question.kind.value)})
    db.session.commit()
    flash(_("Question saved. Answers already given keep the wording they were given to."), "info")
    return redirect(_list_url(series, webinar))


@bp.post("/questions/<int:question_id>/move")
@role_required(*EDITORS)
def move_question(question_id: int):
    question = db.session.get(Question, question_id) or abort(404)
    if not EmptyForm().validate_on_submit() or request.form.get("direction") not in ("up", "down"):
        abort(400)
    if rules.move(question, request.form["direction"]):
        audit.record("reorder", question, summary=question.label_en[:300])
        db.session.commit()
    return redirect(_list_url(rules.question_series(question), rules.question_webinar(question),
                              _anchor=f"question-{question.id}"))


@bp.post("/questions/<int:question_id>/archive")
@role_required(*EDITORS)
def archive_question(question_id: int):
    question = db.session.get(Question, question_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if question.archived_at is None:
        rules.archive(question)
        audit.record("delete", question, summary=question.label_en[:300])
        db.session.commit()
        flash(_("Question removed from the form. Answers already given are kept."), "info")
    return redirect(_list_url(rules.question_series(question), rules.question_webinar(question)))
