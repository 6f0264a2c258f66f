"""The feedback form behind the attendee's secret link, and "delete my data".

Statuses: an unknown, malformed or cancelled link is 404; a cancelled webinar
410. Before the form opens the link shows a message page with 200 (the link is
right, it is just early) and refuses a POST with 403; after it closes both
answer 410 Gone with a message page. Invalid answers re-render the form with 422.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal import dates
from portal.extensions import db
from portal.feedback import bp
from portal.feedback.forms import feedback_form
from portal.models import Registration, RegistrationStatus
from portal.models.types import utcnow
from portal.registration.forms import ConfirmForm
from portal.services import feedback, privacy
from portal.services import registration as registrations
from portal.services.feedback import FeedbackRefused, WindowState


@bp.app_context_processor
def feedback_helpers():
    """For the manage page's feedback and "delete my data" section."""
    return {"feedback_window": feedback.feedback_window, "can_give_feedback": feedback.can_give_feedback}


def _message(registration: Registration | None, message, status: int):
    return render_template("feedback/message.html", registration=registration,
                           webinar=registration.webinar if registration else None, message=message), status


@bp.errorhandler(FeedbackRefused)
def refused(error: FeedbackRefused):
    return _message(None, error.message, error.status)


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def form(token: str):
    registration = feedback.registration_for_feedback(token)
    webinar = registration.webinar
    now = utcnow()
    window = feedback.feedback_window(webinar)
    state = window.state(now)
    if state != WindowState.OPEN:
        return _window_message(registration, window, state, posted=request.method == "POST")
    previous = feedback.response_of(registration)
    form = feedback_form(list(webinar.presentations), previous)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("feedback/form.html", form=form, registration=registration, webinar=webinar,
                               previous=previous, window=window, token=token), status
    _save(registration, form.answers(), now)
    flash(_("Thank you: your feedback is saved. You can change it until %(when)s.",
            when=_when(window.closes_at, webinar)), "success")
    return redirect(url_for("feedback.form", token=token))


def _save(registration: Registration, answers, now) -> None:
    try:
        feedback.submit(registration, answers, now)
        db.session.commit()
    except IntegrityError:
        # Two submits raced and the other one created the response: this one becomes an edit.
        db.session.rollback()
        feedback.submit(registration, answers, now)
        db.session.commit()


def _when(moment, webinar) -> str:
    zone = webinar.series.zone
    return f"{dates.long_date(moment, zone)}, {dates.short_time(moment, zone)} ({dates.zone_label(moment, zone)})"


def _window_message(registration: Registration, window, state: WindowState, posted: bool):
    webinar = registration.webinar
    if state == WindowState.NOT_YET:
        message = _("Feedback opens when the webinar ends, on %(when)s. Please come back then.",
                    when=_when(window.opens_at, webinar))
        return _message(registration, message, 403 if posted else 200)
    message = _("Feedback for this webinar closed on %(when)s. Thank you for your interest.",
                when=_when(window.closes_at, webinar))
    return _message(registration, message, 410)


# --- delete my data --------------------------------------------------------------------


def _erasable_or_404(token: str) -> Registration:
    registration = registrations.find_by_token(token)
    if registration is None or registration.purged_at is not None:
        abort(404, description=_("This registration link is not valid. Check that you copied the whole "
                                 "link from your email."))
    return registration


@bp.route("/registration/<token>/erase", methods=["GET", "POST"])
def erase(token: str):
    """GET asks to confirm; POST (with CSRF) removes the personal data, once the webinar is over."""
    registration = _erasable_or_404(token)
    webinar = registration.webinar
    if webinar.ends_at > utcnow() and registration.status != RegistrationStatus.CANCELLED:
        return render_template("feedback/erase.html", registration=registration, webinar=webinar, token=token,
                               form=None, too_early=True), 409
    form = ConfirmForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("feedback/erase.html", registration=registration, webinar=webinar, token=token,
                               form=form, too_early=False), status
    privacy.erase_registration(registration)
    db.session.commit()
    return redirect(url_for("feedback.erased"))


@bp.get("/registration/erased")
def erased():
    return render_template("feedback/erased.html")
