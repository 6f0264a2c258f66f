"""A webinar's attendance: import the platform's report, resolve who it could not match,
set the threshold, overrule a hand tick, say attendance is final."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy.orm import joinedload
from werkzeug.utils import secure_filename

from portal.extensions import csrf, db
from portal.models import (
    AttendanceImport,
    AttendanceSource,
    Registration,
    UnmatchedAttendee,
    UnmatchedResolution,
    Webinar,
)
from portal.organiser import bp
from portal.organiser.access import EDITORS, READERS, role_required, webinar_or_404
from portal.organiser.attendance_forms import (
    AttendanceImportForm,
    FinalForm,
    MatchForm,
    ThresholdForm,
    UseReportForm,
)
from portal.organiser.attendance_words import format_label, problem_label, refusal_message, unreadable_message
from portal.services import attendance, audit
from portal.services.attendance_reports import ReportUnreadable

PAGE_SIZE = 50


def _back(webinar: Webinar, anchor: str | None = None):
    return redirect(url_for("organiser.attendance_page", webinar_id=webinar.id, _anchor=anchor), 303)


@bp.get("/webinars/<int:webinar_id>/attendance")
@role_required(*READERS)
def attendance_page(webinar_id: int):
    return render_attendance(webinar_or_404(webinar_id))


def render_attendance(webinar: Webinar, *, status: int = 200, import_form=None, threshold_form=None,
                      error: str | None = None, problems: list | None = None):
    """The page, in a fixed number of queries whatever the size of the report."""
    receipt = db.session.scalars(
        db.select(AttendanceImport).where(AttendanceImport.webinar_id == webinar.id)
        .options(joinedload(AttendanceImport.organiser)).order_by(AttendanceImport.id.desc()).limit(1)
    ).first()
    try:
        page = max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        page = 1
    open_rows = db.select(UnmatchedAttendee).where(UnmatchedAttendee.webinar_id == webinar.id,
                                                   UnmatchedAttendee.resolution == UnmatchedResolution.OPEN)
    open_total = db.session.scalar(db.select(func.count()).select_from(open_rows.subquery()))
    unmatched = db.session.scalars(
        open_rows.options(joinedload(UnmatchedAttendee.suggested_registration))
        .order_by(UnmatchedAttendee.row_number, UnmatchedAttendee.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    conflicts = db.session.scalars(attendance.hand_ticks_the_report_disputes(webinar).limit(PAGE_SIZE)).all()
    figures = attendance.figures([webinar.id]).get(webinar.id, attendance.Figures())
    threshold_form = threshold_form or ThresholdForm(
        formdata=None, threshold_minutes=webinar.attendance_threshold_minutes)
    return render_template(
        "organiser/attendance.html", webinar=webinar, receipt=receipt, unmatched=unmatched, open_total=open_total,
        page=page, pages=max(1, -(-open_total // PAGE_SIZE)), conflicts=conflicts, figures=figures,
        import_form=import_form or AttendanceImportForm(formdata=None), threshold_form=threshold_form,
        match_form=MatchForm(formdata=None), final_form=FinalForm(formdata=None),
        use_report_form=UseReportForm(formdata=None), error=error,
        problems=problems if problems is not None else (receipt.problems if receipt else None) or [],
        format_label=format_label, problem_label=problem_label, started=_started(webinar),
        refusal=refusal_message("not_started", webinar) if not _started(webinar) else None,
        can_edit=current_user.role in EDITORS,
    ), status


def _started(webinar: Webinar) -> bool:
    try:
        attendance.check_started(webinar)
    except attendance.AttendanceRefused:
        return False
    return True


@bp.post("/webinars/<int:webinar_id>/attendance/import")
@csrf.exempt  # checked below, once the upload limit for reports is in place
@role_required(*EDITORS)
def import_attendance(webinar_id: int):
    # A 50 000-row report is several megabytes: more than the site-wide limit for forms.
    request.max_content_length = current_app.config["ATTENDANCE_MAX_UPLOAD_BYTES"]
    csrf.protect()
    webinar = webinar_or_404(webinar_id)
    form = AttendanceImportForm()
    if not form.validate_on_submit():
        return render_attendance(webinar, status=422, import_form=form)
    upload = form.report.data
    try:
        receipt = attendance.import_report(
            webinar, upload.stream, filename=secure_filename(upload.filename or "") or "report.csv",
            overrule_hand=form.overrule_hand.data, organiser=current_user._get_current_object())
    except attendance.AttendanceRefused as refused:
        db.session.rollback()
        form.report.errors = [refusal_message(refused.reason, webinar)]
        return render_attendance(webinar, status=422, import_form=form)
    except ReportUnreadable as unreadable:
        db.session.rollback()
        form.report.errors = [unreadable_message(unreadable.reason)]
        return render_attendance(webinar, status=422, import_form=form,
                                 problems=getattr(unreadable, "problems", None) or [])
    audit.record("attendance_import", webinar, summary=f"{receipt.report_format.value} report for {webinar.title}"[:300],
                 changes={"matched": (None, receipt.people_matched), "unmatched": (None, receipt.people_unmatched),
                          "problems": (None, receipt.problem_count), "overrule_hand": (None, receipt.overruled_hand)})
    db.session.commit()
    flash(_("Read as: %(format)s (%(encoding)s). %(matched)d people matched by email, %(unmatched)d to review, "
            "%(problems)d rows could not be read.", format=format_label(receipt.report_format),
            encoding=receipt.encoding, matched=receipt.people_matched, unmatched=receipt.people_unmatched,
            problems=receipt.problem_count), "info")
    return _back(webinar)


@bp.post("/webinars/<int:webinar_id>/attendance/threshold")
@role_required(*EDITORS)
def attendance_threshold(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    form = ThresholdForm()
    if not form.validate_on_submit():
        return render_attendance(webinar, status=422, threshold_form=form)
    before = webinar.attendance_threshold_minutes
    attendance.set_threshold(webinar, form.threshold_minutes.data)
    audit.record("attendance_threshold", webinar, summary=webinar.title[:300],
                 changes={"attendance_threshold_minutes": (before, form.threshold_minutes.data)})
    db.session.commit()
    flash(_("Threshold saved: %(minutes)d minutes.", minutes=webinar.attendance_threshold), "info")
    return _back(webinar)


@bp.post("/webinars/<int:webinar_id>/attendance/unmatched/<int:unmatched_id>")
@role_required(*EDITORS)
def resolve_unmatched(webinar_id: int, unmatched_id: int):
    webinar = webinar_or_404(webinar_id)
    person = db.session.scalars(
        db.select(UnmatchedAttendee).where(UnmatchedAttendee.id == unmatched_id,
                                           UnmatchedAttendee.webinar_id == webinar.id)
    ).first() or abort(404)
    form = MatchForm()
    if not form.validate_on_submit():
        flash(_("Enter a valid email address, or leave the field empty to use the suggestion."), "error")
        return render_attendance(webinar, status=422)
    if person.resolution != UnmatchedResolution.OPEN:
        flash(_("This person was already dealt with."), "info")
        return _back(webinar, "unmatched")
    if form.action.data == "leave":
        attendance.leave_unmatched(person)
        db.session.commit()
        return _back(webinar, "unmatched")
    registration = _chosen_registration(webinar, person, form.registration_email.data)
    if registration is None:
        flash(_("No registration of this webinar has that email address."), "error")
        return render_attendance(webinar, status=422)
    attendance.confirm_match(person, registration)
    audit.record("attendance_match", registration, summary=f"registration #{registration.id} at {webinar.title}"[:300],
                 changes={"minutes_attended": (None, registration.minutes_attended)})
    db.session.commit()
    return _back(webinar, "unmatched")


def _chosen_registration(webinar: Webinar, person: UnmatchedAttendee, email: str | None) -> Registration | None:
    if email:
        return db.session.scalars(
            db.select(Registration).where(Registration.webinar_id == webinar.id,
                                          Registration.email_normalised == email.strip().lower())
        ).first()
    if person.suggested_registration_id is None:
        return None
    return db.session.get(Registration, person.suggested_registration_id)


@bp.post("/webinars/<int:webinar_id>/attendance/use-report/<int:registration_id>")
@role_required(*EDITORS)
def use_report(webinar_id: int, registration_id: int):
    webinar = webinar_or_404(webinar_id)
    registration = db.session.scalars(
        db.select(Registration).where(Registration.id == registration_id, Registration.webinar_id == webinar.id)
    ).first() or abort(404)
    if not UseReportForm().validate_on_submit():
        abort(400)
    if registration.attendance_source == AttendanceSource.HAND and registration.minutes_attended is not None:
        before = registration.attended
        attendance.use_report_for(registration)
        audit.record("attendance", registration, summary=f"registration #{registration.id} at {webinar.title}"[:300],
                     changes={"attended": (before, registration.attended)})
        db.session.commit()
    return _back(webinar, "conflicts")


@bp.post("/webinars/<int:webinar_id>/attendance/final")
@role_required(*EDITORS)
def attendance_final(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    form = FinalForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        attendance.mark_final(webinar, form.final.data == "yes")
    except attendance.AttendanceRefused as refused:
        flash(refusal_message(refused.reason, webinar), "error")
        return render_attendance(webinar, status=422)
    audit.record("attendance_final", webinar, summary=webinar.title[:300],
                 changes={"attendance_final": (None, form.final.data == "yes")})
    db.session.commit()
    flash(_("Attendance is marked final.") if webinar.attendance_final_at else _("Attendance is open again."), "info")
    return _back(webinar)
