"""How stored codes read on the pages: the translated word for a status, an audit
action or a kind of record, so a French-speaking organiser never sees ``waitlisted``.

Templates use the ``label`` filter registered in ``portal.web``:
``{{ webinar.status | label }}`` for an enum, ``{{ event.action | label("audit_action") }}``
for a plain string. The labels are lazy: the maps are built once at import and
each word is translated in the language of the request that shows it.

Sectors and regions keep their words in the registration form (``SECTOR_LABELS``,
``REGION_LABELS``), where registrants choose them; they are reused here, not copied.
"""

from __future__ import annotations

import enum
import unicodedata

from flask_babel import lazy_pgettext

from portal.models import (
    DeclineReason,
    PanelQuestionStatus,
    QuestionKind,
    RegistrationStatus,
    Sector,
    WebinarAudience,
    WebinarStatus,
)
from portal.registration.forms import REGION_LABELS, SECTOR_LABELS

# The same English word may need a different French one ("Publié" for a webinar,
# "Publiée" for a series; "Annulée" for a registration): each map has its own context.

WEBINAR_STATUS_LABELS = {
    WebinarStatus.DRAFT: lazy_pgettext("webinar status", "Draft"),
    WebinarStatus.PUBLISHED: lazy_pgettext("webinar status", "Published"),
    WebinarStatus.CANCELLED: lazy_pgettext("webinar status", "Cancelled"),
}

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.PENDING: lazy_pgettext("registration status", "Awaiting approval"),
    RegistrationStatus.DECLINED: lazy_pgettext("registration status", "Declined"),
    RegistrationStatus.CONFIRMED: lazy_pgettext("registration status", "Confirmed"),
    RegistrationStatus.WAITLISTED: lazy_pgettext("registration status", "Waiting list"),
    RegistrationStatus.CANCELLED: lazy_pgettext("registration status", "Cancelled"),
}

WEBINAR_AUDIENCE_LABELS = {
    WebinarAudience.PUBLIC: lazy_pgettext("webinar audience", "Open to everyone"),
    WebinarAudience.APPROVAL: lazy_pgettext("webinar audience", "Every registration approved by an organiser"),
    WebinarAudience.RESTRICTED: lazy_pgettext("webinar audience",
                                              "Allowed email domains at once, others approved by an organiser"),
    WebinarAudience.INVITATION: lazy_pgettext("webinar audience", "By invitation only"),
}

#: What a visitor reads on the public page of a webinar that is not open to everyone.
AUDIENCE_EXPLANATIONS = {
    WebinarAudience.APPROVAL: lazy_pgettext(
        "audience explanation",
        "This session is for a specific audience: an organiser reviews every registration before a place "
        "is offered. The link to join is sent only to approved participants."),
    WebinarAudience.RESTRICTED: lazy_pgettext(
        "audience explanation",
        "This session is for a vetted professional audience. Registrations from the email domains below "
        "are confirmed at once; others are reviewed by an organiser. The link to join is sent only to "
        "confirmed participants."),
    WebinarAudience.INVITATION: lazy_pgettext(
        "audience explanation",
        "This session is by invitation only: registration is possible only through the personal link in an "
        "invitation email. The link to join is sent only to confirmed participants."),
}

DECLINE_REASON_LABELS = {
    DeclineReason.NOT_ELIGIBLE: lazy_pgettext("decline reason", "Outside the intended audience"),
    DeclineReason.NOT_VERIFIED: lazy_pgettext("decline reason", "Affiliation could not be verified"),
    DeclineReason.NO_SPACE: lazy_pgettext("decline reason", "More requests than places"),
    DeclineReason.OTHER: lazy_pgettext("decline reason", "Other (explained in the note)"),
}

#: The sentence the declined person reads in their email, in their language.
DECLINE_EXPLANATIONS = {
    "not_eligible": lazy_pgettext(
        "decline explanation", "This session is reserved for a specific professional audience."),
    "not_verified": lazy_pgettext(
        "decline explanation",
        "We could not confirm your professional affiliation from the details you gave. Registering with your "
        "work email address usually helps."),
    "no_space": lazy_pgettext(
        "decline explanation", "We received many more requests than the session has places."),
    "other": lazy_pgettext("decline explanation", "The organisers explain why below."),
}

INVITATION_STATE_LABELS = {
    "invited": lazy_pgettext("invitation state", "Invited"),
    "registered": lazy_pgettext("invitation state", "Registered"),
    "declined": lazy_pgettext("invitation state", "Declined"),
    "cancelled": lazy_pgettext("invitation state", "Cancelled"),
    "revoked": lazy_pgettext("invitation state", "Revoked"),
}

QUESTION_KIND_LABELS = {
    QuestionKind.SHORT_TEXT: lazy_pgettext("question kind", "Short text"),
    QuestionKind.LONG_TEXT: lazy_pgettext("question kind", "Long text"),
    QuestionKind.ONE_CHOICE: lazy_pgettext("question kind", "One choice"),
    QuestionKind.SEVERAL_CHOICES: lazy_pgettext("question kind", "Several choices"),
    QuestionKind.YES_NO: lazy_pgettext("question kind", "Yes / no"),
    QuestionKind.NUMBER: lazy_pgettext("question kind", "Number"),
    QuestionKind.DATE: lazy_pgettext("question kind", "Date"),
}

PANEL_QUESTION_STATUS_LABELS = {
    PanelQuestionStatus.NEW: lazy_pgettext("panel question status", "New"),
    PanelQuestionStatus.APPROVED: lazy_pgettext("panel question status", "Approved"),
    PanelQuestionStatus.HIDDEN: lazy_pgettext("panel question status", "Hidden"),
    PanelQuestionStatus.MERGED: lazy_pgettext("panel question status", "Merged"),
    PanelQuestionStatus.ANSWERED: lazy_pgettext("panel question status", "Answered"),
}

#: Every action passed to ``portal.services.audit.record``; add the word when adding an action.
AUDIT_ACTION_LABELS = {
    "create": lazy_pgettext("audit action", "Created"),
    "update": lazy_pgettext("audit action", "Updated"),
    "delete": lazy_pgettext("audit action", "Deleted"),
    "publish": lazy_pgettext("audit action", "Published"),
    "unpublish": lazy_pgettext("audit action", "Unpublished"),
    "reorder": lazy_pgettext("audit action", "Reordered"),
    "cancel": lazy_pgettext("audit action", "Cancelled"),
    "activate": lazy_pgettext("audit action", "Account activated"),
    "deactivate": lazy_pgettext("audit action", "Account deactivated"),
    "attendance": lazy_pgettext("audit action", "Attendance changed"),
    "attendance_import": lazy_pgettext("audit action", "Attendance report imported"),
    "attendance_threshold": lazy_pgettext("audit action", "Attendance threshold changed"),
    "attendance_match": lazy_pgettext("audit action", "Report attendee matched by hand"),
    "attendance_final": lazy_pgettext("audit action", "Attendance marked final"),
    "move_up": lazy_pgettext("audit action", "Moved up from the waiting list"),
    "approve": lazy_pgettext("audit action", "Registration approved"),
    "decline": lazy_pgettext("audit action", "Registration declined"),
    "invite": lazy_pgettext("audit action", "Invited"),
    "revoke": lazy_pgettext("audit action", "Invitation revoked"),
    "moderate": lazy_pgettext("audit action", "Question moderated"),
    "export": lazy_pgettext("audit action", "Exported"),
    "email": lazy_pgettext("audit action", "Emailed registrants"),
    "login": lazy_pgettext("audit action", "Signed in"),
    "login_failed": lazy_pgettext("audit action", "Sign-in failed"),
    "logout": lazy_pgettext("audit action", "Signed out"),
    "password": lazy_pgettext("audit action", "Password changed"),
    "unlock": lazy_pgettext("audit action", "Account unlocked"),
    "certificate_revoked": lazy_pgettext("audit action", "Certificate revoked"),
    "webinar_after_settings": lazy_pgettext("audit action", "Certificate hours or materials visibility changed"),
    "series_certificate_rule": lazy_pgettext("audit action", "Series certificate rule changed"),
    "material_added": lazy_pgettext("audit action", "Material added"),
    "material_removed": lazy_pgettext("audit action", "Material removed"),
    "followup_sent": lazy_pgettext("audit action", "Follow-up sent"),
}

#: Every ``target_type`` the audit trail stores: table names, or the plain strings
#: ``record`` is given once the row is gone (a delete) or never existed (a failed login).
RECORD_KIND_LABELS = {
    "series": lazy_pgettext("record kind", "Series"),
    "key_theme": lazy_pgettext("record kind", "Key theme"),
    "webinar": lazy_pgettext("record kind", "Webinar"),
    "presentation": lazy_pgettext("record kind", "Presentation"),
    "presenter": lazy_pgettext("record kind", "Presenter"),
    "organisation": lazy_pgettext("record kind", "Organisation"),
    "organiser": lazy_pgettext("record kind", "Organiser account"),
    "registration": lazy_pgettext("record kind", "Registration"),
    "invitation": lazy_pgettext("record kind", "Invitation"),
    "question": lazy_pgettext("record kind", "Registration question"),
    "panel_question": lazy_pgettext("record kind", "Question for the presenters"),
    "certificate": lazy_pgettext("record kind", "Certificate"),
    "material": lazy_pgettext("record kind", "Material"),
    "site_identity": lazy_pgettext("record kind", "Site identity"),
}

#: Enums name their own map, so ``label`` needs no second argument for them. Keyed
#: by class because the members are strings: ``WebinarStatus.CANCELLED ==
#: RegistrationStatus.CANCELLED``, and one merged map would give one of them the wrong word.
_BY_ENUM: dict[type[enum.Enum], dict] = {
    WebinarStatus: WEBINAR_STATUS_LABELS,
    RegistrationStatus: REGISTRATION_STATUS_LABELS,
    Sector: SECTOR_LABELS,
    WebinarAudience: WEBINAR_AUDIENCE_LABELS,
    DeclineReason: DECLINE_REASON_LABELS,
    QuestionKind: QUESTION_KIND_LABELS,
    PanelQuestionStatus: PANEL_QUESTION_STATUS_LABELS,
}

_BY_KIND: dict[str, dict] = {
    "audit_action": AUDIT_ACTION_LABELS,
    "record_kind": RECORD_KIND_LABELS,
    "region": REGION_LABELS,
    "decline_explanation": DECLINE_EXPLANATIONS,
    "audience_explanation": AUDIENCE_EXPLANATIONS,
    "invitation_state": INVITATION_STATE_LABELS,
}


def label(value, kind: str | None = None) -> str:
    """The translated word for ``value``, in the current language.

    ``value`` is an enum member (its class picks the words) or a stored string
    with ``kind`` one of "audit_action", "record_kind", "region". ``None`` and
    "" give "". A value without a word (an action recorded by an older version)
    comes back unchanged rather than hidden; an unknown ``kind`` is a programming
    error and raises ``KeyError``.
    """
    if value is None or value == "":
        return ""
    labels = _BY_KIND[kind] if kind is not None else _BY_ENUM.get(type(value), {})
    word = labels.get(value)
    return str(word) if word is not None else str(value)


def choices(values, kind: str | None = None) -> list[tuple[str, str]]:
    """``(value, word)`` pairs for a filter's ``<select>``, in the reader's alphabetical order.

    The option value stays the stored code, so links and bookmarks work in either language.
    """
    pairs = [(str(value), label(value, kind)) for value in values]
    return sorted(pairs, key=lambda pair: _sort_key(pair[1]))


def _sort_key(word: str) -> str:
    # "Échec…" belongs with the E's, not after "Z".
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
