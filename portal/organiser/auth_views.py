"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from portal.extensions import db
from portal.organiser import bp
from portal.organiser.access import READERS, role_required
from portal.organiser.forms import EmptyForm, LoginForm, PasswordChangeForm
from portal.services import accounts, audit, limits, organiser_sessions
from portal.web import safe_next


@bp.route("/login", methods=["GET", "POST"])
def login():
    dashboard = url_for("organiser.dashboard")
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), dashboard))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("organiser/login.html", form=form), status
    address, email = request.remote_addr or "", form.email.data
    refusal = limits.sign_in_refusal(address, email)
    if refusal is not None:
        # The same answer for known and unknown accounts; the password is not even checked.
        form.password.errors.append(ngettext(
            "Too many failed sign-in attempts. Please try again in %(num)d minute.",
            "Too many failed sign-in attempts. Please try again in %(num)d minutes.",
            refusal.retry_after_minutes))
        return render_template("organiser/login.html", form=form), 429, {"Retry-After": str(refusal.retry_after)}
    result = accounts.authenticate(email, form.password.data)
    if not result.ok:
        limits.count_failed_sign_in(address, email)
        _record_failure(result)
        db.session.commit()
        # One answer for every reason, so it reveals nothing about which accounts exist.
        form.password.errors.append(_("Email or password not recognised, or the account is locked "
                                      "for a while after repeated attempts."))
        return render_template("organiser/login.html", form=form), 422
    limits.forget_failed_sign_ins(address, email)
    _fresh_session()
    login_user(result.organiser)
    organiser_sessions.start(result.organiser)
    audit.record("login", result.organiser, summary=result.organiser.name, organiser=result.organiser)
    db.session.commit()
    return redirect(safe_next(form.next.data, dashboard))


def _fresh_session() -> None:
    """Drop everything from the old session (no fixation), including the CSRF token
    Flask-WTF caches on ``g`` for the rest of this app context."""
    session.clear()
    g.pop("csrf_token", None)


def _record_failure(result: accounts.LoginResult) -> None:
    if result.organiser is None:
        audit.record("login_failed", "organiser", summary="unknown account")
    else:
        audit.record("login_failed", result.organiser, summary=result.reason or "")


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():  # CSRF refused by CSRFProtect before this
        return redirect(url_for("organiser.dashboard"))
    if current_user.is_authenticated:
        organiser = current_user._get_current_object()
        # Ends this session on the server: a copy of the cookie no longer signs anyone in.
        organiser_sessions.end_all(organiser)
        audit.record("logout", organiser, summary=organiser.name)
        db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("organiser.login"))


@bp.route("/password", methods=["GET", "POST"])
@role_required(*READERS)
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return render_template("organiser/password.html", form=form), 422 if form.is_submitted() else 200
    organiser = current_user._get_current_object()
    try:
        accounts.change_own_password(organiser, form.current_password.data, form.password.data)
    except accounts.WrongPassword as exc:
        db.session.rollback()
        form.current_password.errors.append(str(exc))
        return render_template("organiser/password.html", form=form), 422
    except accounts.AccountError as exc:
        db.session.rollback()
        form.password.errors.append(str(exc))
        return render_template("organiser/password.html", form=form), 422
    organiser_sessions.end_others(organiser)
    audit.record("password", organiser, summary=organiser.name)
    db.session.commit()
    flash(_("Your password is changed. Sessions on other devices are signed out."), "success")
    return redirect(url_for("organiser.dashboard"))
