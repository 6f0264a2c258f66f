"""Organiser accounts (admins only): create, change role, deactivate."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.extensions import db
from portal.models import Organiser
from portal.organiser import bp
from portal.organiser.access import ADMINS, role_required
from portal.organiser.forms import AccountForm, EmptyForm, RoleForm
from portal.services import accounts as account_rules
from portal.services import audit


def _organiser_or_404(organiser_id: int) -> Organiser:
    return db.session.get(Organiser, organiser_id) or abort(404)


def _render(form: AccountForm, status: int = 200):
    organisers = db.session.scalars(db.select(Organiser).order_by(Organiser.name)).all()
    return render_template("organiser/accounts.html", form=form, organisers=organisers,
                           role_form=RoleForm(), action_form=EmptyForm()), status


@bp.get("/accounts")
@role_required(*ADMINS)
def accounts():
    return _render(AccountForm())


@bp.post("/accounts")
@role_required(*ADMINS)
def create_account():
    form = AccountForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    try:
        organiser = account_rules.create_organiser(email=form.email.data, name=form.name.data,
                                                   role=form.role.data, password=form.password.data)
    except account_rules.AccountError as exc:
        db.session.rollback()
        target = form.email if "email" in str(exc).lower() else form.password
        target.errors = [*target.errors, str(exc)]
        return _render(form, 422)
    audit.record("create", organiser, summary=f"{organiser.name} ({organiser.role.value})")
    db.session.commit()
    flash(_("Account created for %(name)s.", name=organiser.name), "info")
    return redirect(url_for("organiser.accounts"))


@bp.post("/accounts/<int:organiser_id>/role")
@role_required(*ADMINS)
def change_account_role(organiser_id: int):
    organiser = _organiser_or_404(organiser_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a valid role."), "error")
        return _render(AccountForm(), 422)
    try:
        changes = account_rules.change_role(organiser, form.role.data)
    except account_rules.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render(AccountForm(), 409)
    if changes:
        audit.record("update", organiser, summary=organiser.name, changes=changes)
    db.session.commit()
    flash(_("Role of %(name)s saved.", name=organiser.name), "info")
    return redirect(url_for("organiser.accounts"))


def _set_active(organiser_id: int, active: bool):
    organiser = _organiser_or_404(organiser_id)
    try:
        changes = account_rules.set_active(organiser, active)
    except account_rules.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render(AccountForm(), 409)
    if changes:
        audit.record("activate" if active else "deactivate", organiser, summary=organiser.name,
                     changes=changes)
    db.session.commit()
    flash(_("Account of %(name)s saved.", name=organiser.name), "info")
    return redirect(url_for("organiser.accounts"))


@bp.post("/accounts/<int:organiser_id>/deactivate")
@role_required(*ADMINS)
def deactivate_account(organiser_id: int):
    return _set_active(organiser_id, False)


@bp.post("/accounts/<int:organiser_id>/activate")
@role_required(*ADMINS)
def activate_account(organiser_id: int):
    return _set_active(organiser_id, True)


@bp.post("/accounts/<int:organiser_id>/unlock")
@role_required(*ADMINS)
def unlock_account(organiser_id: int):
    """Lets someone locked out by repeated failed sign-ins (theirs or a stranger's) try again now."""
    organiser = _organiser_or_404(organiser_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    changes = account_rules.unlock(organiser)
    if changes:
        audit.record("unlock", organiser, summary=organiser.name, changes=changes)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=organiser.name), "info")
    return redirect(url_for("organiser.accounts"))
