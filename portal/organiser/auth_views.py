"""Signing in and out."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.extensions import db, limiter
from portal.organiser import bp
from portal.organiser.forms import EmptyForm, LoginForm
from portal.services import accounts, audit
from portal.web import safe_next


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    dashboard = url_for("organiser.dashboard")
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), dashboard))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("organiser/login.html", form=form), status
    result = accounts.authenticate(form.email.data, form.password.data)
    if not result.ok:
        _record_failure(result)
        db.session.commit()
        # One answer for every reason, so it reveals nothing about which accounts exist.
        form.password.errors.append(_("Email or password not recognised, or the account is locked "
                                      "for a while after repeated attempts."))
        return render_template("organiser/login.html", form=form), 422
    _fresh_session()
    login_user(result.organiser)
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
        audit.record("logout", current_user._get_current_object(), summary=current_user.name)
        db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("organiser.login"))
