"""Registering for webinars and managing a registration through its secret link.

Views stay thin: the rules (seats, waiting list, emails) are in
``portal.services.registration``; here they become pages, flashes and status codes.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import page_cache
from portal.extensions import db, limiter
from portal.models import Registration, RegistrationStatus, Sector, Webinar
from portal.models.types import utcnow
from portal.registration import bp
from portal.registration.forms import (
    LANGUAGE_LABELS,
    ConfirmForm,
    DetailsForm,
    RegistrationForm,
    SelectChoice,
)
from portal.services import registration as registrations


def _rate_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


def _rate_limited_message() -> str:
    return _("Too many registrations were sent from your network in a short time. "
             "Please wait a while and try again; nothing was saved from the refused attempt.")


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
    others = [w for w in webinar.series.webinars if w.id != webinar.id and w.starts_at > now]
    seats = registrations.seats_left_for(others)
    return [w for w in others if registrations.registration_state(w, now, seats[w.id]).accepting]


def _build_form(webinar: Webinar, now) -> tuple[RegistrationForm, list[Webinar]]:
    form = RegistrationForm()
    # A POST that picked no other webinar needs no list to check against (saves queries).
    wanted = not form.is_submitted() or bool(request.form.getlist("also_register"))
    others = _other_open_webinars(webinar, now) if wanted else []
    form.also_register.choices = [SelectChoice(w.slug, w.title) for w in others]
    if form.preferred_language.data is None:
        form.preferred_language.data = str(get_locale() or "en")
    return form, others


@bp.route("/register/<slug>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"], error_message=_rate_limited_message)
def register(slug: str):
    if page_cache.may_share_form_page():
        return page_cache.shared_form_page(lambda: _registration_page(slug))
    return _registration_page(slug)


def _registration_page(slug: str):
    webinar = _public_webinar_or_404(slug)
    now = utcnow()
    form, others = _build_form(webinar, now)
    # On POST the seat count is taken under the lock in the service; here only the window matters.
    seats = None if form.is_submitted() else registrations.UNSET
    availability = registrations.registration_state(webinar, now, seats)

    def page(status: int = 200, refusal: str | None = None):
        return render_template("registration/register.html", webinar=webinar, form=form, others=others,
                               availability=availability, refusal=refusal), status

    if not availability.accepting:
        return page(200 if form.is_submitted() is False else 409, availability.reason)
    if not form.validate_on_submit():
        return page(422 if form.is_submitted() else 200)
    if form.website.data:
        # A bot filled the honeypot: answer exactly like a success, store nothing.
        return redirect(url_for("registration.sent", slug=webinar.slug))

    chosen = [webinar] + [w for w in others if w.slug in (form.also_register.data or [])]
    try:
        registrations.register_for(chosen, _details_from(form), now)
    except registrations.RegistrationRefused as refused:
        db.session.rollback()
        return page(409, _("%(title)s: %(reason)s", title=refused.availability.webinar.title, reason=refused.message))
    db.session.commit()
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


def _manage_page(token: str, registration: Registration, details_form: DetailsForm | None = None, status=200):
    now = utcnow()
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
