"""Personal invitations: the only way into a webinar whose audience is ``invitation``.

Each invitee gets an email with a link bound to their address. The link's
secret is an HMAC under SECRET_KEY (256 bits) of the webinar, the address and
the invitation's creation instant, like the registration link: only its hash is
stored, yet the same link can be emailed again. A link opens the form only
while not revoked, and registers only the address it was sent to.
"""

from __future__ import annotations

import csv
import enum
import io
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Invitation, Registration, RegistrationStatus, Webinar
from portal.models.bilingual import when_shown
from portal.models.types import utcnow
from portal.services.outbox import RenderedMessage, queue_email, render_message
from portal.services.registration import _hmac_token, _instant, normalise_email
from portal.services.tokens import hash_token, looks_like_token, token_matches
from portal.web import absolute_url

MAX_INVITEES = 2000


class InvitationState(enum.StrEnum):
    """What the organiser's list shows for one invitation (derived, not stored)."""

    INVITED = "invited"
    REGISTERED = "registered"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Invitee:
    full_name: str
    email: str


class InviteeListError(ValueError):
    """Lines that are not "name, email": ``problems`` lists (line number, text) for the organiser."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} lines")


def parse_invitees(text: str) -> list[Invitee]:
    """One invitee per line: ``Name, email``, ``Name <email>``, ``email`` or CSV with a name/email header.

    Duplicates (same address, any case) are kept once. Raises ``InviteeListError``
    naming every line that holds no valid address.
    """
    invitees: dict[str, Invitee] = {}
    problems: list[tuple[int, str]] = []
    rows = list(csv.reader(io.StringIO(text or "")))
    if rows and _is_header(rows[0]):
        rows = [[""], *rows[1:]]
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if not cells:
            continue
        invitee = _invitee_from(cells)
        if invitee is None:
            problems.append((number, ", ".join(cells)[:120]))
            continue
        invitees.setdefault(normalise_email(invitee.email), invitee)
    if problems:
        raise InviteeListError(problems)
    if len(invitees) > MAX_INVITEES:
        raise InviteeListError([(0, str(len(invitees)))])
    return list(invitees.values())


def _is_header(row: list[str]) -> bool:
    return any(cell.strip().lower() in ("email", "e-mail", "courriel") for cell in row)


def _invitee_from(cells: list[str]) -> Invitee | None:
    if len(cells) == 1 and "<" in cells[0] and cells[0].endswith(">"):
        name, _, address = cells[0][:-1].rpartition("<")
        cells = [name.strip(), address]
    address = next((c for c in reversed(cells) if "@" in c), None)
    if address is None:
        return None
    try:
        email = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
    name = " ".join(c for c in cells if c is not address)[:200]
    return Invitee(full_name=name, email=email)


def invitation_token(invitation: Invitation) -> str:
    return _hmac_token(f"invitation:v1:{invitation.webinar_id}:{invitation.email_normalised}:"
                       f"{_instant(invitation.created_at)}")


def invitation_url(invitation: Invitation, language: str | None = None) -> str:
    return absolute_url("registration.register", language=language, slug=invitation.webinar.slug,
                        invitation=invitation_token(invitation))


def invite(webinar: Webinar, invitees: list[Invitee]) -> tuple[list[Invitation], int]:
    """Invite each person not already invited to ``webinar`` and queue their email.

    Returns (new invitations, number already invited and left alone). The
    caller commits: invitations and their emails are stored together.
    """
    wanted = {normalise_email(i.email): i for i in invitees}
    existing = set(db.session.scalars(
        select(Invitation.email_normalised)
        .where(Invitation.webinar_id == webinar.id, Invitation.email_normalised.in_(list(wanted)))
    ))
    created = []
    for email_normalised, invitee in wanted.items():
        if email_normalised in existing:
            continue
        invitation = Invitation(webinar=webinar, webinar_id=webinar.id, full_name=invitee.full_name or None,
                                email=invitee.email,
                                email_normalised=email_normalised, created_at=utcnow())
        invitation.token_hash = hash_token(invitation_token(invitation))
        db.session.add(invitation)
        created.append(invitation)
    db.session.flush()
    for invitation in created:
        _queue_invitation(invitation)
    return created, len(wanted) - len(created)


def _queue_invitation(invitation: Invitation) -> None:
    """In English and French, one after the other: the invitee has chosen no language yet."""
    webinar = invitation.webinar

    def context(language: str) -> dict:  # each half links to the pages in its own language
        return {"invitation": invitation, "webinar": webinar,
                "invitation_url": invitation_url(invitation, language),
                "webinar_url": absolute_url("public.webinar", language=language, slug=webinar.slug)}

    subject = _l("Invitation: %(title)s", title=when_shown(webinar, "title"))
    english, french = (render_message("invitation", context(language), language, subject) for language in ("en", "fr"))
    both = RenderedMessage(
        subject=english.subject if english.subject == french.subject else f"{english.subject} / {french.subject}",
        text=f"{english.text}\n\n----------\n\n{french.text}",
        html=None,  # plain text only: two HTML documents do not make one
    )
    queue_email(kind="invitation", recipient=invitation.email, subject=subject, template="invitation",
                context=context("en"), webinar=webinar, dedupe_key=f"invitation:{invitation.id}", rendered=both)


def find_invitation(webinar: Webinar, token: str | None) -> Invitation | None:
    """The usable invitation behind a link for this webinar; ``None`` if unknown, revoked or malformed."""
    if not token or not looks_like_token(token):
        return None
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if (invitation is None or invitation.webinar_id != webinar.id or invitation.revoked_at is not None
            or not token_matches(token, invitation.token_hash)):
        return None
    return invitation


def bound_to(invitation: Invitation, email: str) -> bool:
    """A link registers only the address it was sent to (compared case-insensitively)."""
    return normalise_email(email) == invitation.email_normalised


def link_registration(invitation: Invitation, registration: Registration) -> None:
    """Remember which registration an invitation became (new, or the one already active)."""
    invitation.registration_id = registration.id


def revoke(invitation: Invitation) -> bool:
    """Withdraw the link (idempotent); a registration already made is left to the organiser."""
    if invitation.revoked_at is not None:
        return False
    invitation.revoked_at = utcnow()
    return True


def state_of(invitation: Invitation) -> InvitationState:
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    registration = invitation.registration
    if registration is None:
        return InvitationState.INVITED
    if registration.status == RegistrationStatus.DECLINED:
        return InvitationState.DECLINED
    if registration.status == RegistrationStatus.CANCELLED:
        return InvitationState.CANCELLED
    return InvitationState.REGISTERED


def invitations_of(webinar: Webinar) -> list[Invitation]:
    """Every invitation with its registration, in one query."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.webinar_id == webinar.id)
        .options(joinedload(Invitation.registration))
        .order_by(func.lower(Invitation.full_name), Invitation.id)
    ))


def tally(invitations: list[Invitation]) -> dict[InvitationState, int]:
    counts = dict.fromkeys(InvitationState, 0)
    for invitation in invitations:
        counts[state_of(invitation)] += 1
    return counts
