"""Organiser dashboard: everything under /organiser/, behind login and a role.

Views are split by topic; each module attaches its routes to ``bp``.
"""

from flask import Blueprint

bp = Blueprint("organiser", __name__)

from portal.organiser import (  # noqa: E402,F401  (routes attach themselves to bp)
    account_views,
    after_views,
    attendance_views,
    audit_views,
    auth_views,
    dashboard_views,
    feedback_views,
    identity_views,
    invitation_views,
    panel_views,
    programme_views,
    question_views,
    registration_views,
    translation_views,
)
