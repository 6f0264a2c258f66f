"""One webinar's registrations: the list, bulk actions, check-in, CSV export
and messages to registrants."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.extensions import db
from portal.labels import label
from portal.models import (
    Answer,
    AttendanceSource,
    DeclineReason,
    Registration,
    RegistrationStatus,
    Sector,
    Webinar,
    WebinarMessage,
)
from portal.models.bilingual import shown
from portal.models.types import parse_id, utcnow
from portal.organiser import bp
from portal.organiser.access import EDITORS, READERS, role_required, webinar_or_404
from portal.organiser.attendance_words import refusal_message
from portal.organiser.forms import (
    AUDIENCE_CHOICES,
    BULK_ACTIONS,
    BulkForm,
    MessageForm,
    manual_registration_form,
)
from portal.search import clean_query
from portal.services import (
    accessibility_needs,
    attendance,
    audit,
    csv_export,
    message_text,
    questions,
    signups,
)
from portal.services import registration as registration_rules
from portal.services.programme_editing import email_context
from portal.services.signups import RegistrationFilters

MAX_BULK = 500


def _filter_choices():
    return {
        "statuses": [(s.value, label(s)) for s in RegistrationStatus],
        "sectors": [(s.value, label(s)) for s in Sector],
        "need_labels": accessibility_needs.KIND_LABELS,
        "need_kinds": accessibility_needs.kinds_in,
        "sorts": [("newest", _("Newest first")), ("oldest", _("Oldest first")), ("name", _("Name")),
                  ("organisation", _("Organisation")), ("status", _("Status"))],
    }


@bp.get("/webinars/<int:webinar_id>/registrations")
@role_required(*READERS)
def registrations(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    filters = RegistrationFilters.from_args(request.args)
    page = signups.page_of(webinar.id, filters)
    asked = questions.every_question_of(webinar)
    return render_template("organiser/registrations.html", webinar=webinar, filters=filters, page=page,
                           bulk_form=BulkForm(), answers=questions.answers_of([r.id for r in page.items]),
                           answer_choices=questions.answer_filter_choices(asked, _language()),
                           language=_language(), answer_words=questions.words_for, **_filter_choices())


def _language() -> str:
    return str(get_locale() or "en")


# ---------------------------------------------------------------- bulk actions

def _selected(webinar: Webinar) -> list[Registration]:
    ids = [i for i in map(parse_id, request.form.getlist("ids")[:MAX_BULK]) if i is not None]
    if not ids:
        return []
    return list(db.session.scalars(
        db.select(Registration).where(Registration.webinar_id == webinar.id, Registration.id.in_(ids))
        .order_by(Registration.id)
    ))


@bp.post("/webinars/<int:webinar_id>/registrations/bulk")
@role_required(*EDITORS)
def bulk_registrations(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    form = BulkForm()
    back = url_for("organiser.registrations", webinar_id=webinar.id, **_kept_args())
    if not form.validate_on_submit():
        if form.decline_note.errors and (selected := _selected(webinar)):
            # A note too long: the confirmation page comes back with the message next to the note.
            return render_template("organiser/bulk_confirm.html", webinar=webinar, form=form, selected=selected,
                                   action_label=dict(BULK_ACTIONS)["decline"], back=back, kept=_kept_args()), 422
        flash(_("Choose what to do with the selected registrations."), "error")
        return redirect(back), 303
    selected = _selected(webinar)
    if not selected:
        flash(_("Select at least one registration first."), "error")
        return redirect(back), 303
    if form.action.data in ("attended", "not_attended"):
        try:
            attendance.check_started(webinar, lead=attendance.CHECKIN_LEAD)
        except attendance.AttendanceRefused as refused:
            flash(refusal_message(refused.reason, webinar), "error")
            return redirect(back), 303
    if form.confirmed.data != "yes":
        label = dict(BULK_ACTIONS)[form.action.data]
        return render_template("organiser/bulk_confirm.html", webinar=webinar, form=form, selected=selected,
                               action_label=label, back=back, kept=_kept_args())
    done, reasons = _apply_bulk(form, selected)
    db.session.commit()
    _flash_outcome(done, reasons)
    return redirect(back)


def _flash_outcome(done: int, reasons: dict[str, int]) -> None:
    """How many changed and, for the others, why: a refusal always says its reason."""
    flash(ngettext("%(num)d registration updated.", "%(num)d registrations updated.", done), "info")
    for reason, count in reasons.items():
        flash(ngettext("%(num)d left as it was: %(reason)s", "%(num)d left as they were: %(reason)s",
                       count, reason=reason), "error")


def _kept_args() -> dict:
    """The list's filters travel through the bulk form so the organiser lands back on the same view."""
    source = request.form if request.method == "POST" else request.args
    return {k: source.get(f"keep_{k}") for k in ("q", "status", "sector", "attended", "answer", "need", "sort",
                                                  "page")
            if source.get(f"keep_{k}")}


def _apply_bulk(form: BulkForm, selected: list[Registration]) -> tuple[int, dict[str, int]]:
    """(how many changed, {reason: how many left as they were}): each registration on its own."""
    done, reasons = 0, {}
    for registration in selected:
        if form.action.data == "approve":
            reason = _approve(registration)
        elif form.action.data == "decline":
            reason = _decline(registration, DeclineReason(form.decline_reason.data), form.decline_note.data)
        else:
            reason = _apply_one(form.action.data, registration)
        if reason is None:
            done += 1
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    return done, reasons


def _summary(registration: Registration) -> str:
    return f"registration #{registration.id} at {registration.webinar.title}"[:300]


def _approve(registration: Registration) -> str | None:
    """None when approved, else why not."""
    before = registration.status
    try:
        registration_rules.approve(registration)
    except registration_rules.NotAwaitingDecision:
        return _("only registrations awaiting a decision can be approved or declined")
    except registration_rules.RegistrationRefused as refused:
        return refused.message
    audit.record("approve", registration, summary=_summary(registration),
                 changes={"status": (before, registration.status)})
    return None


def _decline(registration: Registration, reason: DeclineReason, note: str | None) -> str | None:
    """None when declined, else why not."""
    try:
        registration_rules.decline(registration, reason, note)
    except registration_rules.NotAwaitingDecision:
        return _("only registrations awaiting a decision can be approved or declined")
    audit.record("decline", registration, summary=_summary(registration),
                 changes={"status": (RegistrationStatus.PENDING, RegistrationStatus.DECLINED),
                          "reason": (None, reason), "note": (None, registration.decline_note)})
    return None


def _apply_one(action: str, registration: Registration) -> str | None:
    """Apply ``action``; None when done, else why not (for the organiser)."""
    summary = _summary(registration)
    if action in ("attended", "not_attended"):
        present = action == "attended"
        before = registration.attended
        if registration.status == RegistrationStatus.CANCELLED:
            return _("the registration is cancelled")
        # A tick the report decided becomes a hand tick, which a later threshold change leaves be.
        by_report = registration.attendance_source == AttendanceSource.REPORT
        if (registration.attended == present and not by_report) or not attendance.mark_by_hand(registration, present):
            return _("already marked as attended") if present else _("already marked as not attended")
        audit.record("attendance", registration, summary=summary, changes={"attended": (before, present)})
        return None
    if action == "move_up":
        try:
            registration_rules.move_up(registration)
        except registration_rules.NotWaitlisted:
            return _("only people on the waiting list can be moved up")
        except registration_rules.SeatsFull:
            return _("the webinar is full: free a seat (cancel a registration) or raise the capacity first")
        except registration_rules.RegistrationRefused as exc:
            return exc.message
        audit.record("move_up", registration, summary=summary)
        return None
    if action == "cancel":
        if registration.status == RegistrationStatus.CANCELLED:
            return _("already cancelled")
        registration_rules.cancel_registration(registration, by_organiser=current_user._get_current_object())
        audit.record("cancel", registration, summary=summary)
        return None
    return _("unknown action")


# ---------------------------------------------------------------- check-in

@bp.get("/webinars/<int:webinar_id>/checkin")
@role_required(*EDITORS)
def checkin(webinar_id: int):
    return render_checkin(webinar_or_404(webinar_id))


def render_checkin(webinar: Webinar, status: int = 200):
    source = request.form if request.method == "POST" else request.args
    filters = RegistrationFilters(q=clean_query(source.get("q")),
                                  status=RegistrationStatus.CONFIRMED.value, sort="name")
    page = signups.page_of(webinar.id, filters)
    counts = signups.webinar_counts([webinar.id]).get(webinar.id)
    opens_at = webinar.starts_at - attendance.CHECKIN_LEAD
    return render_template("organiser/checkin.html", webinar=webinar, page=page, q=filters.q, counts=counts,
                           not_open_yet=utcnow() < opens_at, opens_at=opens_at), status


@bp.post("/webinars/<int:webinar_id>/checkin/<int:registration_id>")
@role_required(*EDITORS)
def checkin_mark(webinar_id: int, registration_id: int):
    webinar = webinar_or_404(webinar_id)
    registration = db.session.scalars(
        db.select(Registration).where(Registration.id == registration_id, Registration.webinar_id == webinar.id)
    ).first() or abort(404)
    present = request.form.get("present") == "yes"
    before = registration.attended
    try:
        changed = attendance.mark_by_hand(registration, present)
    except attendance.AttendanceRefused as refused:
        db.session.rollback()
        flash(refusal_message(refused.reason, webinar), "error")
        return render_checkin(webinar, status=422)
    if changed:
        audit.record("attendance", registration, summary=f"registration #{registration.id} at {webinar.title}"[:300],
                     changes={"attended": (before, present)})
        db.session.commit()
    q = clean_query(request.form.get("q"))
    return redirect(url_for("organiser.checkin", webinar_id=webinar.id, q=q or None,
                            _anchor=f"registration-{registration.id}"))


# ---------------------------------------------------------------- CSV

#: Sector and region as stored codes (stable across languages, for sorting and joining) and,
#: beside each, its word in the language of the page the export was asked from.
CSV_HEADER = ["id", "full_name", "email", "organisation", "sector", "sector_name", "region", "region_name",
              "preferred_language", "accessibility_needs", "status", "attended", "minutes_attended", "registered_at", "cancelled_at"]


CSV_COLUMNS = (
    Registration.id, Registration.full_name, Registration.email, Registration.organisation_name,
    Registration.sector, Registration.region, Registration.preferred_language, Registration.accessibility_needs,
    Registration.status, Registration.attended, Registration.minutes_attended, Registration.created_at,
    Registration.cancelled_at,
)


def _csv_rows(statement, asked: list):
    """Plain rows fetched in batches of 1000 (no ORM objects kept): memory stays flat.

    Each question is one more column; its answers are read per batch (one query per 1000 rows).
    """
    result = db.session.execute(statement.with_only_columns(*CSV_COLUMNS).execution_options(yield_per=1000))
    for batch in result.partitions():
        answers = _answers_by_registration([row[0] for row in batch], asked)
        for row in batch:
            (id_, name, email, organisation, sector, region, language, needs, status, attended, minutes,
             created, cancelled) = row
            given = answers.get(id_, {})
            yield (id_, name, email, organisation, sector.value if sector else "", label(sector),
                   region, label(region, "region"), language, needs, status.value, attended, minutes, created, cancelled,
                   *(questions.words_for(q, given.get(q.id), "en") for q in asked))


def _answers_by_registration(ids: list[int], asked: list) -> dict[int, dict[int, str]]:
    if not asked or not ids:
        return {}
    found: dict[int, dict[int, str]] = {}
    for registration_id, question_id, value in db.session.execute(
        db.select(Answer.registration_id, Answer.question_id, Answer.value).where(Answer.registration_id.in_(ids))
    ):
        found.setdefault(registration_id, {})[question_id] = value
    return found


@bp.get("/webinars/<int:webinar_id>/registrations.csv")
@role_required(*READERS)
def registrations_csv(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    filters = RegistrationFilters.from_args(request.args)
    audit.record("export", webinar, summary=f"registrations.csv of {webinar.title}"[:300],
                 changes={"filters": (None, filters.as_args(page=None))})
    db.session.commit()
    statement = signups.sorted_(signups.filtered(webinar.id, filters), filters)
    asked = questions.every_question_of(webinar)
    header = CSV_HEADER + [f"q{q.id}: {q.label_en}" for q in asked]
    filename = f"registrations-{webinar.slug}.csv"
    return Response(
        stream_with_context(csv_export.stream_csv(header, _csv_rows(statement, asked))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------- messages

DUPLICATE_WINDOW = timedelta(minutes=10)


def _message_texts(form: MessageForm) -> dict[str, str | None]:
    """The texts as stored: what is sent and what a replay is compared with (browsers send CRLF)."""
    return {
        "subject_en": (form.subject.data or "").strip(),
        "subject_fr": (form.subject_fr.data or "").strip() or None,
        "body_en": message_text.normalised(form.body.data),
        "body_fr": message_text.normalised(form.body_fr.data) or None,
    }


def _is_duplicate(webinar: Webinar, form: MessageForm) -> bool:
    """A replayed send (double click, back button) must not email everyone twice."""
    texts = _message_texts(form)
    return db.session.scalar(
        db.select(WebinarMessage.id).where(
            WebinarMessage.webinar_id == webinar.id,
            WebinarMessage.audience == form.audience.data,
            WebinarMessage.subject_en == texts["subject_en"],
            WebinarMessage.body_en == texts["body_en"],
            db.func.coalesce(WebinarMessage.subject_fr, "") == (texts["subject_fr"] or ""),
            db.func.coalesce(WebinarMessage.body_fr, "") == (texts["body_fr"] or ""),
            WebinarMessage.created_at >= utcnow() - DUPLICATE_WINDOW,
        ).limit(1)
    ) is not None


@bp.route("/webinars/<int:webinar_id>/message", methods=["GET", "POST"])
@role_required(*EDITORS)
def message_registrants(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    form = MessageForm()
    template = "organiser/message.html"
    if not form.validate_on_submit():
        return render_template(template, webinar=webinar, form=form, preview=None), (
            422 if request.method == "POST" else 200)
    recipients = signups.audience_size(webinar.id, form.audience.data)
    if _is_duplicate(webinar, form):
        form.subject.errors = [_("This message was already sent to these registrants a moment ago.")]
        return render_template(template, webinar=webinar, form=form, preview=None), 409
    if form.confirmed.data != "yes":
        return render_template(template, webinar=webinar, form=form, preview=True, recipients=recipients,
                               audience_label=dict(AUDIENCE_CHOICES)[form.audience.data])
    sent = _send_message(webinar, form)
    db.session.commit()
    flash(_("Message queued for %(count)d registrants.", count=sent), "info")
    return redirect(url_for("organiser.webinar", webinar_id=webinar.id, _anchor="messages"))


def _send_message(webinar: Webinar, form: MessageForm) -> int:
    from portal.services.outbox import queue_email

    message = WebinarMessage(webinar_id=webinar.id, organiser_id=current_user.id, audience=form.audience.data,
                             **_message_texts(form))
    db.session.add(message)
    db.session.flush()
    count = 0
    for registration in db.session.scalars(signups.audience(webinar.id, form.audience.data)):
        # The registrant's language when the organiser wrote it, else the other one (marked).
        language = registration.preferred_language or "en"
        body = shown(message, "body", language)
        queue_email(kind="organiser_message", recipient=registration.email,
                    subject=shown(message, "subject", body.lang).text,
                    template="organiser_message",
                    context=email_context(webinar, registration, body=body.text, body_version=body,
                                          paragraphs=message_text.paragraphs(body.text),
                                          greet=not message_text.starts_with_greeting(body.text)),
                    language=language, registration=registration,
                    webinar=webinar, dedupe_key=f"message:{message.id}:{registration.id}")
        count += 1
    message.recipient_count = count
    subject = message.subject_en or message.subject_fr or ""
    audit.record("email", webinar, summary=f"{subject[:120]} → {form.audience.data} ({count})")
    return count




# ---------------------------------------------------------------- adding someone by hand

@bp.route("/webinars/<int:webinar_id>/registrations/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def add_registration(webinar_id: int):
    """Someone who phoned or wrote in: the public form's fields, rules and emails (the same service),
    so they get the same confirmation or waiting-list email and the same manage link."""
    from portal.registration.routes import _details_from

    webinar = webinar_or_404(webinar_id)
    form = manual_registration_form()()
    if form.preferred_language.data is None:
        form.preferred_language.data = "en"

    def page(status: int = 200, refusal: str | None = None):
        return render_template("organiser/add_registration.html", webinar=webinar, form=form,
                               refusal=refusal), status

    if not form.validate_on_submit():
        return page(422 if form.is_submitted() else 200)
    try:
        [outcome] = registration_rules.register_for([webinar], _details_from(form))
    except registration_rules.RegistrationRefused as refused:
        db.session.rollback()
        return page(409, refused.message)
    registration = outcome.registration
    if outcome.outcome != registration_rules.Outcome.ALREADY_REGISTERED:
        audit.record("create", registration, summary=f"registration #{registration.id} at {webinar.title}"[:300],
                     changes={"status": (None, str(outcome.outcome))})
    db.session.commit()
    flash(_outcome_message(outcome.outcome), "info")
    return redirect(url_for("organiser.registrations", webinar_id=webinar_id))


def _outcome_message(outcome: registration_rules.Outcome) -> str:
    Outcome = registration_rules.Outcome
    return {
        Outcome.CONFIRMED: _("Registered: they have a seat and were emailed their confirmation."),
        Outcome.WAITLISTED: _("The webinar is full: they are on the waiting list and were emailed so."),
        Outcome.PENDING: _("Added: this webinar needs your decision, so they await it (approve them below) "
                           "and were emailed so."),
        Outcome.ALREADY_REGISTERED: _("This email was already registered for this webinar: the person was "
                                      "sent their link again, nothing else changed."),
    }[outcome]
