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

from portal.models import RegistrationStatus, Sector, WebinarStatus
from portal.registration.forms import REGION_LABELS, SECTOR_LABELS

# The same English word may need a different French one ("Publié" for a webinar,
# "Publiée" for a series; "Annulée" for a registration): each map has its own context.

WEBINAR_STATUS_LABELS = {
    WebinarStatus.DRAFT: lazy_pgettext("webinar status", "Draft"),
    WebinarStatus.PUBLISHED: lazy_pgettext("webinar status", "Published"),
    WebinarStatus.CANCELLED: lazy_pgettext("webinar status", "Cancelled"),
}

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: lazy_pgettext("registration status", "Confirmed"),
    RegistrationStatus.WAITLISTED: lazy_pgettext("registration status", "Waiting list"),
    RegistrationStatus.CANCELLED: lazy_pgettext("registration status", "Cancelled"),
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
    "move_up": lazy_pgettext("audit action", "Moved up from the waiting list"),
    "export": lazy_pgettext("audit action", "Exported"),
    "email": lazy_pgettext("audit action", "Emailed registrants"),
    "login": lazy_pgettext("audit action", "Signed in"),
    "login_failed": lazy_pgettext("audit action", "Sign-in failed"),
    "logout": lazy_pgettext("audit action", "Signed out"),
    "password": lazy_pgettext("audit action", "Password changed"),
    "unlock": lazy_pgettext("audit action", "Account unlocked"),
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
    "site_identity": lazy_pgettext("record kind", "Site identity"),
}

#: Enums name their own map, so ``label`` needs no second argument for them. Keyed
#: by class because the members are strings: ``WebinarStatus.CANCELLED ==
#: RegistrationStatus.CANCELLED``, and one merged map would give one of them the wrong word.
_BY_ENUM: dict[type[enum.Enum], dict] = {
    WebinarStatus: WEBINAR_STATUS_LABELS,
    RegistrationStatus: REGISTRATION_STATUS_LABELS,
    Sector: SECTOR_LABELS,
}

_BY_KIND: dict[str, dict] = {
    "audit_action": AUDIT_ACTION_LABELS,
    "record_kind": RECORD_KIND_LABELS,
    "region": REGION_LABELS,
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
