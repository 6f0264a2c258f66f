"""Invitations to a webinar whose audience is ``invitation``: invite a list, see who came, revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.extensions import db
from portal.models import Invitation, Webinar
from portal.organiser import bp
from portal.organiser.access import EDITORS, READERS, role_required, webinar_or_404
from portal.organiser.forms import EmptyForm, InvitationForm, printable
from portal.services import audit, invitations

MAX_UPLOAD_BYTES = 1_000_000


def _page(webinar: Webinar, form: InvitationForm, status: int = 200, problems=None):
    found = invitations.invitations_of(webinar)
    return render_template("organiser/invitations.html", webinar=webinar, form=form, invitations=found,
                           states={i.id: invitations.state_of(i) for i in found}, tally=invitations.tally(found),
                           problems=problems or [], revoke_form=EmptyForm()), status


@bp.get("/webinars/<int:webinar_id>/invitations")
@role_required(*READERS)
def invitations_list(webinar_id: int):
    return _page(webinar_or_404(webinar_id), InvitationForm(formdata=None))


@bp.post("/webinars/<int:webinar_id>/invitations")
@role_required(*EDITORS)
def invite(webinar_id: int):
    webinar = webinar_or_404(webinar_id)
    form = InvitationForm()
    if not form.validate_on_submit():
        return _page(webinar, form, 422)
    text = form.people.data or ""
    if form.upload.data:
        raw = form.upload.data.read(MAX_UPLOAD_BYTES + 1)
        try:
            if len(raw) > MAX_UPLOAD_BYTES:
                raise UnicodeError
            uploaded = printable(raw.decode("utf-8-sig"))  # as typed text is cleaned by the form
            text = "\n".join(part for part in (text, uploaded) if part.strip())
        except UnicodeError:
            form.upload.errors.append(_("Upload a UTF-8 CSV file of at most 1 MB."))
            return _page(webinar, form, 422)
    try:
        people = invitations.parse_invitees(text)
    except invitations.InviteeListError as error:
        form.people.errors.append(_("Some lines hold no valid email address; nobody was invited. Correct them "
                                    "and send the list again."))
        return _page(webinar, form, 422, error.problems[:50])
    created, skipped = invitations.invite(webinar, people)
    if created:
        audit.record("invite", webinar, summary=f"{len(created)} invitations to {webinar.title}"[:300],
                     changes={"invited": (None, len(created)), "already_invited": (None, skipped)})
    db.session.commit()
    flash(_("%(created)d invitations sent; %(skipped)d people were already invited.",
            created=len(created), skipped=skipped), "info")
    return redirect(url_for("organiser.invitations_list", webinar_id=webinar.id))


@bp.post("/invitations/<int:invitation_id>/revoke")
@role_required(*EDITORS)
def revoke_invitation(invitation_id: int):
    invitation = db.session.get(Invitation, invitation_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if invitations.revoke(invitation):
        audit.record("revoke", invitation, summary=f"invitation #{invitation.id} to {invitation.webinar.title}"[:300])
        db.session.commit()
        flash(_("The invitation link no longer works."), "info")
    return redirect(url_for("organiser.invitations_list", webinar_id=invitation.webinar_id,
                            _anchor=f"invitation-{invitation.id}"))



