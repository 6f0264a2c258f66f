"""Who may use which organiser page."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Role, Webinar

READERS = (Role.ADMIN, Role.ORGANISER, Role.VIEWER)
EDITORS = (Role.ADMIN, Role.ORGANISER)
ADMINS = (Role.ADMIN,)


def role_required(*roles: Role):
    """Login first (redirect to the login page), then 403 for a role that may not.

    The allowed roles are kept on the view (``allowed_roles``) so a test can walk
    the URL map and check every page against them.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        guarded.allowed_roles = tuple(roles)
        return guarded

    return decorator


def webinar_or_404(webinar_id: int) -> Webinar:
    """The webinar an organiser page is about, with its series (every such page shows it)."""
    return db.session.scalars(
        db.select(Webinar).where(Webinar.id == webinar_id).options(joinedload(Webinar.series))
    ).first() or abort(404)
