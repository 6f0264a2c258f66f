"""All models, imported here so Alembic and the app see the whole schema."""

from portal.models.accounts import Organiser, Role
from portal.models.audit import AuditEvent
from portal.models.events import (
    KeyTheme,
    Objective,
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    ThemePoint,
    Webinar,
    WebinarLanguage,
    WebinarStatus,
)
from portal.models.feedback import FeedbackResponse, FeedbackSubmission, PresentationRating
from portal.models.outbox import OutboxMessage, OutboxStatus, WebinarMessage
from portal.models.publishing import ContentVersion
from portal.models.registrations import Registration, RegistrationStatus, Sector

__all__ = [
    "AuditEvent", "ContentVersion", "FeedbackResponse", "FeedbackSubmission", "KeyTheme", "Objective",
    "Organisation", "Organiser", "OutboxMessage", "OutboxStatus", "Presentation",
    "PresentationRating", "Presenter", "PresenterRole", "Registration",
    "RegistrationStatus", "Role", "Sector", "Series", "ThemePoint", "Webinar",
    "WebinarLanguage", "WebinarMessage", "WebinarStatus",
]
