"""Registering for webinars and managing a registration through its secret link.

Views stay thin: the rules (seats, waiting list, emails) are in
``portal.services.registration``; here they become pages, flashes and status codes.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import observability, page_cache
from portal.extensions import db
from portal.models import Invitation, Registration, RegistrationStatus, Sector, Webinar, WebinarAudience
from portal.models.types import utcnow
from portal.registration import bp
from portal.registration.forms import (
    LANGUAGE_LABELS,
    ConfirmForm,
    DetailsForm,
    PanelQuestionForm,
    RegistrationForm,
    SelectChoice,
    form_with_questions,
)
from portal.services import (
    certificate_pdf,
    certificates,
    invitations,
    limits,
    materials,
    panel_questions,
    questions,
)
from portal.services import registration as registrations


def _wait_message(refusal: limits.Refusal) -> str:
    minutes = refusal.retry_after_minutes
    if refusal.reason == "email":
        why = _("Many registrations were sent for this email address in a short time.")
    elif refusal.reason == "webinar":
        why = _("This webinar is receiving more registrations than usual right now.")
    else:
        why = _("Many registrations were sent from your network in a short time.")
    when = ngettext("Please try again in %(num)d minute.", "Please try again in %(num)d minutes.", minutes)
    return " ".join((why, when, _("Nothing was saved; what you typed is still in the form.")))


@bp.app_context_processor
def registration_helpers():
    """``registration_availability(webinar, now, seats=…)`` for the public status partial."""
    return {"registration_availability": registrations.registration_state}


def _public_webinar_or_404(slug: str) -> Webinar:
    webinar = registrations.registration_webinar(slug)
    if webinar is None:
        abort(404)
    return webinar


def _other_open_webinars(webinar: Webinar, now) -> list[Webinar]:
    """The series' other webinars that take registrations now (one count query for all)."""
    others = [w for w in webinar.series.webinars
              if w.id != webinar.id and w.starts_at > now and w.audience != WebinarAudience.INVITATION]
    seats = registrations.seats_left_for(others)
    return [w for w in others if registrations.registration_state(w, now, seats[w.id]).accepting]


def _build_form(webinar: Webinar, now, invitation: Invitation | None = None) -> tuple[RegistrationForm, list[Webinar]]:
    asked = questions.questions_for(webinar)
    form = form_with_questions(RegistrationForm, asked, str(get_locale() or "en"))()
    if invitation is not None and not form.is_submitted():
        form.full_name.data, form.email.data = invitation.full_name, invitation.email
    # A POST that picked no other webinar needs no list to check against (saves queries);
    # an invitation is for its own webinar only.
    wanted = invitation is None and (not form.is_submitted() or bool(request.form.getlist("also_register")))
    others = _other_open_webinars(webinar, now) if wanted else []
    form.also_register.choices = [SelectChoice(w.slug, w.title) for w in others]
    if form.preferred_language.data is None:
        form.preferred_language.data = str(get_locale() or "en")
    _offer_talks(form, webinar)
    if not form.is_submitted() and request.args.get("from"):
        _prefill_from_link(form, request.args["from"])
    return form, others


def _offer_talks(form, webinar: Webinar) -> None:
    """The talks a question for the presenters may be addressed to; on a POST of this form,
    read only when a question was written (the choice is checked only then)."""
    if form.is_submitted() and not (request.form.get("panel_question") or "").strip():
        form.panel_presentation.choices = _talk_choices(None)
        return
    form.panel_presentation.choices = _talk_choices(webinar)


def _talk_choices(webinar: Webinar | None) -> list[SelectChoice]:
    """The whole panel, then each talk of ``webinar`` (none without one)."""
    talks = panel_questions.presentations_of(webinar) if webinar is not None else []
    return [SelectChoice("", _("The whole panel"))] + [SelectChoice(str(t.id), t.title) for t in talks]


def _panel_question_fits(form) -> bool:
    """A question's "For" must be the panel or one of this webinar's talks (422 next to it otherwise)."""
    if form.panel_question.data and (form.panel_presentation.data or "") not in {
            c.value for c in form.panel_presentation.choices}:
        form.panel_presentation.errors = [_("Choose the whole panel or one of this webinar's presentations.")]
        return False
    return True


def _ask_panel(registration: Registration, form) -> None:
    if form.panel_question.data:
        panel_questions.ask(registration, form.panel_question.data,
                            int(form.panel_presentation.data) if form.panel_presentation.data else None,
                            bool(form.panel_share_name.data))


def _prefill_from_link(form: RegistrationForm, token: str) -> None:
    """The follow-up's "register for the next one" link carries the registrant's own secret link:
    the form is filled in from that registration, and still sent (with CSRF) by the person."""
    earlier = registrations.find_by_token(token)
    if earlier is None or earlier.purged_at is not None:
        return
    form.full_name.data = earlier.full_name
    form.email.data = earlier.email
    form.organisation_name.data = earlier.organisation_name
    form.sector.data = earlier.sector.value if earlier.sector else None
    form.region.data = earlier.region
    form.preferred_language.data = earlier.preferred_language


@bp.route("/register/<slug>", methods=["GET", "POST"])
def register(slug: str):
    if page_cache.may_share_form_page():
        return page_cache.shared_form_page(lambda: _registration_page(slug))
    return _registration_page(slug)


def _registration_page(slug: str):
    webinar = _public_webinar_or_404(slug)
    now = utcnow()
    invitation = None
    if webinar.audience == WebinarAudience.INVITATION:
        invitation = invitations.find_invitation(webinar, request.args.get("invitation"))
        if invitation is None:
            return render_template("registration/invitation_only.html", webinar=webinar), 403
    form, others = _build_form(webinar, now, invitation)
    # On POST the seat count is taken under the lock in the service; here only the window matters.
    seats = None if form.is_submitted() else registrations.UNSET
    availability = registrations.registration_state(webinar, now, seats)

    def page(status: int = 200, refusal: str | None = None, wait: str | None = None):
        return render_template("registration/register.html", webinar=webinar, form=form, others=others,
                               availability=availability, refusal=refusal, wait=wait,
                               invitation_token=request.args.get("invitation") if invitation else None), status

    if not availability.accepting:
        return page(200 if form.is_submitted() is False else 409, availability.reason)
    if not form.validate_on_submit() or not _panel_question_fits(form):
        if form.is_submitted() and not others and invitation is None:
            # The page comes back whole: the other webinars are offered again (none was ticked).
            others = _other_open_webinars(webinar, now)
            form.also_register.choices = [SelectChoice(w.slug, w.title) for w in others]
        return page(422 if form.is_submitted() else 200)
    if invitation is not None and not invitations.bound_to(invitation, form.email.data):
        form.email.errors.append(_("This invitation is for another email address. Register with the address "
                                   "the invitation was sent to, or ask the organisers to invite this one."))
        return page(422)
    if form.website.data:
        # A bot filled the honeypot: answer exactly like a success, store nothing.
        return redirect(url_for("registration.sent", slug=webinar.slug))

    chosen = [webinar] + [w for w in others if w.slug in (form.also_register.data or [])]
    # Only a registration that would be stored is limited and counted (see services/limits.py).
    address, email, webinar_ids = request.remote_addr or "", form.email.data, [w.id for w in chosen]
    refusal = limits.registration_refusal(address, email, webinar_ids)
    if refusal is not None:
        body, status = page(429, wait=_wait_message(refusal))
        return body, status, {"Retry-After": str(refusal.retry_after)}
    try:
        outcomes = registrations.register_for(chosen, _details_from(form), now)
    except registrations.RegistrationRefused as refused:
        db.session.rollback()
        return page(409, _("%(title)s: %(reason)s", title=refused.availability.webinar.title, reason=refused.message))
    if invitation is not None:
        invitations.link_registration(invitation, outcomes[0].registration)
    if outcomes[0].outcome != registrations.Outcome.ALREADY_REGISTERED:
        # Never added to an existing registration: whoever types an address must not write on its behalf.
        _ask_panel(outcomes[0].registration, form)
    if getattr(form, "answer_values", None):
        questions.save_answers(
            {o.webinar.id: o.registration.id for o in outcomes if o.outcome != registrations.Outcome.ALREADY_REGISTERED},
            form.questions, form.answer_values, form.preferred_language.data)
    db.session.commit()
    limits.count_registration(address, email, webinar_ids)
    observability.count_registrations(outcomes)
    # ``slug`` (not ``webinar.slug``): the commit expired the webinar, and reloading it costs a query.
    return redirect(url_for("registration.sent", slug=slug, n=len(chosen)))


def _details_from(form: RegistrationForm) -> registrations.RegistrantDetails:
    return registrations.RegistrantDetails(
        full_name=form.full_name.data,
        email=form.email.data,
        organisation_name=form.organisation_name.data or None,
        sector=Sector(form.sector.data),
        region=form.region.data,
        preferred_language=form.preferred_language.data,
        accessibility_needs=form.accessibility_needs.data or None,
    )


@bp.get("/register/<slug>/sent")
def sent(slug: str):
    """The same page for a new, a waitlisted and an already-registered email: it reveals nothing."""
    webinar = _public_webinar_or_404(slug)
    return render_template("registration/sent.html", webinar=webinar)


# --- the attendee's link ---------------------------------------------------------------


def _registration_or_404(token: str) -> Registration:
    registration = registrations.find_by_token(token)
    if registration is None or registration.purged_at is not None:
        abort(404, description=_("This registration link is not valid. Check that you copied the whole "
                                 "link from your email, or register again."))
    return db.session.scalars(
        select(Registration).where(Registration.id == registration.id)
        .options(joinedload(Registration.webinar).joinedload(Webinar.series))
    ).one()


def _manage_page(token: str, registration: Registration, details_form: DetailsForm | None = None, status=200,
                 question_form: PanelQuestionForm | None = None):
    now = utcnow()
    asking = panel_questions.open_for(registration, now)
    if asking and question_form is None:
        # Not _offer_talks: this page is also the answer to a POST of another form (details).
        question_form = PanelQuestionForm(formdata=None)
        question_form.panel_presentation.choices = _talk_choices(registration.webinar)
    return render_template(
        "registration/manage.html",
        token=token,
        registration=registration,
        webinar=registration.webinar,
        position=registrations.waitlist_position(registration),
        join_open=registrations.join_link_open(registration, now),
        details_form=details_form or DetailsForm(obj=registration),
        cancel_form=ConfirmForm(),
        statuses=RegistrationStatus,
        language_labels=LANGUAGE_LABELS,
        now=now,
        own_questions=panel_questions.own_questions(registration),
        question_form=question_form if asking else None,
        after=materials.after_the_webinar(registration, now),
    ), status


@bp.get("/registration/<token>")
def manage(token: str):
    return _manage_page(token, _registration_or_404(token))


@bp.post("/registration/<token>/details")
def update_details(token: str):
    registration = _registration_or_404(token)
    form = DetailsForm()
    if registration.status == RegistrationStatus.CANCELLED:
        abort(409, description=_("This registration is cancelled, so its details can no longer be changed."))
    if not form.validate_on_submit():
        return _manage_page(token, registration, form, 422)
    registrations.update_details(registration, form.full_name.data, form.organisation_name.data or None)
    db.session.commit()
    flash(_("Your details are saved."), "success")
    return redirect(url_for("registration.manage", token=token))


@bp.route("/registration/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    """GET asks "are you sure?"; POST (with CSRF) cancels and frees the seat for the waiting list."""
    registration = _registration_or_404(token)
    form = ConfirmForm()
    if registration.status == RegistrationStatus.CANCELLED:
        flash(_("This registration is already cancelled."), "info")
        return redirect(url_for("registration.manage", token=token))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("registration/cancel.html", token=token, registration=registration,
                               webinar=registration.webinar, form=form), status
    registrations.cancel_registration(registration)
    db.session.commit()
    flash(_("Your registration is cancelled. We have sent you an email to confirm."), "success")
    return redirect(url_for("registration.manage", token=token))


@bp.post("/registration/<token>/questions")
def ask_presenters(token: str):
    """Another question for the presenters, until the webinar starts."""
    registration = _registration_or_404(token)
    form = PanelQuestionForm()
    _offer_talks(form, registration.webinar)
    if not panel_questions.open_for(registration):
        abort(409, description=_("Questions for the presenters are closed: the webinar has started, or this "
                                 "registration is no longer active."))
    if not form.validate_on_submit() or not _panel_question_fits(form):
        return _manage_page(token, registration, status=422, question_form=form)
    if not form.panel_question.data:
        form.panel_question.errors = [_("Write your question first.")]
        return _manage_page(token, registration, status=422, question_form=form)
    try:
        _ask_panel(registration, form)
    except panel_questions.PanelQuestionRefused:
        form.panel_question.errors = [_("You have sent the most questions one person can send.")]
        return _manage_page(token, registration, status=422, question_form=form)
    db.session.commit()
    flash(_("Your question is sent to the organisers. They choose which questions the presenters receive."),
          "success")
    return redirect(url_for("registration.manage", token=token, _anchor="questions-title"))


# --- after the webinar: certificates ----------------------------------------------------


def _pdf_download(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _certificate_download(token: str, find, missing: str) -> Response:
    """Issued on first download; a missing or revoked certificate is a 404 that says why."""
    found = find(_registration_or_404(token))
    if found is None or found.revoked:
        abort(404, description=missing)
    db.session.commit()
    return _pdf_download(certificate_pdf.certificates_pdf([found]), certificate_pdf.certificate_filename(found))


@bp.get("/registration/<token>/certificate.pdf")
def certificate(token: str):
    """The attendee's certificate (only once the webinar ended and they attended)."""
    return _certificate_download(token, certificates.certificate_for, _(
        "There is no certificate for this registration: certificates are for people "
        "who attended, once the webinar has ended and its attendance is final."))


@bp.get("/registration/<token>/series-certificate.pdf")
def series_certificate(token: str):
    return _certificate_download(token, certificates.series_certificate_for, _(
        "There is no series certificate for you yet: it is for people who attended "
        "enough webinars of the series."))


@bp.get("/registration/<token>/materials/<int:material_id>")
def material(token: str, material_id: int):
    """A webinar file for its confirmed registrants (the public page has its own link once they are public)."""
    registration = _registration_or_404(token)
    if registration.status != RegistrationStatus.CONFIRMED:
        abort(404)
    found = materials.material_of(registration.webinar_id, material_id)
    response = materials.download(found) if found is not None else None
    if response is None:
        abort(404)
    return response
