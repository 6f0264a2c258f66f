"""An organiser's session, ended on the server: by logout, idleness, age or a new password.

Flask keeps the session in a signed cookie, so the server cannot delete it; instead each
sign-in stamps the session with the organiser's ``session_version`` and the time, and
the user loader (every request) accepts the session only while:

- the stamp still equals ``organiser.session_version`` (logout and a password change
  raise it, so every cookie stamped before, copies included, stops working);
- it was used within ``ORGANISER_IDLE_MINUTES`` (default 60);
- it was signed in within ``ORGANISER_SESSION_HOURS`` (default 12).

A session without the stamp (a remember-me cookie, an old cookie) is refused, so nothing
bypasses these rules. The check reuses the organiser row the loader reads anyway: no
extra query.
"""

from __future__ import annotations

from flask import current_app, session

from portal.extensions import db
from portal.models import Organiser
from portal.models.types import parse_id, utcnow

VERSION_KEY = "organiser_session_version"
SIGNED_IN_KEY = "organiser_signed_in_at"
SEEN_KEY = "organiser_seen_at"
#: The last-seen time is written back at most this often, so most pages send no new cookie.
SEEN_PRECISION_SECONDS = 60


def _now() -> float:
    return utcnow().timestamp()


def start(organiser: Organiser) -> None:
    """Stamp the (fresh) session of an organiser who just signed in."""
    now = _now()
    session[VERSION_KEY] = organiser.session_version
    session[SIGNED_IN_KEY] = now
    session[SEEN_KEY] = now


def _expired(now: float) -> bool:
    signed_in_at, seen_at = session.get(SIGNED_IN_KEY), session.get(SEEN_KEY)
    if not isinstance(signed_in_at, (int, float)) or not isinstance(seen_at, (int, float)):
        return True
    idle_limit = current_app.config["ORGANISER_IDLE_MINUTES"] * 60
    lifetime = current_app.config["ORGANISER_SESSION_HOURS"] * 3600
    return now - seen_at > idle_limit or now - signed_in_at > lifetime


def signed_in_organiser(organiser_id: str) -> Organiser | None:
    """Flask-Login's user loader: the organiser, or None when the session has ended."""
    if parse_id(organiser_id) is None:
        return None
    now = _now()
    if VERSION_KEY not in session or _expired(now):
        return None
    organiser = db.session.get(Organiser, int(organiser_id))
    if organiser is None or organiser.session_version != session[VERSION_KEY]:
        return None
    if now - session[SEEN_KEY] >= SEEN_PRECISION_SECONDS:
        session[SEEN_KEY] = now
    return organiser


def end_all(organiser: Organiser) -> None:
    """Every session of this organiser stops working (logout); the caller commits."""
    organiser.session_version = (organiser.session_version or 0) + 1


def end_others(organiser: Organiser) -> None:
    """Every other session stops working; this request's session carries on (password change)."""
    end_all(organiser)
    session[VERSION_KEY] = organiser.session_version
